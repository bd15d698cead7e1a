package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: any bytes give a config or problems, never a panic; every
// problem names the file; an accepted config holds only sane money.
func FuzzParse(f *testing.F) {
	f.Add([]byte(base))
	f.Add([]byte(strings.Replace(base, "50.00", `"fifty"`, 1)))
	f.Add([]byte("[kiosk]\nmax_topup = 1e308\n[[acceptor]]\nvalues = 3\n"))
	f.Add([]byte("[[acceptor]]\n[acceptor.values]\n\"1\" = nan\n"))
	f.Add([]byte(`a = """` + "\n[kiosk]\n"))
	for _, name := range []string{"kioskd.toml", "demo.toml"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "configs", name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "f.toml")
		if err != nil {
			ps, ok := err.(Problems)
			if !ok || len(ps) == 0 {
				t.Fatalf("error %T %v is not Problems", err, err)
			}
			for _, p := range ps {
				if p.File != "f.toml" || p.Msg == "" {
					t.Fatalf("problem without file or message: %+v", p)
				}
			}
			return
		}
		k := c.Kiosk
		if k.MaxTopup <= 0 || k.MaxTopup > MaxAmount || k.MinTopup < 0 || k.MinTopup > k.MaxTopup {
			t.Fatalf("accepted insane topups %d..%d", k.MinTopup, k.MaxTopup)
		}
		for _, a := range c.Acceptors {
			for key, v := range a.Values {
				if v <= 0 || v > MaxAmount {
					t.Fatalf("accepted value %s = %d", key, v)
				}
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "..", "configs", "kioskd.toml"))
	if err != nil {
		b.Skip(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, "kioskd.toml"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/parse")
}
