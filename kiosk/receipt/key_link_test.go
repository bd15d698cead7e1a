package receipt

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestKeyNotThroughLink: a link planted as the receipt key is not followed,
// neither to read another private file as the key nor to create one.
func TestKeyNotThroughLink(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "someone-elses-secret")
	os.WriteFile(other, bytes.Repeat([]byte{7}, KeySize), 0o600)
	link := filepath.Join(dir, "receipt.key")
	os.Symlink(other, link)
	if _, err := LoadOrCreateKey(link); err == nil {
		t.Error("read the key through a link")
	}
	dangling := filepath.Join(dir, "receipt2.key")
	os.Symlink(filepath.Join(dir, "made-here"), dangling)
	LoadOrCreateKey(dangling)
	if _, err := os.Stat(filepath.Join(dir, "made-here")); err == nil {
		t.Error("created a key at a dangling link's target")
	}
}
