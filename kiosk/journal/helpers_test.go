package journal

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func at(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }

func rOpen(id string, user int64) Record {
	return New(KindSessionOpen, id, at(1), SessionOpen{Card: "0012345678", UserID: user, FullName: "Ada " + id})
}
func rCredit(id, dev, key string, amt int64, counter int) Record {
	return New(KindCredit, id, at(2), Credit{Device: dev, Key: key, Amount: amt, Counter: counter})
}
func rUnclaimed(dev, key string, amt int64) Record {
	return New(KindUnclaimed, "", at(3), Credit{Device: dev, Key: key, Amount: amt})
}
func rClaim(id string, amt int64, seqs ...uint64) Record {
	return New(KindClaim, id, at(4), Claim{Seqs: seqs, Amount: amt})
}
func rFinish(id string, total int64) Record {
	return New(KindFinish, id, at(5), Finish{Total: total, Reference: "kiosk/" + id, UserID: 7, Reason: "enter"})
}
func rPayment(id, pid string) Record {
	return New(KindPaymentCreated, id, at(6), PaymentCreated{PaymentID: pid, UserID: 7})
}
func rDropped(id, pid string) Record {
	return New(KindPaymentDropped, id, at(6), PaymentCreated{PaymentID: pid, UserID: 7})
}
func rCommitted(id, pid string) Record {
	return New(KindCommitted, id, at(7), Committed{PaymentID: pid})
}
func rAttention(id, why string) Record { return New(KindAttention, id, at(8), Attention{Reason: why}) }
func rCancel(id string) Record         { return New(KindCancel, id, at(9), nil) }
func rEscrow(id, dev, note string, amt int64) Record {
	return New(KindNoteEscrow, id, at(10), NoteEscrow{Device: dev, NoteID: note, Key: "1", Amount: amt})
}
func rReturned(id, dev, note string) Record {
	return New(KindNoteReturned, id, at(11), NoteReturned{Device: dev, NoteID: note})
}
func rCounter(dev string, c int) Record {
	return New(KindCounter, "", at(12), Counter{Device: dev, Counter: c})
}
func rCashup() Record { return New(KindCashup, "", at(13), Cashup{By: "tech"}) }
func rUnrecognised(dev string) Record {
	return New(KindUnrecognised, "", at(14), Unrecognised{Device: dev, What: "coin 9"})
}

// workload produces a realistic, deterministic stream of appends: each
// element is one Append call. Seqs for claims are filled by the caller via
// the claim func, which gets the Seqs of the unclaimed records so far.
type workload struct {
	rng       *rand.Rand
	n         int
	open      map[string]int64 // session -> money
	pending   []string
	payments  map[string]string
	unclaimed []uint64 // seqs not yet claimed
	amounts   map[uint64]int64
	counter   int
	noteN     int
	escrowed  map[string]string // note -> session
}

func newWorkload(seed uint64) *workload {
	return &workload{rng: rand.New(rand.NewPCG(seed, seed^0x9e37)), open: map[string]int64{}, payments: map[string]string{},
		amounts: map[uint64]int64{}, escrowed: map[string]string{}}
}

