// Package journal owns the kiosk's write-ahead journal: the append-only file
// in the state directory that makes every accepted coin and note durable
// before anyone counts it, the Ledger that gives its records their meaning
// (sessions, booking queue, unclaimed cash, device counters, cash-up
// totals), compaction, and a read-only Inspect for the technician's tool.
// See docs/ARCHITECTURE.md for its place among the packages.
//
// # File format
//
// The file is named "journal" (mode 0600). Each record is one line:
//
//	<JSON of Record>\t<CRC-32C of the JSON bytes, 8 lowercase hex digits>\n
//
// encoding/json escapes tabs and newlines inside strings, so the last tab
// of a line always separates the record from its checksum. A record is
// durable once Append returns: Append writes and fsyncs before it returns.
// The journal's Ledger counts a record only once its fsync has returned, so
// nobody (booking, the cash-up) sees money that is not on disk.
//
// # Failed writes
//
// A write or fsync that fails breaks the journal: the file may hold a
// partial line, so every Append fails with ErrBroken. Probe heals it: it
// cuts the file back to the offset after the last successful fsync, reopens
// the append handle, fsyncs file and directory, checks that the file
// replays to exactly the acknowledged records, and only then takes records
// again. Nothing of the failed write survives: its callers got an error.
//
// # Replay
//
// Open reads the whole file and applies each record to a Ledger. Seqs must
// strictly increase. A torn last line (no newline, or a checksum or syntax
// that does not hold on the very last line: a power cut mid-write) is cut
// off, with a log line naming its offset. Anything wrong before the last
// line, and any record the Ledger refuses (wherever it is), stops the start
// with a *ReplayError naming the line and byte offset: money is never
// skipped silently. `kioskctl journal inspect` shows the bad bytes.
//
// # Compaction
//
// When enough settled history has piled up (Options.CompactAfter records of
// committed or cancelled sessions, superseded counters, ...), the journal
// writes "journal.compact" with the live records (Ledger.Live) and a
// KindCarry record holding the cash-up totals and device counters of what
// was folded away, fsyncs it, renames it over "journal" and fsyncs the
// directory. Seqs keep their values and keep growing.
package journal

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync"
	"time"
)

// FileName is the journal's name in the state directory.
const FileName = "journal"

const compactName = FileName + ".compact"

// DefaultCompactAfter is Options.CompactAfter when zero.
const DefaultCompactAfter = 5000

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrBroken is wrapped by every Append after a write or fsync failed: the
// file may hold a partial line, so nothing more is written until Probe has
// cut it back to what is durable (or the journal is reopened, which replays
// and cuts the torn tail).
var ErrBroken = errors.New("journal: broken by an earlier write failure; no money can be journaled until Probe heals it or it is reopened")

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("journal: closed")

// Options configures Open.
type Options struct {
	FS           FS // nil: OSFS()
	Dir          string
	Log          *slog.Logger // nil: discard
	CompactAfter int          // settled records before compaction; 0: DefaultCompactAfter, <0: never
	// OnSync, when set, is called after each durable write of appended
	// records with the time from the start of the write to fsync returning:
	// once per fsync, however many Appends that fsync made durable (group
	// commit). It runs on the writing goroutine with no lock held, one call
	// at a time; it must be quick (feed a histogram). Compaction's writes and
	// Probe's repair are not reported.
	OnSync func(d time.Duration)
}

// ReplayError is a bad record before the end of the journal (or one the
// Ledger refuses): the start stops rather than skip money.
type ReplayError struct {
	Path   string
	Line   int   // 1-based
	Offset int64 // byte offset of the line's start
	Err    error
}

func (e *ReplayError) Error() string {
	return fmt.Sprintf("journal: bad record in %s at line %d (byte offset %d): %v; the file was left as it is: "+
		"inspect it with `kioskctl journal inspect --state-dir %s --records` and repair it by hand before starting",
		e.Path, e.Line, e.Offset, e.Err, filepath.Dir(e.Path))
}

