package config

import (
	"math/rand"
	"testing"
	"time"
)

// Mutations of a real config never hang or panic Parse (the fuzzer does the
// same, but runs only its seeds in CI).
func TestParseMutations(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for n := 0; n < 3000; n++ {
		b := []byte(base)
		for k := 0; k < 1+r.Intn(5); k++ {
			i := r.Intn(len(b))
			switch r.Intn(3) {
			case 0:
				b[i] = byte(r.Intn(256))
			case 1:
				b = append(b[:i], b[i+1:]...)
			case 2:
				b = append(b[:i], append([]byte{byte(r.Intn(128))}, b[i:]...)...)
			}
		}
		done := make(chan struct{})
		go func() { Parse(b, "x"); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Parse did not return on %q", b)
		}
	}
}
