package kiosk

import (
	"slices"
	"strings"
)

// DefaultNearFull is the fill, in percent, at which an acceptor that can
// refuse money stops taking it when its Cashbox leaves NearFull zero.
const DefaultNearFull = 95

// Cashbox is one acceptor's cash box as the capacity rule sees it.
type Cashbox struct {
	Device   string
	Capacity int  // pieces; 0: unknown, never near full
	NearFull int  // percent of Capacity; 0: DefaultNearFull
	Notes    bool // a note validator (else coins): what the screen names
	// CanInhibit: the acceptor can refuse money (devices.Acceptor.CanInhibit).
	// One that cannot keeps taking coins however full its box is.
	CanInhibit bool
}

// CashboxFill is a cash box's fill level since the last cash-up.
type CashboxFill struct {
	Device   string
	Pieces   int
	Capacity int  // 0: not configured
	Percent  int  // Pieces over Capacity, rounded down; 0 without a capacity
	NearFull bool // at or over the near-full threshold
	Refusing bool // near full and inhibited for it
}

// CashboxPieces tells the engine the pieces in each cash box since the last
// cash-up, as the journal's ledger counts them (CashTotals.Pieces, keyed
// "<device>:<key>"). The runner posts it at start and after each cash-up;
// between the two the engine counts the pieces it handles itself.
type CashboxPieces struct{ Pieces map[string]int64 }

// cashboxes is the cash-box capacity rule: a box at its near-full threshold
// stops taking money where the acceptor can refuse it, so a full box never
// jams mid-note; a cash-up empties it.
type cashboxes struct {
	boxes  []Cashbox
	pieces map[string]int
}

func newCashboxes(boxes []Cashbox) cashboxes {
	c := cashboxes{boxes: slices.Clone(boxes), pieces: map[string]int{}}
	for i := range c.boxes {
		if c.boxes[i].NearFull <= 0 {
			c.boxes[i].NearFull = DefaultNearFull
		}
	}
	return c
}

// set replaces the counts with the ledger's.
func (c *cashboxes) set(p CashboxPieces) {
	clear(c.pieces)
	for k, n := range p.Pieces {
		dev, _, _ := strings.Cut(k, ":")
		c.pieces[dev] += int(n)
	}
}

// add counts one piece the device put in its box.
func (c *cashboxes) add(device string) { c.pieces[device]++ }

func (c *cashboxes) fill() []CashboxFill {
	var out []CashboxFill
	for _, b := range c.boxes {
		f := CashboxFill{Device: b.Device, Pieces: c.pieces[b.Device], Capacity: b.Capacity}
		if b.Capacity > 0 {
			f.Percent = f.Pieces * 100 / b.Capacity
			f.NearFull = f.Pieces*100 >= b.Capacity*b.NearFull
			f.Refusing = f.NearFull && b.CanInhibit
		}
		out = append(out, f)
	}
	return out
}

// refusing lists the devices kept inhibited because their box is near full,
// in the configured order.
func (c *cashboxes) refusing() []string {
	var out []string
	for _, f := range c.fill() {
		if f.Refusing {
			out = append(out, f.Device)
		}
	}
	return out
}

// refused says which kinds of cash the refusing boxes stop: the screen tells
// the student "notes are not accepted right now, coins are" only while a
// kind is refused entirely (every acceptor of it refusing).
func (c *cashboxes) refused() (notes, coins bool) {
	ref := c.refusing()
	haveNotes, haveCoins := false, false
	notes, coins = true, true
	for _, b := range c.boxes {
		r := slices.Contains(ref, b.Device)
		if b.Notes {
			haveNotes = true
			notes = notes && r
		} else {
			haveCoins = true
			coins = coins && r
		}
	}
	return notes && haveNotes, coins && haveCoins
}
