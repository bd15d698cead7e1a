package journal

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestMemFSForgetsWhatWasNotDurable(t *testing.T) {
	m := NewStrictMemFS()
	m.MkdirAll("/d")
	f, _ := m.Create("/d/a")
	f.Write([]byte("synced"))
	f.Sync()
	m.SyncDir("/d")
	f.Write([]byte(" lost"))
	g, _ := m.Create("/d/b") // name never made durable
	g.Write([]byte("b"))
	g.Sync()
	m.Rename("/d/a", "/d/c") // rename never made durable
	m.Crash()
	if got, err := m.ReadFile("/d/a"); err != nil || string(got) != "synced" {
		t.Errorf("a after crash: %q, %v; want the fsynced part only", got, err)
	}
	if _, err := m.ReadFile("/d/b"); err == nil {
		t.Error("b survived without a dir sync")
	}
	if _, err := m.ReadFile("/d/c"); err == nil {
		t.Error("rename survived without a dir sync")
	}
	if _, err := f.Write([]byte("x")); !errors.Is(err, ErrPowerLost) {
		t.Errorf("stale handle write: %v", err)
	}
	m.CrashAfter(1)
	h, _ := m.OpenAppend("/d/a")
	if _, err := h.Write([]byte("x")); !errors.Is(err, ErrPowerLost) {
		t.Errorf("write after power loss: %v", err)
	}
}

