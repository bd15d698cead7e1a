package journal

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOSFSRefusesLinks: a link planted as a journal file does not make the
// journal append to, or truncate, the link's target.
func TestOSFSRefusesLinks(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o600)
	link := filepath.Join(dir, "journal.jsonl")
	os.Symlink(victim, link)
	fs := OSFS()
	if f, err := fs.OpenAppend(link); err == nil {
		f.Write([]byte("record\n"))
		f.Close()
		t.Error("OpenAppend followed a link")
	}
	if f, err := fs.Create(link); err == nil {
		f.Close()
		t.Error("Create followed a link")
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("victim = %q", b)
	}
}
