package kiosk

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/devices"
)

func TestCardCachePersistsHashedAndPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cards.json")
	c, err := OpenCardCache(path, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get("0012345678", t0); ok {
		t.Fatal("empty cache found a card")
	}
	if err := c.Put("0012345678", User{ID: 7, Username: "alice", FullName: "Alice", Balance: ptr(int64(5))}, t0); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v err %v", fi.Mode(), err)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), "12345678") {
		t.Fatal("card number stored in clear")
	}
	c2, err := OpenCardCache(path, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	u, ok := c2.Get("0012345678", t0)
	if !ok || u.ID != 7 || u.FullName != "Alice" || u.Balance != nil {
		t.Fatalf("reopened: %+v %v", u, ok)
	}
	if _, ok := c2.Get("0012345679", t0); ok {
		t.Fatal("wrong card matched")
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Fatalf("temp files left: %v", ents)
	}
}

func TestCardCacheCorruptStartsEmpty(t *testing.T) {
	for name, content := range map[string]string{
		"garbage":   "not json at all",
		"truncated": `{"version":1,"salt":"00112233445566778899aabbccddeeff","entries":{`,
		"bad key":   `{"version":1,"salt":"00112233445566778899aabbccddeeff","entries":{"1234":{"id":1}}}`,
		"version":   `{"version":9,"salt":"00112233445566778899aabbccddeeff","entries":{}}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cards.json")
			os.WriteFile(path, []byte(content), 0o600)
			c, err := OpenCardCache(path, testLog(t))
			if err != nil || c.Len() != 0 {
				t.Fatalf("err %v len %d", err, c.Len())
			}
			if err := c.Put("1", User{ID: 1}, t0); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func FuzzParseCardCache(f *testing.F) {
	f.Add([]byte(`{"version":1,"salt":"00112233445566778899aabbccddeeff","entries":{}}`))
	f.Add([]byte(`{"version":1,"salt":"zz","entries":null}`))
	f.Add([]byte(`{"version":1,"salt":"00112233445566778899aabbccddeeff","entries":{"` + strings.Repeat("ab", 32) + `":{"id":3,"seen":"2026-01-01T00:00:00Z"}}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cf, err := parseCardCache(b)
		if err == nil && (cf.Entries == nil || cf.Version != 1) {
			t.Fatalf("accepted an invalid file: %+v", cf)
		}
	})
}

// BenchmarkEngineCredit measures one coin through the engine with the real
// journal on the in-memory FS (journal append included).
func BenchmarkEngineCredit(b *testing.B) {
	h := newHarness(b, testConfig())
	h.open("1", &alice)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if h.st().MaxReached {
			h.do(KeyPress{KeyEnter})
			h.adv(30 * time.Second)
			h.open("1", &alice)
		}
		h.coin(10)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e3, "µs/coin")
}

// BenchmarkEngineTick is the cost of an idle Tick (state rebuilt, nothing due).
func BenchmarkEngineTick(b *testing.B) {
	h := newHarness(b, testConfig())
	h.do(devices.StatusChange{Device: "coins", Status: devices.StatusConnected})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		h.e.Handle(Tick{}, t0)
	}
}

// Issue 11 item 6: entries expire after card_cache_ttl, and a card MyQ
// says is not registered is forgotten.
func TestCardCacheExpiresAndForgets(t *testing.T) {
	c, err := OpenCardCache(filepath.Join(t.TempDir(), "cards.json"), testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	c.SetTTL(24 * time.Hour)
	if err := c.Put("0012345678", User{ID: 7}, t0); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get("0012345678", t0.Add(23*time.Hour)); !ok {
		t.Fatal("entry gone before its TTL")
	}
	if _, ok := c.Get("0012345678", t0.Add(25*time.Hour)); ok {
		t.Fatal("entry older than the TTL still used")
	}
	if err := c.Remove("0012345678"); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get("0012345678", t0); ok || c.Len() != 0 {
		t.Fatal("a removed card is still cached")
	}
}
