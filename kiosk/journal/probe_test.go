package journal

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// faultFS is the strict MemFS with the failures a real disk has and MemFS
// alone cannot show: a write that lands half a line before it fails, an
// fsync that fails after its write succeeded, a directory fsync that fails,
// and an fsync that waits for the test (to hold a group commit in flight).
type faultFS struct {
	*MemFS
	mu         sync.Mutex
	partialErr error         // Write writes half of its bytes, then fails; Sync fails
	syncErr    error         // Sync fails (the write itself went through)
	syncDirErr error         // SyncDir fails
	gate       chan struct{} // non-nil: Sync waits until it is closed
	entered    chan struct{} // gets a value each time a Sync starts waiting
	syncs      atomic.Int64  // fsyncs that returned nil
}

func newFaultFS() *faultFS {
	return &faultFS{MemFS: NewStrictMemFS(), entered: make(chan struct{}, 16)}
}

func (f *faultFS) set(fn func(*faultFS)) {
	f.mu.Lock()
	fn(f)
	f.mu.Unlock()
}

func (f *faultFS) state() (partial, syncErr error, gate chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.partialErr, f.syncErr, f.gate
}

func (f *faultFS) OpenAppend(name string) (File, error) {
	h, err := f.MemFS.OpenAppend(name)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: h, fs: f}, nil
}

func (f *faultFS) SyncDir(dir string) error {
	f.mu.Lock()
	err := f.syncDirErr
	f.mu.Unlock()
	if err != nil {
		return err
	}
	return f.MemFS.SyncDir(dir)
}

type faultFile struct {
	File
	fs *faultFS
}

func (f *faultFile) Write(p []byte) (int, error) {
	if partial, _, _ := f.fs.state(); partial != nil {
		n, _ := f.File.Write(p[:len(p)/2])
		return n, partial
	}
	return f.File.Write(p)
}

func (f *faultFile) Sync() error {
	if _, _, gate := f.fs.state(); gate != nil {
		f.fs.entered <- struct{}{}
		<-gate
	}
	if partial, syncErr, _ := f.fs.state(); partial != nil || syncErr != nil {
		return errors.Join(partial, syncErr)
	}
	if err := f.File.Sync(); err != nil {
		return err
	}
	f.fs.syncs.Add(1)
	return nil
}

// creditsOf lists the credit amounts of session id in recs.
func creditsOf(t testing.TB, recs []Record, id string) []int64 {
	t.Helper()
	var out []int64
	for _, r := range recs {
		if r.Kind == KindCredit && r.Session == id {
			var c Credit
			if err := r.Decode(&c); err != nil {
				t.Fatal(err)
			}
			out = append(out, c.Amount)
		}
	}
	return out
}

func openTotal(t testing.TB, s Snapshot, id string) int64 {
	t.Helper()
	for _, o := range s.OpenSessions() {
		if o.ID == id {
			return o.Total
		}
	}
	t.Fatalf("session %s not open: %+v", id, s.OpenSessions())
	return 0
}

