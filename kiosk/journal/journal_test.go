package journal

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func mustOpen(t testing.TB, o Options) *Journal {
	t.Helper()
	j, err := Open(o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return j
}

func mustAppend(t testing.TB, j *Journal, recs ...Record) uint64 {
	t.Helper()
	seq, err := j.Append(recs...)
	if err != nil {
		t.Fatalf("append %s: %v", recs[0].Kind, err)
	}
	return seq
}

// runWorkload appends n batches and returns every record as written.
func runWorkload(t testing.TB, j *Journal, seed uint64, n int) []Record {
	t.Helper()
	w := newWorkload(seed)
	var all []Record
	for range n {
		batch := w.next(j.LastSeq() + 1)
		first := mustAppend(t, j, batch...)
		for i := range batch {
			batch[i].Seq = first + uint64(i)
		}
		all = append(all, batch...)
	}
	return all
}

func TestRoundTripOnDisk(t *testing.T) {
	dir := t.TempDir()
	j := mustOpen(t, Options{Dir: dir, CompactAfter: -1})
	written := runWorkload(t, j, 1, 300)
	want := j.Ledger()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v, want 0600", st.Mode().Perm())
	}

	j = mustOpen(t, Options{Dir: dir, CompactAfter: -1})
	defer j.Close()
	got := j.Records()
	if len(got) != len(written) {
		t.Fatalf("replayed %d records, wrote %d", len(got), len(written))
	}
	for i := range got {
		if got[i].Seq != written[i].Seq || got[i].Kind != written[i].Kind || got[i].Session != written[i].Session ||
			!bytes.Equal(got[i].Data, written[i].Data) || !got[i].Time.Equal(written[i].Time) {
			t.Fatalf("record %d: got %+v, wrote %+v", i, got[i], written[i])
		}
	}
	sameLedger(t, want.Ledger, j.Ledger().Ledger)
	sameLedger(t, ledgerOf(t, written), j.Ledger().Ledger)
	checkCashIdentity(t, j.Ledger().Ledger)
	if seq := mustAppend(t, j, rCounter("cctalk", 3)); seq != written[len(written)-1].Seq+1 {
		t.Errorf("after reopen Append got seq %d, want %d", seq, written[len(written)-1].Seq+1)
	}
}

