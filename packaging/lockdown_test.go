// Package packaging holds no Go code: this test checks that the Debian
// package's description (nfpm.yaml) ships the console lockdown of issue 14
// with the settings it promises. .ci/extra checks the built .deb itself.
package packaging

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPackageShipsLockdown(t *testing.T) {
	nfpm := read(t, "nfpm.yaml")
	// src → dst pairs of the contents list.
	pairs := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^  - src: (\S+)\n    dst: (\S+)\n(    type: (\S+)\n)?`).FindAllStringSubmatch(nfpm, -1) {
		pairs[m[2]] = m[1] + " " + m[4]
	}
	for dst, want := range map[string]struct {
		src      string
		settings []string
	}{
		"/usr/lib/sysctl.d/60-voucherkiosk.conf":                   {"packaging/lockdown/sysctl.conf", []string{`(?m)^kernel\.sysrq = 0$`, `(?m)^kernel\.printk = 3 4 1 3$`}},
		"/usr/lib/systemd/system.conf.d/60-voucherkiosk.conf":      {"packaging/lockdown/system.conf", []string{`(?m)^\[Manager\]$`, `(?m)^CtrlAltDelBurstAction=none$`}},
		"/usr/lib/systemd/logind.conf.d/60-voucherkiosk.conf":      {"packaging/lockdown/logind.conf", []string{`(?m)^\[Login\]$`, `(?m)^NAutoVTs=0$`, `(?m)^ReserveVT=0$`}},
		"/etc/systemd/system/kioskd.service.d/10-myq-network.conf": {"systemd/kioskd.service.d/10-myq-network.conf", []string{`(?m)^IPAddressAllow=`}},
		"/lib/systemd/system/kioskd.service": {"systemd/kioskd.service", []string{
			`(?m)^ExecStartPre=-\+/usr/bin/kioskd --lock-vt /dev/tty1$`,
			`(?m)^ExecStopPost=\+/usr/bin/kioskd --unlock-vt /dev/tty1$`,
			`(?m)^LoadCredential=technician-pin:/etc/kioskd/technician-pin$`,
			`(?m)^IPAddressDeny=any$`,
			`(?m)^IPAddressAllow=localhost$`,
		}},
	} {
		got, ok := pairs[dst]
		if !ok || !strings.HasPrefix(got, want.src+" ") {
			t.Errorf("nfpm.yaml does not ship %s from %s (has %q)", dst, want.src, got)
			continue
		}
		text := read(t, "../"+want.src)
		for _, re := range want.settings {
			if !regexp.MustCompile(re).MatchString(text) {
				t.Errorf("%s lacks %s", want.src, re)
			}
		}
	}
	if got := pairs["/etc/systemd/system/ctrl-alt-del.target"]; got != "/dev/null symlink" {
		t.Errorf("ctrl-alt-del.target is not masked (a symlink to /dev/null): %q", got)
	}
	if !strings.Contains(read(t, "postinst"), "install -o root -g root -m 0600 /dev/null /etc/kioskd/technician-pin") {
		t.Error("postinst does not create the technician-pin credential file")
	}
}