func (e *ReplayError) Unwrap() error { return e.Err }

// Journal is the open journal. Append is safe for concurrent use.
type Journal struct {
	fs           FS
	dir, path    string
	log          *slog.Logger
	compactAfter int

	onSync func(time.Duration)

	mu   sync.Mutex
	cond *sync.Cond
	f    File
	// ledger holds only durable records: a record is applied to it after
	// its fsync returned. tent is ledger plus the records buffered or being
	// written: Append checks new records against it, so a batch that does
	// not fit is refused before anything reaches the disk.
	ledger   *Ledger
	tent     *Ledger
	replayed []Record
	nextSeq  uint64
	buf      []byte   // encoded, checked against tent, not yet written
	bufRecs  []Record // the records in buf, in order
	durable  uint64   // every Seq <= durable is fsynced
	size     int64    // bytes of the file made durable: the offset Probe cuts back to
	gen      uint64   // bumped by each heal: records buffered before it were dropped
	flushing bool     // one goroutine writes at a time
	broken   error    // non-nil: the last write failed and Probe has not healed it
	lastFail error    // the last write failure, for the errors of Appends it dropped
	closed   bool
	baseline int // ledger.settled right after the last compaction or open
	// damage is the unacknowledged journal-damaged-* files in the state
	// directory; cutNow those this Open made (to tell torn from damaged).
	damage []Damage
	cutNow []Damage
}

// EncodeLine renders one record as a journal line.
func EncodeLine(r Record) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("journal: encode record %d (%s): %w", r.Seq, r.Kind, err)
	}
	var sum [4]byte
	c := crc32.Checksum(b, castagnoli)
	sum[0], sum[1], sum[2], sum[3] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
	out := make([]byte, 0, len(b)+10)
	out = append(out, b...)
	out = append(out, '\t')
	out = hex.AppendEncode(out, sum[:])
	return append(out, '\n'), nil
}

// errChecksum marks a line whose checksum does not hold: on the last line
// that is a torn write, anywhere else corruption.
var errChecksum = errors.New("checksum does not hold")

// decodeLine parses one line without its newline; prevSession is the
// session of the line before (see parseEnvelope).
func decodeLine(line []byte, prevSession string) (Record, error) {
	tab := bytes.LastIndexByte(line, '\t')
	if tab < 0 {
		return Record{}, fmt.Errorf("%w: no checksum", errChecksum)
	}
	body, sumHex := line[:tab], line[tab+1:]
	var sum [4]byte
	if len(sumHex) != 8 {
		return Record{}, fmt.Errorf("%w: %q is not 8 hex digits", errChecksum, sumHex)
	}
	if _, err := hex.Decode(sum[:], sumHex); err != nil {
		return Record{}, fmt.Errorf("%w: %q: %v", errChecksum, sumHex, err)
	}
	want := uint32(sum[0])<<24 | uint32(sum[1])<<16 | uint32(sum[2])<<8 | uint32(sum[3])
	if got := crc32.Checksum(body, castagnoli); got != want {
		return Record{}, fmt.Errorf("%w: line says %08x, content is %08x", errChecksum, want, got)
	}
	r, ok := parseEnvelope(body, prevSession)
	if !ok {
		var err error
		if r, err = unmarshalRecord(body); err != nil {
			return Record{}, fmt.Errorf("record: %w", err)
		}
	}
	if !r.Kind.Known() {
		return Record{}, fmt.Errorf("unknown kind %q", r.Kind)
	}
	return r, nil
}

// unmarshalRecord is the slow path of decodeLine. It is a function of its
// own so that only it pays the heap allocation of handing &r to
// encoding/json, not every line.
func unmarshalRecord(body []byte) (Record, error) {
	var r Record
	err := json.Unmarshal(body, &r)
	return r, err
}

