package kiosk

import (
	"strings"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// TestRealJournalHealsAndKioskReturnsToService: the engine on the real
// journal (no test switch in between) on a disk that fills up and is freed:
// the coin that arrived meanwhile is held, never counted, written once the
// journal's Probe has healed it, and the kiosk leaves out-of-service on its
// own. The file then holds exactly the acknowledged money.
func TestRealJournalHealsAndKioskReturnsToService(t *testing.T) {
	cfg := testConfig()
	h := newHarness(t, cfg)
	j := h.tj.j
	cfg.Log = testLog(t)
	h.e = NewEngine(cfg, j, h.now, h.newID)
	h.open("0012345678", &alice)
	sid := h.st().SessionID
	h.coin(100)

	h.fs.SetWriteError(errDisk)
	cmds := h.coin(200)
	st := h.st()
	if st.Phase != PhaseOutOfService || st.Total != 100 || h.e.HeldMoney() != 200 || !strings.Contains(st.OutOfService, "no space") {
		t.Fatalf("on a full disk: phase %v total %d held %d %q", st.Phase, st.Total, h.e.HeldMoney(), st.OutOfService)
	}
	if on, set := accepting(cmds); !set || on {
		t.Fatal("acceptors not inhibited")
	}
	ledgerTotal := func() int64 {
		t.Helper()
		open := j.Ledger().OpenSessions()
		if len(open) != 1 {
			t.Fatalf("open sessions %+v", open)
		}
		return open[0].Total
	}
	if got := ledgerTotal(); got != 100 {
		t.Fatalf("the journal's ledger counts %d: money that is not on disk", got)
	}
	// Retries while the disk is still full change nothing.
	for range 3 {
		h.adv(cfg.JournalRetry + time.Second)
		if h.st().Phase != PhaseOutOfService || h.e.HeldMoney() != 200 || ledgerTotal() != 100 {
			t.Fatalf("retry on a full disk: phase %v held %d ledger %d", h.st().Phase, h.e.HeldMoney(), ledgerTotal())
		}
	}

	h.fs.SetWriteError(nil)
	cmds = h.adv(DefaultJournalRetry)
	st = h.st()
	if st.Phase != PhaseSession || st.SessionID != sid || st.Total != 300 || h.e.HeldMoney() != 0 {
		t.Fatalf("after the disk was freed: phase %v %q total %d held %d", st.Phase, st.OutOfService, st.Total, h.e.HeldMoney())
	}
	if on, _ := accepting(cmds); !on {
		t.Fatal("acceptors not enabled after the journal healed")
	}
	if got := ledgerTotal(); got != 300 {
		t.Fatalf("ledger total %d after heal, want 300", got)
	}
	h.coin(50)
	b, ok := find[Book](h.do(KeyPress{KeyEnter}))
	if !ok || b.Finish.Total != 350 {
		t.Fatalf("finish after heal: %+v %v", b, ok)
	}

	// A power cut now: the disk holds each coin once, nothing from the
	// failed write.
	j.Close()
	h.fs.Crash()
	rj := openJournal(t, h.fs)
	var credits []int64
	for _, r := range rj.Records() {
		if r.Kind == journal.KindCredit {
			var c journal.Credit
			if err := r.Decode(&c); err != nil {
				t.Fatal(err)
			}
			credits = append(credits, c.Amount)
		}
	}
	if len(credits) != 3 || credits[0] != 100 || credits[1] != 200 || credits[2] != 50 {
		t.Fatalf("credits on disk %v, want [100 200 50]", credits)
	}
	l := rj.Ledger()
	if p := l.Pending(); len(p) != 1 || p[0].Finish.Total != 350 {
		t.Fatalf("pending after power cut %+v", p)
	}
	if c := l.Cash(); c.Accepted != 350 || c.Pending != 350 {
		t.Fatalf("cash %+v", c)
	}
}

// TestLateNoteBecomesUnclaimedCash: a note the validator credits after its
// session was finished is journaled as unclaimed cash naming the note
// (which settles its escrow: no note_returned that did not happen), shows
// as unclaimed, adds up in the cash-up and is claimed by the next card.
func TestLateNoteBecomesUnclaimedCash(t *testing.T) {
	for _, other := range []bool{false, true} {
		name := "idle"
		if other {
			name = "another session open"
		}
		t.Run(name, func(t *testing.T) {
			cfg := testConfig()
			h := newHarness(t, cfg)
			// Session s1 was finished while its note was still in escrow.
			for _, r := range []journal.Record{
				journal.New(journal.KindSessionOpen, "s1", h.now, journal.SessionOpen{Card: "1", UserID: 7}),
				journal.New(journal.KindCredit, "s1", h.now, journal.Credit{Device: "coins", Key: "k", Amount: 100}),
				journal.New(journal.KindNoteEscrow, "s1", h.now, journal.NoteEscrow{Device: "notes", NoteID: "n1", Key: "1", Amount: 500}),
				journal.New(journal.KindFinish, "s1", h.now, journal.Finish{Total: 100, Reference: "lib/s1", UserID: 7}),
			} {
				if _, err := h.tj.Append(r); err != nil {
					t.Fatal(err)
				}
			}
			h.adv(time.Minute)
			h.restart(cfg)
			if n := h.tj.j.Ledger().PendingNotes(); len(n) != 1 || n[0].Session != "s1" {
				t.Fatalf("pending notes at start %+v", n)
			}
			if other {
				h.open("2", &User{ID: 8})
				h.coin(50)
			}
			h.do(devices.Credit{Device: "notes", Key: "1", Amount: 500, NoteID: "n1"})

			if n := len(h.tj.kinds(journal.KindNoteReturned)); n != 0 {
				t.Fatalf("%d note_returned records for a note that was stacked", n)
			}
			un := h.tj.kinds(journal.KindUnclaimed)
			var c journal.Credit
			if len(un) != 1 || un[0].Decode(&c) != nil || c.NoteID != "n1" || c.Amount != 500 {
				t.Fatalf("unclaimed records %+v (%+v)", un, c)
			}
			l := h.tj.j.Ledger()
			if n := l.PendingNotes(); len(n) != 0 {
				t.Fatalf("note still pending %+v", n)
			}
			if u := l.Unclaimed(); len(u) != 1 || u[0].Credit.Amount != 500 {
				t.Fatalf("ledger unclaimed %+v", u)
			}
			cash := l.Cash()
			if cash.Accepted != cash.Committed+cash.Pending+cash.InSession+cash.Unclaimed {
				t.Fatalf("cash-up does not add up: %+v", cash)
			}
			var inSession int64
			if other {
				inSession = 50
			}
			if cash.Accepted != 600+inSession || cash.Pending != 100 || cash.Unclaimed != 500 || cash.InSession != inSession {
				t.Fatalf("cash %+v", cash)
			}
			// A late note is its own student's: no other card may claim it.
			st := h.st()
			if st.Unclaimed != 0 {
				t.Fatalf("screen offers the late note to the next card: unclaimed %d", st.Unclaimed)
			}
			if other {
				if st.Total != 50 || st.User.ID != 8 {
					t.Fatalf("the late note went into the open session: total %d", st.Total)
				}
				return
			}
			// The next card does not get it; the cash-up does.
			h.open("3", &User{ID: 9})
			if st := h.st(); st.Total != 0 {
				t.Fatalf("the next card claimed a late note: total %d", st.Total)
			}
			if c := h.tj.j.Ledger().Cash(); c.Unclaimed != 500 || c.Accepted != 600 {
				t.Fatalf("cash after the next card %+v", c)
			}
		})
	}
}
