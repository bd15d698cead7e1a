package statedir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	good := t.TempDir()
	if err := os.Chmod(good, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := Check(good); err != nil {
		t.Fatalf("0700 dir of ours refused: %v", err)
	}
	open := filepath.Join(t.TempDir(), "open")
	os.Mkdir(open, 0o755)
	os.Chmod(open, 0o755)
	if err := Check(open); err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Errorf("0755 dir: %v", err)
	}
	link := filepath.Join(t.TempDir(), "link")
	os.Symlink(good, link)
	if err := Check(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("symlinked dir: %v", err)
	}
	if os.Geteuid() == 0 {
		other := filepath.Join(t.TempDir(), "other")
		os.Mkdir(other, 0o700)
		os.Chown(other, 4242, 4242)
		if err := Check(other); err == nil || !strings.Contains(err.Error(), "uid 4242") {
			t.Errorf("dir of another user: %v", err)
		}
	}
}

// TestOpenFileRefusesLinks: a link planted where the daemon appends its log
// or writes a file does not make it write to the link's target.
func TestOpenFileRefusesLinks(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o600)
	link := filepath.Join(dir, "kioskd.log")
	os.Symlink(victim, link)
	if f, err := OpenFile(link, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
		f.WriteString("log line\n")
		f.Close()
		t.Error("opened through a link")
	} else if !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("error %v does not say symbolic link", err)
	}
	dangling := filepath.Join(dir, "cards.cache")
	os.Symlink(filepath.Join(dir, "created-elsewhere"), dangling)
	if f, err := OpenFile(dangling, os.O_WRONLY|os.O_CREATE, 0o600); err == nil {
		f.Close()
		t.Error("created a file at a dangling link's target")
	}
	if _, err := os.Stat(filepath.Join(dir, "created-elsewhere")); err == nil {
		t.Error("the link's target was created")
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("victim = %q", b)
	}
	if _, err := ReadFile(link, 100); err == nil {
		t.Error("ReadFile followed a link")
	}
	// WriteFile replaces the link itself, never the target.
	if err := WriteFile(link, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("victim = %q after WriteFile", b)
	}
	if b, err := ReadFile(link, 100); err != nil || string(b) != "new" {
		t.Errorf("ReadFile after WriteFile = %q, %v", b, err)
	}
}

func TestCheckUser(t *testing.T) {
	if err := CheckUser(0, false, false); err == nil || !strings.Contains(err.Error(), "--allow-root") {
		t.Errorf("root: %v", err)
	}
	for _, c := range [][3]any{{0, true, false}, {0, false, true}, {1000, false, false}} {
		if err := CheckUser(c[0].(int), c[1].(bool), c[2].(bool)); err != nil {
			t.Errorf("%v: %v", c, err)
		}
	}
}