// scanResult is what a scan of journal bytes found.
type scanResult struct {
	records  []Record
	ledger   *Ledger
	validEnd int64        // bytes of whole, valid lines
	torn     bool         // bytes after validEnd are a torn last line
	damaged  bool         // bytes after validEnd are a complete last line whose checksum fails
	bad      *ReplayError // a bad record before the end: validEnd is where it starts
}

// scan replays data into a fresh ledger. It never panics on any input.
func scan(data []byte, path string) scanResult {
	res := scanResult{ledger: NewLedger(), records: make([]Record, 0, bytes.Count(data, []byte{'\n'}))}
	var off int64
	var prevSession string
	for line := 1; off < int64(len(data)); line++ {
		rest := data[off:]
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			res.torn = true // no newline: the write of the last line was cut
			return res
		}
		r, err := decodeLine(rest[:nl], prevSession)
		last := off+int64(nl)+1 == int64(len(data))
		if err != nil && last && errors.Is(err, errChecksum) {
			// A complete last line (it has its newline) whose checksum
			// fails is damage, not a torn write: Open keeps its bytes and
			// raises an alert. It is not applied either way.
			res.damaged = true
			return res
		}
		if err == nil {
			err = res.ledger.Apply(r)
		}
		if err != nil {
			res.bad = &ReplayError{Path: path, Line: line, Offset: off, Err: err}
			return res
		}
		res.records = append(res.records, r)
		prevSession = r.Session
		off += int64(nl) + 1
		res.validEnd = off
	}
	return res
}

// Open replays the journal in o.Dir (creating it if missing), cuts a torn
// last line, and returns the journal ready for Append.
func Open(o Options) (*Journal, error) {
	if o.FS == nil {
		o.FS = OSFS()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.CompactAfter == 0:
		o.CompactAfter = DefaultCompactAfter
	case o.CompactAfter < 0:
		o.CompactAfter = int(^uint(0) >> 1)
	}
	j := &Journal{fs: o.FS, dir: o.Dir, path: filepath.Join(o.Dir, FileName), log: o.Log, compactAfter: o.CompactAfter,
		onSync: o.OnSync}
	j.cond = sync.NewCond(&j.mu)
	if err := j.fs.MkdirAll(o.Dir); err != nil {
		return nil, fmt.Errorf("journal: create state dir: %w", err)
	}
	// A compaction cut short leaves its temporary file; the journal it was
	// meant to replace is intact.
	if err := j.fs.Remove(filepath.Join(o.Dir, compactName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("journal: remove stale %s: %w", compactName, err)
	}
	data, err := j.fs.ReadFile(j.path)
	created := false
	switch {
	case errors.Is(err, fs.ErrNotExist):
		created = true
	case err != nil:
		return nil, fmt.Errorf("journal: read: %w", err)
	}
	res := scan(data, j.path)
	if res.bad != nil {
		return nil, res.bad
	}
	if res.torn || res.damaged {
		// Never lose journal bytes without a copy: the cut bytes go to
		// "journal-damaged-<offset>" (durable) before the journal is cut.
		kept, err := j.keepDamaged(res.validEnd, data[res.validEnd:])
		if err != nil {
			return nil, err
		}
		if res.damaged {
			j.log.Error("journal: the last record is damaged (complete line, checksum fails): cut, its bytes kept for a technician",
				"path", j.path, "offset", res.validEnd, "bytes", int64(len(data))-res.validEnd, "copy", kept)
		} else {
			j.log.Warn("journal: cutting torn last line (power cut during a write)",
				"path", j.path, "offset", res.validEnd, "bytes", int64(len(data))-res.validEnd, "copy", kept)
		}
		j.cutNow = append(j.cutNow, Damage{Name: filepath.Base(kept), Offset: res.validEnd, Size: int64(len(data)) - res.validEnd, Torn: res.torn})
		if err := j.fs.Truncate(j.path, res.validEnd); err != nil {
			return nil, fmt.Errorf("journal: cut torn last line at offset %d: %w", res.validEnd, err)
		}
	}
	f, err := j.fs.OpenAppend(j.path)
	if err != nil {
		return nil, fmt.Errorf("journal: open: %w", err)
	}
	if res.torn || res.damaged || created {
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("journal: sync: %w", err)
		}
	}
	if created {
		if err := j.fs.SyncDir(o.Dir); err != nil {
			f.Close()
			return nil, fmt.Errorf("journal: sync dir: %w", err)
		}
	}
	j.f = f
	if j.damage, err = j.listDamage(); err != nil {
		f.Close()
		return nil, err
	}
	j.ledger = res.ledger
	j.tent = res.ledger.Clone()
	j.size = res.validEnd
	j.replayed = res.records
	j.nextSeq = res.ledger.LastSeq() + 1
	j.durable = res.ledger.LastSeq()
	j.baseline = res.ledger.settled
	j.log.Info("journal: replayed", "path", j.path, "records", len(res.records),
		"open", len(res.ledger.OpenSessions()), "pending", len(res.ledger.Pending()))
	return j, nil
}

