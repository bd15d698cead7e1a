package kiosk

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/printroom/voucherkiosk/kiosk/statedir"
)

// CardCache remembers card -> user from MyQ's answers, for the day MyQ is
// unreachable: a known student is then greeted by name and booked to the
// right account without a lookup. It is a cache, not money: a corrupt file
// is logged and replaced.
//
// On disk (mode 0600, written atomically) the card numbers are SHA-256
// hashes, salted with a random per-file salt so a stolen file cannot be
// matched against a precomputed table of card numbers.
type CardCache struct {
	mu      sync.Mutex
	path    string
	log     *slog.Logger
	salt    []byte
	entries map[string]cacheEntry // hash -> user
	ttl     time.Duration         // entries older than this are not used; 0: DefaultCardCacheTTL
}

// DefaultCardCacheTTL is how long a cached card -> user answer is trusted
// ([kiosk] card_cache_ttl): cards change owners (lost, reissued).
const DefaultCardCacheTTL = 30 * 24 * time.Hour

// SetTTL sets how long an entry is trusted (<= 0: DefaultCardCacheTTL).
func (c *CardCache) SetTTL(d time.Duration) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.ttl = d
	c.mu.Unlock()
}

// MaxCardCacheEntries bounds the file; the least recently seen go first.
const MaxCardCacheEntries = 20000

// maxCardCacheFile is the largest file read: anything bigger is not ours.
const maxCardCacheFile = 16 << 20

type cacheEntry struct {
	ID       int64     `json:"id"`
	Username string    `json:"username,omitempty"`
	FullName string    `json:"full_name,omitempty"`
	Seen     time.Time `json:"seen"`
}

type cacheFile struct {
	Version int                   `json:"version"`
	Salt    string                `json:"salt"`
	Entries map[string]cacheEntry `json:"entries"`
}

