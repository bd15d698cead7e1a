package kiosk

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCardCacheNotThroughLink: a link planted as the card cache is not read.
func TestCardCacheNotThroughLink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte(`{"salt":"00"}`), 0o600)
	link := filepath.Join(dir, "cards.cache")
	os.Symlink(victim, link)
	if _, err := OpenCardCache(link, nil); err == nil {
		t.Error("opened the card cache through a link")
	}
}