// Records returns what replay found at Open.
func (j *Journal) Records() []Record {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Record(nil), j.replayed...)
}

// Ledger returns a deep copy of the ledger of durable records: a record
// counts once its fsync has returned, never while it is being written, and
// never when its write failed.
func (j *Journal) Ledger() Snapshot {
	j.mu.Lock()
	defer j.mu.Unlock()
	return Snapshot{j.ledger.Clone()}
}

// Session looks up one session in the ledger of durable records without
// copying the whole ledger (Ledger.Session).
func (j *Journal) Session(id string) (SessionInfo, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.ledger.Session(id)
}

// LastSeq is the Seq of the last record given out by Append (or replayed).
// Seqs of records whose write failed are not given out again, so the file
// may skip them; Seqs only ever grow.
func (j *Journal) LastSeq() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.nextSeq - 1
}

// Append gives recs consecutive Seqs, checks them against the ledger, writes
// and fsyncs them, and returns the first Seq once all are durable; only then
// does Ledger count them. A record the ledger refuses fails the whole call
// and writes nothing. Concurrent callers share fsyncs (group commit). After
// a write or fsync failure every Append fails with ErrBroken until Probe
// heals the journal (or it is reopened); a failed Append's records are never
// counted and never reach the healed file.
func (j *Journal) Append(recs ...Record) (uint64, error) {
	if len(recs) == 0 {
		return 0, errors.New("journal: append of no records")
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return 0, ErrClosed
	}
	if j.broken != nil {
		return 0, fmt.Errorf("%w (%v)", ErrBroken, j.broken)
	}
	first := j.nextSeq
	lines := make([]byte, 0, 256*len(recs))
	rs := make([]Record, len(recs))
	for i, r := range recs {
		r.Seq = first + uint64(i)
		if r.Time.IsZero() {
			r.Time = time.Now().UTC()
		}
		line, err := EncodeLine(r)
		if err != nil {
			return 0, err
		}
		lines = append(lines, line...)
		rs[i] = r
	}
	// Check before writing: a record that does not fit never reaches disk.
	// The check is against tent (durable plus in flight); the durable ledger
	// learns the records after their fsync.
	if len(rs) == 1 {
		if err := j.tent.Apply(rs[0]); err != nil {
			return 0, err
		}
	} else {
		l := j.tent.Clone()
		for _, r := range rs {
			if err := l.Apply(r); err != nil {
				return 0, err
			}
		}
		j.tent = l
	}
	last := first + uint64(len(rs)) - 1
	j.nextSeq = last + 1
	j.buf = append(j.buf, lines...)
	j.bufRecs = append(j.bufRecs, rs...)
	gen := j.gen

	for j.durable < last && j.broken == nil && j.gen == gen {
		if j.flushing {
			j.cond.Wait()
			continue
		}
		j.flushLocked()
	}
	if j.gen != gen || j.durable < last {
		// The write that carried these records failed (and may since have
		// been healed away): they are not on disk.
		return 0, fmt.Errorf("%w (%v)", ErrBroken, j.lastFail)
	}
	return first, nil
}