// TestProbeHealsAfterFailedWrite: after a failed write the journal refuses
// records; Probe fails while the disk does and heals it once the disk
// works; the file then holds exactly the acknowledged records, nothing of
// the failed write, after a restart (page cache kept) and after a power cut.
func TestProbeHealsAfterFailedWrite(t *testing.T) {
	diskFull := errors.New("no space left on device")
	tests := []struct {
		name string
		fail func(*faultFS)
		heal func(*faultFS)
		// leftover: the failed write left bytes in the page cache that only
		// the cut removes.
		leftover bool
	}{
		{"disk refuses the write", func(f *faultFS) { f.SetWriteError(diskFull) }, func(f *faultFS) { f.SetWriteError(nil) }, false},
		{"half a line written", func(f *faultFS) { f.set(func(f *faultFS) { f.partialErr = diskFull }) },
			func(f *faultFS) { f.set(func(f *faultFS) { f.partialErr = nil }) }, true},
		{"fsync fails after the write", func(f *faultFS) { f.set(func(f *faultFS) { f.syncErr = diskFull }) },
			func(f *faultFS) { f.set(func(f *faultFS) { f.syncErr = nil }) }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ffs := newFaultFS()
			var onSync atomic.Int64
			o := Options{FS: ffs, Dir: "/s", OnSync: func(time.Duration) { onSync.Add(1) }}
			j := mustOpen(t, o)
			mustAppend(t, j, rOpen("a", 1))
			mustAppend(t, j, rCredit("a", "coins", "1", 100, 0))
			durable, _ := ffs.ReadFile("/s/journal")

			tc.fail(ffs)
			if _, err := j.Append(rCredit("a", "coins", "2", 200, 0)); !errors.Is(err, ErrBroken) || !strings.Contains(err.Error(), "no space") {
				t.Fatalf("append on a failing disk: %v", err)
			}
			if got := openTotal(t, j.Ledger(), "a"); got != 100 {
				t.Fatalf("ledger counts %d after the failed write, want 100: money that is not on disk", got)
			}
			if now, _ := ffs.ReadFile("/s/journal"); tc.leftover == bytes.Equal(now, durable) {
				t.Fatalf("page cache after the failure: leftover %v, file %q", !tc.leftover, now)
			}
			if err := j.Probe(); !errors.Is(err, ErrBroken) {
				t.Fatalf("probe while the disk fails: %v, want ErrBroken", err)
			}
			if _, err := j.Append(rCredit("a", "coins", "3", 300, 0)); !errors.Is(err, ErrBroken) {
				t.Fatalf("append while broken: %v", err)
			}
			tc.heal(ffs)
			if err := j.Probe(); err != nil {
				t.Fatalf("probe after the disk healed: %v", err)
			}
			if now, _ := ffs.ReadFile("/s/journal"); !bytes.Equal(now, durable) {
				t.Fatalf("healed file is not the durable prefix:\n got %q\nwant %q", now, durable)
			}
			if d, _ := ffs.Durable("/s/journal"); !bytes.Equal(d, durable) {
				t.Fatalf("the cut is not durable: %q", d)
			}
			if seq := mustAppend(t, j, rCredit("a", "coins", "4", 400, 0)); seq <= 3 {
				t.Fatalf("seq %d after heal reuses a refused one", seq)
			}
			if got := openTotal(t, j.Ledger(), "a"); got != 500 {
				t.Fatalf("ledger total %d after heal, want 500", got)
			}
			if n := onSync.Load(); n != 3 {
				t.Errorf("OnSync called %d times, want 3 (one per acknowledged write)", n)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}

			for _, restart := range []string{"restart", "power cut"} {
				if restart == "power cut" {
					ffs.Crash()
				}
				j := mustOpen(t, Options{FS: ffs, Dir: "/s"})
				if got := creditsOf(t, j.Records(), "a"); len(got) != 2 || got[0] != 100 || got[1] != 400 {
					t.Errorf("%s: credits on disk %v, want [100 400]", restart, got)
				}
				if got := openTotal(t, j.Ledger(), "a"); got != 500 {
					t.Errorf("%s: total %d, want 500", restart, got)
				}
				j.Close()
			}
		})
	}
}

// TestProbeUnbrokenWritesNothing: a healthy journal's Probe is a check, not
// a write (it runs on every watchdog ping).
func TestProbeUnbrokenWritesNothing(t *testing.T) {
	m := NewStrictMemFS()
	j := mustOpen(t, Options{FS: m, Dir: "/s"})
	mustAppend(t, j, rOpen("a", 1))
	before := m.Ops()
	for range 3 {
		if err := j.Probe(); err != nil {
			t.Fatalf("probe: %v", err)
		}
	}
	if m.Ops() != before {
		t.Fatalf("probe of a healthy journal did %d disk operations", m.Ops()-before)
	}
	j.Close()
	if err := j.Probe(); !errors.Is(err, ErrClosed) {
		t.Fatalf("probe after close: %v", err)
	}
}