// next returns the next batch to append, given the Seq it will start at.
func (w *workload) next(firstSeq uint64) []Record {
	w.n++
	for {
		switch w.rng.IntN(14) {
		case 0, 1:
			id := fmt.Sprintf("s%04d", w.n)
			w.open[id] = 0
			return []Record{rOpen(id, int64(w.n))}
		case 2, 3, 4:
			for _, id := range w.openIDs() {
				amt := int64(10 * (1 + w.rng.IntN(20)))
				w.open[id] += amt
				w.counter = w.counter%255 + 1
				return []Record{rCredit(id, "coins", fmt.Sprint(amt/10), amt, w.counter)}
			}
		case 5:
			for _, id := range w.openIDs() {
				m := w.open[id]
				if w.hasNote(id) {
					continue
				}
				delete(w.open, id)
				if m == 0 {
					return []Record{rCancel(id)}
				}
				w.pending = append(w.pending, id)
				return []Record{rFinish(id, m)}
			}
		case 6, 7:
			if len(w.pending) > 0 {
				id := w.pending[0]
				if pid, ok := w.payments[id]; ok {
					w.pending = w.pending[1:]
					delete(w.payments, id)
					return []Record{rCommitted(id, pid)}
				}
				pid := fmt.Sprintf("p%d", w.n)
				w.payments[id] = pid
				return []Record{rPayment(id, pid)}
			}
		case 8:
			if len(w.pending) > 0 {
				id := w.pending[len(w.pending)-1]
				if pid, ok := w.payments[id]; ok && w.rng.IntN(2) == 0 {
					delete(w.payments, id)
					return []Record{rDropped(id, pid)}
				}
				return []Record{rAttention(id, fmt.Sprintf("provider disabled %d", w.n))}
			}
		case 9:
			amt := int64(50)
			w.unclaimed = append(w.unclaimed, firstSeq)
			w.amounts[firstSeq] = amt
			return []Record{rUnclaimed("pulse", "5", amt)}
		case 10:
			if len(w.unclaimed) > 0 {
				// A card tap opening a session and claiming: one batch.
				id := fmt.Sprintf("s%04d", w.n)
				var sum int64
				for _, q := range w.unclaimed {
					sum += w.amounts[q]
				}
				recs := []Record{rOpen(id, int64(w.n)), rClaim(id, sum, w.unclaimed...)}
				w.unclaimed = nil
				w.open[id] = sum
				return recs
			}
		case 11:
			for _, id := range w.openIDs() {
				w.noteN++
				n := fmt.Sprintf("n%d", w.noteN)
				if len(w.escrowed) > 0 || w.rng.IntN(2) == 0 {
					for _, nid := range sortedKeys(w.escrowed) {
						sid := w.escrowed[nid]
						if _, ok := w.open[sid]; !ok {
							continue
						}
						delete(w.escrowed, nid)
						if w.rng.IntN(2) == 0 {
							return []Record{rReturned(sid, "bills", nid)}
						}
						w.open[sid] += 500
						c := Credit{Device: "bills", Key: "1", Amount: 500, NoteID: nid}
						return []Record{New(KindCredit, sid, at(2), c)}
					}
				}
				w.escrowed[n] = id
				return []Record{rEscrow(id, "bills", n, 500)}
			}
		case 12:
			w.counter = w.counter%255 + 1
			return []Record{rCounter("cctalk", w.counter)}
		case 13:
			if w.rng.IntN(4) == 0 {
				return []Record{rCashup()}
			}
			return []Record{rUnrecognised("coins")}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func (w *workload) hasNote(id string) bool {
	for _, sid := range w.escrowed {
		if sid == id {
			return true
		}
	}
	return false
}

// openIDs is the open sessions in a seeded random order.
func (w *workload) openIDs() []string {
	ks := sortedKeys(w.open)
	w.rng.Shuffle(len(ks), func(i, j int) { ks[i], ks[j] = ks[j], ks[i] })
	return ks
}

// ledgerOf folds recs into a fresh ledger, failing the test on error.
func ledgerOf(t testing.TB, recs []Record) *Ledger {
	t.Helper()
	l := NewLedger()
	for _, r := range recs {
		if err := l.Apply(r); err != nil {
			t.Fatalf("apply: %v", err)
		}
	}
	return l
}

// sameLedger fails unless got answers every query as want does (Committed
// up to what compaction keeps).
func sameLedger(t testing.TB, want, got *Ledger) {
	t.Helper()
	check := func(what string, w, g any) {
		t.Helper()
		if !reflect.DeepEqual(w, g) {
			t.Errorf("%s differ:\nwant %+v\n got %+v", what, w, g)
		}
	}
	check("open sessions", want.OpenSessions(), got.OpenSessions())
	check("pending", want.Pending(), got.Pending())
	check("unclaimed", want.Unclaimed(), got.Unclaimed())
	check("counters", want.Counters(), got.Counters())
	check("pending notes", want.PendingNotes(), got.PendingNotes())
	check("cash", want.Cash(), got.Cash())
	check("committed", want.Committed(keepCommitted), got.Committed(keepCommitted))
}

// checkCashIdentity asserts the cash-up totals add up.
func checkCashIdentity(t testing.TB, l *Ledger) {
	t.Helper()
	c := l.Cash()
	if c.Accepted != c.Committed+c.Pending+c.InSession+c.Unclaimed {
		t.Fatalf("cash totals do not add up: %+v", c)
	}
}