// flushLocked writes and fsyncs everything buffered, with j.mu held on entry
// and exit (released during the I/O), applies the records to the durable
// ledger once the fsync returned, then compacts if due.
func (j *Journal) flushLocked() {
	if len(j.bufRecs) == 0 {
		return
	}
	j.flushing = true
	buf, recs := j.buf, j.bufRecs
	j.buf, j.bufRecs = nil, nil
	f := j.f
	j.mu.Unlock()
	start := time.Now()
	_, err := f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if err == nil && j.onSync != nil {
		j.onSync(time.Since(start))
	}
	j.mu.Lock()
	if err != nil {
		j.broken, j.lastFail = err, err
		j.log.Error("journal: write failed; refusing further records until Probe heals it",
			"path", j.path, "durable_offset", j.size, "records_lost", len(recs), "err", err)
	} else {
		j.size += int64(len(buf))
		j.durable = recs[len(recs)-1].Seq
		for _, r := range recs {
			// tent took these records in this order from the same state, so
			// this cannot fail; if it did, the file and the ledger disagree
			// and nothing more may be written.
			if aerr := j.ledger.Apply(r); aerr != nil {
				j.broken, j.lastFail = aerr, aerr
				j.log.Error("journal: durable record refused by the ledger; refusing further records", "path", j.path, "err", aerr)
				break
			}
		}
		if j.broken == nil && len(j.buf) == 0 && j.ledger.settled-j.baseline > j.compactAfter {
			if err := j.compactLocked(); err != nil {
				j.log.Error("journal: compaction failed", "path", j.path, "err", err)
			}
		}
	}
	j.flushing = false
	j.cond.Broadcast()
}

// Probe checks that the journal can take records now, and heals a journal
// broken by a failed write. Unbroken, it only checks that the journal is
// open with a handle to write through: it writes nothing, so it is cheap
// enough for a watchdog. Broken, it cuts the file back to the offset after
// the last successful fsync (the failed write may have left a partial
// line), reopens the append handle, fsyncs the file and the directory,
// checks that the file now replays to exactly the durable ledger, and only
// then takes records again; it returns nil when the journal can be written,
// an error (wrapping ErrBroken) while the disk still fails. Safe for
// concurrent use with Append.
func (j *Journal) Probe() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.flushing {
		j.cond.Wait()
	}
	if j.closed {
		return ErrClosed
	}
	if j.broken == nil {
		if j.f == nil {
			return fmt.Errorf("journal: probe: no open handle on %s", j.path)
		}
		return nil
	}
	if err := j.healLocked(); err != nil {
		return fmt.Errorf("%w (%v); heal: %w", ErrBroken, j.broken, err)
	}
	return nil
}