// TestPowerCutAtEveryOperation runs a workload with compactions and cuts
// the power after every single write, fsync, create, rename and dir sync.
// After reboot every acknowledged Append is there exactly once.
func TestPowerCutAtEveryOperation(t *testing.T) {
	const batches, compactAfter = 140, 4
	// Count the operations of an uninterrupted run.
	m := NewStrictMemFS()
	var logs bytes.Buffer
	j := mustOpen(t, Options{FS: m, Dir: "/s", CompactAfter: compactAfter, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	runWorkload(t, j, 7, batches)
	j.Close()
	total := m.Ops()
	if total < 2*batches {
		t.Fatalf("only %d operations", total)
	}
	compactions := strings.Count(logs.String(), "journal: compacted")
	if compactions < 3 {
		t.Fatalf("the workload compacted %d times; the test needs compactions to cut into", compactions)
	}
	t.Logf("cutting the power after each of %d operations (%d compactions)", total, compactions)
	step := 1
	if testing.Short() {
		step = 7
	}
	for cut := 1; cut <= total; cut += step {
		m := NewStrictMemFS()
		m.CrashAfter(cut)
		var acked []Record
		var inflight []Record
		w := newWorkload(7)
		j, err := Open(Options{FS: m, Dir: "/s", CompactAfter: compactAfter})
		if err == nil {
			for range batches {
				batch := w.next(j.LastSeq() + 1)
				first, err := j.Append(batch...)
				for i := range batch {
					batch[i].Seq = first + uint64(i)
				}
				if err != nil {
					for i := range batch {
						batch[i].Seq = j.LastSeq() - uint64(len(batch)-1-i)
					}
					// Not assigned Seqs when the journal was already broken.
					if len(acked) == 0 || batch[0].Seq > acked[len(acked)-1].Seq {
						inflight = batch
					}
					break
				}
				acked = append(acked, batch...)
			}
			j.Close()
		}
		m.Crash()
		j, err = Open(Options{FS: m, Dir: "/s", CompactAfter: compactAfter})
		if err != nil {
			t.Fatalf("cut after op %d: reopen: %v", cut, err)
		}
		got := j.Ledger().Ledger
		want := ledgerOf(t, acked)
		if ok := quietSame(want, got); !ok {
			// The append in flight may have become durable before the cut.
			withInflight := ledgerOf(t, append(append([]Record(nil), acked...), inflight...))
			if !quietSame(withInflight, got) {
				t.Errorf("cut after op %d: ledger after reboot matches neither the acknowledged appends nor them plus the one in flight", cut)
				sameLedger(t, want, got)
				j.Close()
				return
			}
		}
		checkCashIdentity(t, got)
		if len(acked) > 0 && j.LastSeq() < acked[len(acked)-1].Seq {
			t.Fatalf("cut after op %d: last seq %d < acknowledged %d", cut, j.LastSeq(), acked[len(acked)-1].Seq)
		}
		// And the journal keeps working, with growing Seqs.
		last := j.LastSeq()
		if seq, err := j.Append(rCounter("x", 1)); err != nil || seq <= last {
			t.Fatalf("cut after op %d: append after reboot: seq %d (last %d), %v", cut, seq, last, err)
		}
		j.Close()
	}
}

// quietSame is sameLedger as a predicate.
func quietSame(want, got *Ledger) bool {
	ft := &fakeT{}
	sameLedger(ft, want, got)
	return !ft.failed
}

type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.failed = true }

func TestCompactionKeepsLiveState(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4} {
		m := NewStrictMemFS()
		j := mustOpen(t, Options{FS: m, Dir: "/s", CompactAfter: -1})
		written := runWorkload(t, j, seed, 400)
		before := j.Ledger()
		lastSeq := j.LastSeq()
		sizeBefore := len(mustRead(t, m, "/s/journal"))
		if err := j.Compact(); err != nil {
			t.Fatal(err)
		}
		sameLedger(t, before.Ledger, j.Ledger().Ledger)
		sameLedger(t, ledgerOf(t, written), j.Ledger().Ledger)
		after := mustRead(t, m, "/s/journal")
		if len(after) >= sizeBefore {
			t.Errorf("seed %d: compaction did not shrink the file: %d -> %d bytes", seed, sizeBefore, len(after))
		}
		if got := j.LastSeq(); got <= lastSeq {
			t.Errorf("seed %d: last seq %d after compaction, was %d", seed, got, lastSeq)
		}
		if seq := mustAppend(t, j, rCounter("x", 9)); seq <= lastSeq+1 {
			t.Errorf("seed %d: seq %d after compaction, want > %d", seed, seq, lastSeq+1)
		}
		j.Close()
		// Power cut right after: the compacted file is the durable one.
		m.Crash()
		j = mustOpen(t, Options{FS: m, Dir: "/s"})
		l := ledgerOf(t, written)
		if err := l.Apply(withSeq(rCounter("x", 9), j.LastSeq())); err != nil {
			t.Fatal(err)
		}
		sameLedger(t, l, j.Ledger().Ledger)
		if m.Names()[0] != "/s/journal" || len(m.Names()) != 1 {
			t.Errorf("files left: %v", m.Names())
		}
		j.Close()
	}
}

func withSeq(r Record, seq uint64) Record { r.Seq = seq; return r }

func mustRead(t testing.TB, m *MemFS, name string) []byte {
	t.Helper()
	b, err := m.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAutomaticCompactionBoundsTheFile(t *testing.T) {
	m := NewStrictMemFS()
	j := mustOpen(t, Options{FS: m, Dir: "/s", CompactAfter: 50})
	defer j.Close()
	var written []Record
	for i := range 300 {
		id := "c" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		for _, r := range []Record{rOpen(id, 1), rCredit(id, "coins", "1", 100, i%255+1), rFinish(id, 100), rPayment(id, "p"), rCommitted(id, "p")} {
			r.Seq = mustAppend(t, j, r)
			written = append(written, r)
		}
	}
	lines := bytes.Count(mustRead(t, m, "/s/journal"), []byte("\n"))
	if lines > 50+keepCommitted*5+10 {
		t.Errorf("journal holds %d lines after 1500 settled records with CompactAfter 50", lines)
	}
	sameLedger(t, ledgerOf(t, written), j.Ledger().Ledger)
	if c := j.Ledger().Cash(); c.Committed != 300*100 || c.Pieces["coins:1"] != 300 {
		t.Errorf("cash totals lost in compaction: %+v", c)
	}
}
