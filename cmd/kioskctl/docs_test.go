package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The package ships kioskctl(8), a page per subcommand and the bash
// completion, all written from the commands --help prints, and
// packaging/nfpm.yaml installs them where man and bash look.
func TestManPagesAndCompletionGeneratedAndPackaged(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if code := run(context.Background(), &env{stdout: &out, stderr: &out}, []string{"gen-docs", dir}); code != 0 {
		t.Fatalf("gen-docs: exit %d\n%s", code, out.String())
	}
	for path := range everyCommand(t) {
		page := filepath.Join(dir, "man8", "kioskctl-"+strings.ReplaceAll(path, " ", "-")+".8")
		b, err := os.ReadFile(page)
		if err != nil {
			t.Errorf("no man page for kioskctl %s: %v", path, err)
			continue
		}
		if !strings.Contains(string(b), `"8"`) || !strings.Contains(string(b), "SYNOPSIS") {
			t.Errorf("%s is not a section 8 man page", page)
		}
	}
	root, err := os.ReadFile(filepath.Join(dir, "man8", "kioskctl.8"))
	if err != nil || !strings.Contains(string(root), `\fBkioskctl-check-config(8)\fP`) {
		t.Errorf("kioskctl.8 does not refer to its subcommands' pages (%v)", err)
	}
	check, _ := os.ReadFile(filepath.Join(dir, "man8", "kioskctl-check-config.8"))
	if !strings.Contains(string(check), "Exit codes: 0 every check passed") {
		t.Errorf("kioskctl-check-config.8 lacks the exit codes:\n%s", check)
	}
	comp, err := os.ReadFile(filepath.Join(dir, "bash-completion", "kioskctl"))
	if err != nil || !strings.Contains(string(comp), "__start_kioskctl") {
		t.Fatalf("no bash completion for kioskctl (%v)", err)
	}

	// Subcommands, flags and port names come from kioskctl itself at
	// completion time (cobra's __complete): ask it as bash would.
	out.Reset()
	run(context.Background(), &env{stdout: &out, stderr: &bytes.Buffer{}}, []string{"__complete", "che"})
	if !strings.Contains(out.String(), "check-config") {
		t.Errorf("completing 'che': %q", out.String())
	}
	out.Reset()
	run(context.Background(), &env{stdout: &out, stderr: &bytes.Buffer{}}, []string{"__complete", "probe", "--protocol", ""})
	for _, p := range protocolNames() {
		if !strings.Contains(out.String(), p) {
			t.Errorf("completing --protocol lacks %s: %q", p, out.String())
		}
	}

	nfpm, err := os.ReadFile(filepath.Join("..", "..", "packaging", "nfpm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"src: ${DOCDIR}/man8/*.8.gz\n    dst: /usr/share/man/man8/",
		"src: ${DOCDIR}/bash-completion/kioskctl\n    dst: /usr/share/bash-completion/completions/kioskctl",
	} {
		if !strings.Contains(string(nfpm), want) {
			t.Errorf("packaging/nfpm.yaml lacks\n%s", want)
		}
	}
	build, _ := os.ReadFile(filepath.Join("..", "..", "packaging", "build.sh"))
	if !strings.Contains(string(build), "./cmd/kioskctl gen-docs") || !strings.Contains(string(build), "./cmd/kioskd --gen-docs") {
		t.Error("packaging/build.sh does not generate the docs")
	}
}
