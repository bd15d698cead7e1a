package coin

import (
	"slices"
	"testing"

	"github.com/printroom/voucherkiosk/devices/conformance"
)

// What public bridge sketches send, through the decoders: banners and
// decorated lines are text, never coins.
func TestConformanceBridges(t *testing.T) {
	var v conformance.Pulse
	if err := conformance.Load("pulse", &v); err != nil {
		t.Fatal(err)
	}
	for _, s := range v.Streams {
		d := newDecoder(Encoding(s.Encoding))
		items := append(d.feed(s.Bytes), d.end()...)
		coins, text := []int{}, []string{}
		for _, it := range items {
			if it.text != "" {
				text = append(text, it.text)
			} else {
				coins = append(coins, it.count)
			}
		}
		if !slices.Equal(coins, append([]int{}, s.Coins...)) || !slices.Equal(text, append([]string{}, s.Text...)) {
			t.Errorf("%s (%s): coins %v text %q; want %v %q", s.Name, s.Encoding, coins, text, s.Coins, s.Text)
		}
	}
}
