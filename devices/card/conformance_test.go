package card

import (
	"strconv"
	"testing"

	"github.com/printroom/voucherkiosk/devices/conformance"
)

func TestConformanceRDMFrames(t *testing.T) {
	var v conformance.RDM6300
	if err := conformance.Load("rdm6300", &v); err != nil {
		t.Fatal(err)
	}
	chain, err := ParseChain("right(8)|hex2dec")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range v.Frames {
		ids, _ := feedAll(&rdmFramer{}, string(f.Wire))
		if !f.Valid {
			if len(ids) != 0 {
				t.Errorf("%s % X: read %v, want nothing", f.Name, []byte(f.Wire), ids)
			}
			continue
		}
		if len(ids) != 1 || ids[0] != f.ID {
			t.Errorf("%s % X: read %v, want %s", f.Name, []byte(f.Wire), ids, f.ID)
			continue
		}
		if n, err := chain.Apply(ids[0]); err != nil || n != strconv.FormatUint(f.Number, 10) {
			t.Errorf("%s: number %q, %v; want %d", f.Name, n, err, f.Number)
		}
	}
}