// OpenCardCache loads the cache at path (missing: empty). A file that cannot
// be parsed is logged and the cache starts empty; only an unreadable file
// (permissions, I/O) is an error.
func OpenCardCache(path string, log *slog.Logger) (*CardCache, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &CardCache{path: path, log: log, entries: map[string]cacheEntry{}}
	f, err := statedir.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		c.salt = newSalt()
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("card cache: open %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCardCacheFile+1))
	if err != nil {
		return nil, fmt.Errorf("card cache: read %s: %w", path, err)
	}
	cf, err := parseCardCache(b)
	if err != nil {
		log.Warn("card cache: unusable file, starting empty", "path", path, "err", err)
		c.salt = newSalt()
		return c, nil
	}
	c.salt, _ = hex.DecodeString(cf.Salt)
	c.entries = cf.Entries
	return c, nil
}

// parseCardCache checks a cache file read from disk.
func parseCardCache(b []byte) (cacheFile, error) {
	var cf cacheFile
	if len(b) > maxCardCacheFile {
		return cf, fmt.Errorf("card cache: file larger than %d bytes", maxCardCacheFile)
	}
	if err := json.Unmarshal(b, &cf); err != nil {
		return cf, fmt.Errorf("card cache: parse: %w", err)
	}
	if cf.Version != 1 {
		return cf, fmt.Errorf("card cache: version %d, want 1", cf.Version)
	}
	salt, err := hex.DecodeString(cf.Salt)
	if err != nil || len(salt) < 16 {
		return cf, fmt.Errorf("card cache: bad salt %q", cf.Salt)
	}
	if len(cf.Entries) > MaxCardCacheEntries {
		return cf, fmt.Errorf("card cache: %d entries, at most %d", len(cf.Entries), MaxCardCacheEntries)
	}
	for h, e := range cf.Entries {
		if raw, err := hex.DecodeString(h); err != nil || len(raw) != sha256.Size {
			return cf, fmt.Errorf("card cache: entry key %q is not a SHA-256 hash", h)
		}
		if e.ID <= 0 {
			return cf, fmt.Errorf("card cache: entry %.12s…: user id %d", h, e.ID)
		}
	}
	if cf.Entries == nil {
		cf.Entries = map[string]cacheEntry{}
	}
	return cf, nil
}

func newSalt() []byte {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return b
}

func (c *CardCache) hash(card string) string {
	h := sha256.New()
	h.Write(c.salt)
	h.Write([]byte(card))
	return hex.EncodeToString(h.Sum(nil))
}

// Get returns the cached user of card (Balance nil: a cached balance would
// be stale), unless the entry is older than the TTL at now. An entry "seen"
// in the future (the clock went backwards) is judged by its age alone when
// the clock passes it again; until then it is trusted no longer than the TTL
// from now on, so a wrong clock cannot keep an entry forever.
func (c *CardCache) Get(card string, now time.Time) (User, bool) {
	if c == nil || card == "" {
		return User{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[c.hash(card)]
	if !ok {
		return User{}, false
	}
	ttl := c.ttl
	if ttl <= 0 {
		ttl = DefaultCardCacheTTL
	}
	if age := now.Sub(e.Seen); age > ttl || age < -ttl {
		return User{}, false
	}
	return User{ID: e.ID, Username: e.Username, FullName: e.FullName}, true
}

// Put remembers card -> u and writes the file. An unchanged entry seen
// within the last hour is not rewritten, to spare the SD card.
func (c *CardCache) Put(card string, u User, now time.Time) error {
	if c == nil || card == "" || u.ID <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.hash(card)
	old, had := c.entries[h]
	e := cacheEntry{ID: u.ID, Username: u.Username, FullName: u.FullName, Seen: now.UTC()}
	if had && old.ID == e.ID && old.Username == e.Username && old.FullName == e.FullName && now.Sub(old.Seen) < time.Hour {
		return nil
	}
	c.entries[h] = e
	c.evict()
	if err := c.write(); err != nil {
		return err
	}
	return nil
}

// Remove forgets card (MyQ said it is not registered) and writes the file.
func (c *CardCache) Remove(card string) error {
	if c == nil || card == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.hash(card)
	if _, ok := c.entries[h]; !ok {
		return nil
	}
	delete(c.entries, h)
	return c.write()
}

// Len is the number of cached cards.
func (c *CardCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func (c *CardCache) evict() {
	if len(c.entries) <= MaxCardCacheEntries {
		return
	}
	keys := make([]string, 0, len(c.entries))
	for k := range c.entries {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return c.entries[keys[i]].Seen.Before(c.entries[keys[j]].Seen) })
	for _, k := range keys[:len(keys)-MaxCardCacheEntries] {
		delete(c.entries, k)
	}
}

// write replaces the file atomically: temp file, fsync, rename, fsync dir.
func (c *CardCache) write() error {
	b, err := json.Marshal(cacheFile{Version: 1, Salt: hex.EncodeToString(c.salt), Entries: c.entries})
	if err != nil {
		return fmt.Errorf("card cache: encode: %w", err)
	}
	dir := filepath.Dir(c.path)
	tmp, err := os.CreateTemp(dir, filepath.Base(c.path)+".tmp*")
	if err != nil {
		return fmt.Errorf("card cache: create temp in %s: %w", dir, err)
	}
	name := tmp.Name()
	fail := func(op string, err error) error {
		tmp.Close()
		os.Remove(name)
		return fmt.Errorf("card cache: %s %s: %w", op, name, err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		return fail("chmod", err)
	}
	if _, err := tmp.Write(b); err != nil {
		return fail("write", err)
	}
	if err := tmp.Sync(); err != nil {
		return fail("sync", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return fmt.Errorf("card cache: close %s: %w", name, err)
	}
	if err := os.Rename(name, c.path); err != nil {
		os.Remove(name)
		return fmt.Errorf("card cache: rename to %s: %w", c.path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("card cache: open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("card cache: sync dir %s: %w", dir, err)
	}
	return nil
}
