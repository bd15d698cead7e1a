#!/usr/bin/env bash
# Build static kioskd/kioskctl binaries and Debian packages.
#
#   packaging/build.sh                 # arm64, armhf (GOARM=7) and amd64 into dist/
#   packaging/build.sh arm64           # one architecture
#   BINARIES_ONLY=1 packaging/build.sh # binaries, no .deb
#   PREBUILT=dir packaging/build.sh amd64  # package binaries built elsewhere
#
# Version: `git describe --tags --always --dirty`, else the VERSION file,
# else 0.0.0-dev. nfpm runs as `go tool nfpm` (a tool dependency in go.mod).
#
# Toolchain: release binaries are built with the Go named in
# packaging/release-toolchain (GOTOOLCHAIN; the go command fetches it from
# the module proxy once), not the machine's Go: go1.26.8 links known
# crypto/x509, crypto/tls and net/http vulnerabilities into kioskd.
# RELEASE_TOOLCHAIN overrides it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
export GOTOOLCHAIN="${RELEASE_TOOLCHAIN:-$(tr -d ' \n' < packaging/release-toolchain)}"
echo "build.sh: $(go version)" >&2

version=""
if command -v git >/dev/null && git rev-parse --git-dir >/dev/null 2>&1; then
	version=$(git describe --tags --always --dirty 2>/dev/null || true)
fi
[ -z "$version" ] && [ -f VERSION ] && version=$(tr -d ' \n' < VERSION)
[ -z "$version" ] && version=0.0.0-dev
# Debian versions must start with a digit.
debversion=$version
[[ $debversion =~ ^[0-9] ]] || debversion="0.0.0~git.$debversion"
debversion=${debversion//-/\~}

archs=("$@")
[ ${#archs[@]} -eq 0 ] && archs=(arm64 armhf amd64)
out=${DIST:-dist}
mkdir -p "$out"

# Man pages and bash completion, written by the binaries' own command
# definitions (cobra/doc) on this host, so they match --help. Gzipped as
# Debian policy wants; -n and SOURCE_DATE_EPOCH keep the package reproducible.
docdir="$out/docs"
if [ -z "${BINARIES_ONLY:-}" ]; then
	rm -rf "$docdir"
	export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
	go run -ldflags "-X main.version=$version" ./cmd/kioskd --gen-docs "$docdir"
	go run -ldflags "-X main.version=$version" ./cmd/kioskctl gen-docs "$docdir"
	gzip -9n "$docdir"/man8/*.8
fi

for arch in "${archs[@]}"; do
	case $arch in
	arm64) goarch=arm64 goarm= ;;
	armhf) goarch=arm goarm=7 ;;
	amd64) goarch=amd64 goarm= ;;
	*) echo "build.sh: unknown architecture $arch (arm64, armhf, amd64)" >&2; exit 2 ;;
	esac
	bindir="$out/$arch"
	mkdir -p "$bindir"
	for cmd in kioskd kioskctl; do
		[ -n "${PREBUILT:-}" ] && { cp "$PREBUILT/$cmd" "$bindir/$cmd"; continue; }
		CGO_ENABLED=0 GOOS=linux GOARCH=$goarch GOARM=$goarm \
			go build -trimpath -buildvcs=false \
			-ldflags "-s -w -X main.version=$version" \
			-o "$bindir/$cmd" "./cmd/$cmd"
		[ -n "${PREBUILT:-}" ] || built=$(go version "$bindir/$cmd" | awk '{print $2}')
		if [ -z "${PREBUILT:-}" ] && [ "$built" != "$GOTOOLCHAIN" ]; then
			echo "build.sh: $bindir/$cmd was built with $built, not $GOTOOLCHAIN" >&2; exit 1
		fi
	done
	if [ -z "${BINARIES_ONLY:-}" ]; then
		# nfpm does not expand variables in contents: fill them in here.
		sed -e "s#\${ARCH}#$arch#g" -e "s#\${VERSION}#$debversion#g" -e "s#\${BINDIR}#$bindir#g" \
			-e "s#\${DOCDIR}#$docdir#g" \
			packaging/nfpm.yaml > "$out/nfpm-$arch.yaml"
		go tool nfpm package --config "$out/nfpm-$arch.yaml" --packager deb --target "$out/"
	fi
done
ls -l "$out"/*.deb 2>/dev/null || true