// healLocked repairs a broken journal with j.mu held and nothing in flight.
// Every step is safe to repeat, so a heal that fails half-way is simply
// tried again by the next Probe.
func (j *Journal) healLocked() error {
	if err := j.fs.Truncate(j.path, j.size); err != nil {
		return fmt.Errorf("cut back to durable offset %d: %w", j.size, err)
	}
	nf, err := j.fs.OpenAppend(j.path)
	if err != nil {
		return fmt.Errorf("reopen: %w", err)
	}
	if err := nf.Sync(); err != nil {
		nf.Close()
		return fmt.Errorf("sync after cut: %w", err)
	}
	// A compaction that failed after its rename left the new name not yet
	// durable: appends to it must not outlive a power cut that forgets it.
	if err := j.fs.SyncDir(j.dir); err != nil {
		nf.Close()
		return fmt.Errorf("sync dir: %w", err)
	}
	// Trust, but verify: what the disk now holds must replay to exactly the
	// records that were acknowledged, or a restart could not either.
	data, err := j.fs.ReadFile(j.path)
	if err != nil {
		nf.Close()
		return fmt.Errorf("read back: %w", err)
	}
	if int64(len(data)) != j.size {
		nf.Close()
		return fmt.Errorf("file holds %d bytes after the cut, want %d", len(data), j.size)
	}
	if res := scan(data, j.path); res.bad != nil || res.torn || res.ledger.LastSeq() != j.ledger.LastSeq() {
		nf.Close()
		if res.bad != nil {
			return fmt.Errorf("file no longer replays: %w; restart the daemon", res.bad)
		}
		return fmt.Errorf("file replays to seq %d (torn %v), acknowledged %d; restart the daemon",
			res.ledger.LastSeq(), res.torn, j.ledger.LastSeq())
	}
	if j.f != nil {
		_ = j.f.Close() // the old handle saw the failure; its error says nothing new
	}
	j.f = nf
	// Records buffered behind the failed write were never acknowledged:
	// drop them, and with them what tent learned from them.
	j.buf, j.bufRecs = nil, nil
	j.tent = j.ledger.Clone()
	j.gen++
	j.log.Info("journal: healed after a failed write; taking records again",
		"path", j.path, "durable_offset", j.size, "last_seq", j.ledger.LastSeq(), "failure", j.broken)
	j.broken = nil
	j.cond.Broadcast()
	return nil
}

// drainLocked writes what is buffered and waits for writes in flight, unless
// the journal is broken or closed.
func (j *Journal) drainLocked() {
	for j.flushing || (len(j.bufRecs) > 0 && j.broken == nil && !j.closed) {
		if j.flushing {
			j.cond.Wait()
			continue
		}
		j.flushLocked()
	}
}

// Compact folds settled history now, whatever CompactAfter says.
func (j *Journal) Compact() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	// Compaction folds the durable ledger: write what is buffered first.
	j.drainLocked()
	if j.closed {
		return ErrClosed
	}
	if j.broken != nil {
		return fmt.Errorf("%w (%v)", ErrBroken, j.broken)
	}
	j.flushing = true
	defer func() { j.flushing = false; j.cond.Broadcast() }()
	return j.compactLocked()
}

// compactLocked rewrites the journal as its live records plus a carry. It
// runs with j.mu held and nothing buffered, so no record is in flight and
// tent equals the durable ledger. Before the rename a failure leaves the old
// journal in charge; after it the journal is broken until Probe reopens the
// new file and makes its name durable.
func (j *Journal) compactLocked() error {
	recs, nl, err := j.ledger.compacted(j.nextSeq, time.Now().UTC())
	if err != nil {
		return err
	}
	var out []byte
	for _, r := range recs {
		line, err := EncodeLine(r)
		if err != nil {
			return err
		}
		out = append(out, line...)
	}
	tmp := filepath.Join(j.dir, compactName)
	abandon := func(err error) error {
		_ = j.fs.Remove(tmp)
		return fmt.Errorf("journal: compaction: %w", err)
	}
	f, err := j.fs.Create(tmp)
	if err != nil {
		return abandon(err)
	}
	if _, err := f.Write(out); err != nil {
		f.Close()
		return abandon(err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return abandon(err)
	}
	if err := f.Close(); err != nil {
		return abandon(err)
	}
	if err := j.fs.Rename(tmp, j.path); err != nil {
		return abandon(err)
	}
	// From here "journal" names the new file; both it and the old one hold
	// the same ledger, so a crash either side of the dir fsync is fine. The
	// in-memory state follows the new file at once, so a heal cuts back to
	// the new file's length.
	before := len(j.ledger.Live())
	j.ledger = nl
	j.tent = nl.Clone()
	j.nextSeq++
	j.durable = j.nextSeq - 1
	j.size = int64(len(out))
	j.baseline = nl.settled
	fail := func(err error) error {
		j.broken, j.lastFail = err, err
		return fmt.Errorf("journal: compaction after rename: %w", err)
	}
	if err := j.fs.SyncDir(j.dir); err != nil {
		return fail(err)
	}
	nf, err := j.fs.OpenAppend(j.path)
	if err != nil {
		return fail(err)
	}
	j.f.Close()
	j.f = nf
	j.log.Info("journal: compacted", "path", j.path, "kept", before, "bytes", len(out))
	return nil
}

// Close writes what is buffered, waits for writes in flight and closes the
// file.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.drainLocked()
	if j.closed {
		return ErrClosed
	}
	j.closed = true
	if err := j.f.Close(); err != nil {
		return fmt.Errorf("journal: close: %w", err)
	}
	return nil
}

