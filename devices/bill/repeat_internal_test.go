package bill

import (
	"log/slog"
	"slices"
	"testing"
)

// Only the events that need EVENT_ACK repeat, beside new ones: a repeat is
// recognised event by event. Before the fix the driver compared whole lists,
// so a repeated CREDIT without the STACKING/STACKED it first came with was
// handled again (a second credit).
func TestDropRepeatsEventByEvent(t *testing.T) {
	v := &Validator{log: slog.New(slog.DiscardHandler)}
	first := []Event{{Code: EvStacking}, {Code: EvCredit, Channel: 2}, {Code: EvStacked}}
	if got := v.dropRepeats(first); !slices.Equal(got, first) {
		t.Fatalf("first reply: %v", got)
	}
	v.unacked = []Event{{Code: EvCredit, Channel: 2}} // handled; the ACK was lost
	again := []Event{{Code: EvCredit, Channel: 2}, {Code: EvDisabled}}
	if got := v.dropRepeats(again); !slices.Equal(got, []Event{{Code: EvDisabled}}) {
		t.Fatalf("repeat: fresh = %v, want only DISABLED", got)
	}
	if !slices.Equal(v.unacked, []Event{{Code: EvCredit, Channel: 2}}) {
		t.Fatalf("the repeat still needs its ACK: unacked %v", v.unacked)
	}
	// A note action proves the device took the ACK: a later CREDIT of the
	// same channel is a new note.
	next := []Event{{Code: EvRead, Channel: 0}, {Code: EvCredit, Channel: 2}}
	if got := v.dropRepeats(next); !slices.Equal(got, next) {
		t.Fatalf("after a note action: fresh = %v, want %v", got, next)
	}
}