// waitLastSeq waits until Append has given out Seqs up to seq (a writer is
// then buffered behind the write in flight).
func waitLastSeq(t *testing.T, j *Journal, seq uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for j.LastSeq() < seq {
		if time.Now().After(deadline) {
			t.Fatalf("last seq %d, waiting for %d", j.LastSeq(), seq)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLedgerCountsOnlyDurableUnderGroupCommit: while a write is in flight,
// and behind it a buffered one, Ledger shows neither; new records are still
// checked against them; a failed group write counts none of its records,
// and after the heal new records are checked against the disk's truth.
func TestLedgerCountsOnlyDurableUnderGroupCommit(t *testing.T) {
	ffs := newFaultFS()
	var onSync atomic.Int64
	j := mustOpen(t, Options{FS: ffs, Dir: "/s", CompactAfter: -1, OnSync: func(time.Duration) { onSync.Add(1) }})
	defer j.Close()
	mustAppend(t, j, rOpen("a", 1))
	syncsBefore, onSyncBefore := ffs.syncs.Load(), onSync.Load()

	appendAsync := func(recs ...Record) chan error {
		done := make(chan error, 1)
		go func() { _, err := j.Append(recs...); done <- err }()
		return done
	}

	// Success: a credit in flight, a finish that needs it buffered behind.
	var gate chan struct{}
	hold := func() {
		gate = make(chan struct{})
		ffs.set(func(f *faultFS) { f.gate = gate })
	}
	release := func() {
		ffs.set(func(f *faultFS) {
			if f.gate != nil {
				close(f.gate)
				f.gate = nil
			}
		})
	}
	defer release() // before Close, should the test fail with a write held
	hold()
	credit := appendAsync(rCredit("a", "coins", "1", 100, 0))
	<-ffs.entered
	finish := appendAsync(rFinish("a", 100))
	waitLastSeq(t, j, 3)
	if got := openTotal(t, j.Ledger(), "a"); got != 0 {
		t.Fatalf("ledger counts %d while the credit's fsync has not returned", got)
	}
	// The durable ledger has a open; the records in flight finished it.
	if _, err := j.Append(rCredit("a", "coins", "1", 100, 0)); err == nil || !strings.Contains(err.Error(), "pending, not open") {
		t.Fatalf("a record that contradicts the records in flight: %v", err)
	}
	release()
	if err := <-credit; err != nil {
		t.Fatal(err)
	}
	if err := <-finish; err != nil {
		t.Fatal(err)
	}
	if p := j.Ledger().Pending(); len(p) != 1 || p[0].Finish.Total != 100 {
		t.Fatalf("pending after both fsyncs %+v", p)
	}
	syncs, calls := ffs.syncs.Load()-syncsBefore, onSync.Load()-onSyncBefore
	if calls != syncs || calls < 1 || calls > 2 {
		t.Errorf("OnSync called %d times for %d fsyncs", calls, syncs)
	}

	// Failure: both writers of a failed group get ErrBroken; neither counts.
	mustAppend(t, j, rOpen("b", 2))
	hold()
	first := appendAsync(rCredit("b", "coins", "1", 50, 0))
	<-ffs.entered
	second := appendAsync(rCredit("b", "coins", "2", 70, 0))
	waitLastSeq(t, j, 6)
	ffs.set(func(f *faultFS) { f.syncErr = errors.New("EIO") })
	release()
	for _, ch := range []chan error{first, second} {
		if err := <-ch; !errors.Is(err, ErrBroken) {
			t.Fatalf("writer of a failed group: %v, want ErrBroken", err)
		}
	}
	if got := openTotal(t, j.Ledger(), "b"); got != 0 {
		t.Fatalf("ledger counts %d of a failed group write", got)
	}
	ffs.set(func(f *faultFS) { f.syncErr = nil })
	if err := j.Probe(); err != nil {
		t.Fatal(err)
	}
	// The refused records are forgotten by the check too.
	if _, err := j.Append(rFinish("b", 120)); err == nil {
		t.Fatal("finish over money whose write failed was accepted")
	}
	mustAppend(t, j, rCredit("b", "coins", "1", 5, 0))
	if got := openTotal(t, j.Ledger(), "b"); got != 5 {
		t.Fatalf("total %d after heal, want 5", got)
	}
}

// TestProbeHealsCompactionFailedAfterRename: a compaction whose rename went
// through but whose directory fsync failed breaks the journal; Probe makes
// the new name durable before it takes records, so records appended after
// the heal survive a power cut.
func TestProbeHealsCompactionFailedAfterRename(t *testing.T) {
	ffs := newFaultFS()
	j := mustOpen(t, Options{FS: ffs, Dir: "/s", CompactAfter: -1})
	for _, id := range []string{"a", "b", "c"} {
		mustAppend(t, j, rOpen(id, 1), rCredit(id, "coins", "1", 100, 0))
		mustAppend(t, j, rFinish(id, 100))
		mustAppend(t, j, rPayment(id, "p"+id))
		mustAppend(t, j, rCommitted(id, "p"+id))
	}
	mustAppend(t, j, rOpen("d", 4))
	ffs.set(func(f *faultFS) { f.syncDirErr = errors.New("EIO on directory") })
	if err := j.Compact(); err == nil || !strings.Contains(err.Error(), "after rename") {
		t.Fatalf("compaction with a failing dir fsync: %v", err)
	}
	if _, err := j.Append(rCredit("d", "coins", "1", 100, 0)); !errors.Is(err, ErrBroken) {
		t.Fatalf("append after a compaction broke the journal: %v", err)
	}
	if err := j.Probe(); !errors.Is(err, ErrBroken) {
		t.Fatalf("probe while the dir fsync fails: %v", err)
	}
	ffs.set(func(f *faultFS) { f.syncDirErr = nil })
	if err := j.Probe(); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, j, rCredit("d", "coins", "1", 250, 0))
	want := j.Ledger()
	j.Close()
	ffs.Crash()
	j = mustOpen(t, Options{FS: ffs, Dir: "/s"})
	defer j.Close()
	sameLedger(t, want.Ledger, j.Ledger().Ledger)
	if got := openTotal(t, j.Ledger(), "d"); got != 250 {
		t.Fatalf("after the power cut d holds %d, want 250", got)
	}
}

// TestOnSyncReportsEachDurableWrite: one call per fsync, with the time the
// write and fsync took.
func TestOnSyncReportsEachDurableWrite(t *testing.T) {
	var mu sync.Mutex
	var got []time.Duration
	j := mustOpen(t, Options{Dir: t.TempDir(), OnSync: func(d time.Duration) {
		mu.Lock()
		got = append(got, d)
		mu.Unlock()
	}})
	defer j.Close()
	mustAppend(t, j, rOpen("a", 1))
	for i := range 4 {
		mustAppend(t, j, rCredit("a", "coins", "1", 10, i+1))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 5 {
		t.Fatalf("OnSync called %d times for 5 appends", len(got))
	}
	for _, d := range got {
		if d <= 0 {
			t.Fatalf("OnSync durations %v", got)
		}
	}
}