// parseEnvelope reads the exact layout EncodeLine writes
// ({"k":..,"s":..,"n":..,"t":..,"d":..}) without reflection, which halves
// replay time. Anything else (escapes, other order, other spacing) reports
// !ok and goes through encoding/json, so both accept the same records.
//
// prevSession is the session of the line before (or ""): a session's
// records mostly follow each other, so reusing its string saves an
// allocation per record, and the ledger's copies share one string.
func parseEnvelope(b []byte, prevSession string) (Record, bool) {
	var r Record
	rest, ok := bytes.CutPrefix(b, []byte(`{"k":"`))
	if !ok {
		return r, false
	}
	str := func() ([]byte, bool) {
		end := bytes.IndexByte(rest, '"')
		if end < 0 {
			return nil, false
		}
		v := rest[:end]
		for _, c := range v {
			if c < 0x20 || c >= 0x80 || c == '\\' {
				return nil, false // escapes, control bytes, non-ASCII: let encoding/json judge
			}
		}
		rest = rest[end+1:]
		return v, true
	}
	k, ok := str()
	if !ok {
		return r, false
	}
	r.Kind = internKind(k)
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"s":"`)); ok {
		s, ok := str()
		if !ok || len(s) == 0 {
			return r, false
		}
		if string(s) == prevSession {
			r.Session = prevSession
		} else {
			r.Session = string(s)
		}
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"n":`)); !ok {
		return r, false
	}
	i := 0
	for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
		if r.Seq > (1<<64-1-9)/10 || (i == 1 && rest[0] == '0') {
			return r, false
		}
		r.Seq = r.Seq*10 + uint64(rest[i]-'0')
	}
	if i == 0 {
		return r, false
	}
	rest = rest[i:]
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"t":"`)); !ok {
		return r, false
	}
	end := bytes.IndexByte(rest, '"')
	if end < 0 || r.Time.UnmarshalText(rest[:end]) != nil {
		return r, false
	}
	rest = rest[end+1:]
	if len(rest) == 1 && rest[0] == '}' {
		return r, true
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"d":`)); !ok || len(rest) < 2 || rest[len(rest)-1] != '}' {
		return r, false
	}
	d := rest[:len(rest)-1]
	if d[0] != '{' || !validData(d) {
		return r, false
	}
	r.Data = d
	return r, true
}

// internKind returns the constant for a known kind, so parsing one does not
// allocate; an unknown kind gets its own string (and is refused later).
func internKind(b []byte) Kind {
	for _, k := range allKinds {
		if string(k) == string(b) {
			return k
		}
	}
	return Kind(b)
}

// allKinds lists every known kind, the hottest first.
var allKinds = [...]Kind{KindCredit, KindSessionOpen, KindFinish, KindPaymentCreated, KindCommitted,
	KindUserResolved, KindUnclaimed, KindClaim, KindUnrecognised, KindNoteEscrow, KindNoteReturned,
	KindCancel, KindPaymentDropped, KindAttention, KindCounter, KindCashup, KindCarry}