// TestTornTailEveryOffset cuts the journal at every byte of its last record:
// the start succeeds, the prefix is kept and the file is truncated.
func TestTornTailEveryOffset(t *testing.T) {
	dir := t.TempDir()
	j := mustOpen(t, Options{Dir: dir})
	mustAppend(t, j, rOpen("a", 1))
	mustAppend(t, j, rCredit("a", "coins", "1", 100, 1))
	mustAppend(t, j, rCredit("a", "coins", "2", 200, 2))
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lastStart := bytes.LastIndexByte(full[:len(full)-1], '\n') + 1
	for cut := lastStart + 1; cut < len(full); cut++ {
		if err := os.WriteFile(path, full[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		j, err := Open(Options{Dir: dir, Log: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatalf("cut at %d: open: %v", cut, err)
		}
		if n := len(j.Records()); n != 2 {
			t.Fatalf("cut at %d: %d records, want 2", cut, n)
		}
		if got := j.Ledger().OpenSessions()[0].Total; got != 100 {
			t.Fatalf("cut at %d: total %d, want 100", cut, got)
		}
		if !strings.Contains(logs.String(), fmt.Sprintf("offset=%d", lastStart)) {
			t.Fatalf("cut at %d: log does not name offset %d: %s", cut, lastStart, logs.String())
		}
		j.Close()
		now, _ := os.ReadFile(path)
		if !bytes.Equal(now, full[:lastStart]) {
			t.Fatalf("cut at %d: file is %d bytes, want truncated to %d", cut, len(now), lastStart)
		}
	}
	// A whole last line with a checksum that does not hold is torn too.
	bad := append([]byte(nil), full...)
	bad[len(bad)-3] ^= 1
	os.WriteFile(path, bad, 0o600)
	j = mustOpen(t, Options{Dir: dir})
	if n := len(j.Records()); n != 2 {
		t.Errorf("bad checksum on last line: %d records, want 2", n)
	}
	j.Close()
}

func TestBadRecordRefusesStart(t *testing.T) {
	good := [][]byte{}
	for i, r := range []Record{rOpen("a", 1), rCredit("a", "c", "1", 100, 0), rCredit("a", "c", "1", 100, 0), rCredit("a", "c", "2", 200, 0)} {
		r.Seq = uint64(i + 1)
		line, _ := EncodeLine(r)
		good = append(good, line)
	}
	relined := func(r Record) []byte { l, _ := EncodeLine(r); return l }
	unknown := rCredit("a", "c", "1", 100, 0)
	unknown.Kind, unknown.Seq = "gift", 2
	backwards := rCredit("a", "c", "1", 100, 0)
	backwards.Seq = 1
	stranger := rCredit("zzz", "c", "1", 100, 0)
	stranger.Seq = 2
	flip := append([]byte(nil), good[1]...)
	flip[20] ^= 0x01
	tests := []struct {
		name   string
		line2  []byte // replaces the second line
		last   bool   // put the bad line last instead
		wantIn string
	}{
		{"checksum", flip, false, "checksum"},
		{"unknown kind", relined(unknown), false, "unknown kind"},
		{"unknown kind on last line", relined(unknown), true, "unknown kind"},
		{"seq not increasing", relined(backwards), false, "not increasing"},
		{"credit to unknown session", relined(stranger), false, "unknown session"},
		{"credit to unknown session on last line", relined(stranger), true, "unknown session"},
		{"no checksum", []byte("{\"k\":\"credit\"}\n"), false, "no checksum"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewStrictMemFS()
			var file []byte
			lines := [][]byte{good[0], tc.line2, good[2], good[3]}
			if tc.last {
				lines = [][]byte{good[0], tc.line2}
			}
			for _, l := range lines {
				file = append(file, l...)
			}
			m.WriteFile("/state/journal", file)
			_, err := Open(Options{FS: m, Dir: "/state"})
			var re *ReplayError
			if !errors.As(err, &re) {
				t.Fatalf("open: %v, want *ReplayError", err)
			}
			if re.Line != 2 || re.Offset != int64(len(good[0])) {
				t.Errorf("error at line %d offset %d, want line 2 offset %d", re.Line, re.Offset, len(good[0]))
			}
			for _, want := range []string{tc.wantIn, "line 2", "kioskctl journal inspect"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if now, _ := m.ReadFile("/state/journal"); !bytes.Equal(now, file) {
				t.Error("a refused start changed the file")
			}
		})
	}
}

func TestRefusedAppendWritesNothing(t *testing.T) {
	m := NewStrictMemFS()
	j := mustOpen(t, Options{FS: m, Dir: "/s"})
	defer j.Close()
	mustAppend(t, j, rOpen("a", 1), rCredit("a", "c", "1", 100, 0))
	before, _ := m.ReadFile("/s/journal")
	for _, batch := range [][]Record{
		{rCredit("nobody", "c", "1", 100, 0)},
		{rCredit("a", "c", "1", 50, 0), rFinish("a", 100)}, // total is 150
		{rCancel("a")},
		{rPayment("a", "p1")}, // not finished
	} {
		if _, err := j.Append(batch...); err == nil {
			t.Errorf("append %s accepted", batch[len(batch)-1].Kind)
		}
	}
	if now, _ := m.ReadFile("/s/journal"); !bytes.Equal(now, before) {
		t.Error("refused appends reached the file")
	}
	if got := j.Ledger().OpenSessions()[0].Total; got != 100 {
		t.Errorf("refused batch changed the ledger: total %d", got)
	}
	if seq := mustAppend(t, j, rFinish("a", 100)); seq != 3 {
		t.Errorf("seq after refusals %d, want 3", seq)
	}
}

func TestWriteFailureBreaksJournal(t *testing.T) {
	m := NewStrictMemFS()
	j := mustOpen(t, Options{FS: m, Dir: "/s"})
	mustAppend(t, j, rOpen("a", 1))
	diskFull := errors.New("no space left on device")
	m.SetWriteError(diskFull)
	if _, err := j.Append(rCredit("a", "c", "1", 100, 0)); !errors.Is(err, ErrBroken) || !strings.Contains(err.Error(), "no space") {
		t.Fatalf("append on full disk: %v", err)
	}
	m.SetWriteError(nil)
	if _, err := j.Append(rCredit("a", "c", "1", 100, 0)); !errors.Is(err, ErrBroken) || !strings.Contains(err.Error(), "reopen") {
		t.Fatalf("append after a failure: %v, want ErrBroken until reopened", err)
	}
	j.Close()
	m.Crash()
	j = mustOpen(t, Options{FS: m, Dir: "/s"})
	defer j.Close()
	if os := j.Ledger().OpenSessions(); len(os) != 1 || os[0].Total != 0 {
		t.Fatalf("after reopen: %+v", os)
	}
	mustAppend(t, j, rCredit("a", "c", "1", 100, 0))
}

func TestConcurrentAppends(t *testing.T) {
	m := NewStrictMemFS()
	j := mustOpen(t, Options{FS: m, Dir: "/s", CompactAfter: 40})
	const writers, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("w%d", w)
			if _, err := j.Append(rOpen(id, int64(w+1))); err != nil {
				errs <- err
				return
			}
			for i := range each {
				if _, err := j.Append(rCredit(id, "c", "1", int64(i+1), 0)); err != nil {
					errs <- err
					return
				}
			}
			if _, err := j.Append(rFinish(id, each*(each+1)/2)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := j.Ledger()
	j.Close()
	m.Crash() // every returned Append must be durable
	j = mustOpen(t, Options{FS: m, Dir: "/s"})
	defer j.Close()
	sameLedger(t, want.Ledger, j.Ledger().Ledger)
	if p := j.Ledger().Pending(); len(p) != writers {
		t.Fatalf("%d pending, want %d", len(p), writers)
	}
	for _, p := range j.Ledger().Pending() {
		if p.Finish.Total != each*(each+1)/2 {
			t.Errorf("%s total %d", p.ID, p.Finish.Total)
		}
	}
}
