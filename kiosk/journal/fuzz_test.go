package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func seedJournal(t testing.TB) []byte {
	var out []byte
	for _, r := range seqd(rUnclaimed("p", "5", 50), rOpen("a", 1), rClaim("a", 50, 1), rCredit("a", "c", "1", 100, 3),
		rEscrow("a", "b", "n", 500), rReturned("a", "b", "n"), rFinish("a", 150), rPayment("a", "p"), rCommitted("a", "p"),
		rCashup(), rCounter("c", 4)) {
		line, err := EncodeLine(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, line...)
	}
	return out
}

// FuzzReplay: any file bytes either replay to a valid prefix (cutting at
// most a torn last line) or stop with a ReplayError; never a panic.
func FuzzReplay(f *testing.F) {
	good := seedJournal(f)
	f.Add(good)
	f.Add(good[:len(good)-5])
	f.Add([]byte{})
	f.Add([]byte("\n\n"))
	f.Add([]byte("{}\t00000000\n"))
	f.Add(append(append([]byte(nil), good[:40]...), good...))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := NewStrictMemFS()
		m.WriteFile("/s/journal", data)
		rep, err := Inspect(m, "/s")
		if err != nil {
			t.Fatal(err)
		}
		j, err := Open(Options{FS: m, Dir: "/s"})
		if err != nil {
			var re *ReplayError
			if !errors.As(err, &re) {
				t.Fatalf("open failed without a ReplayError: %v", err)
			}
			if rep.Bad == nil || rep.Bad.Line != re.Line {
				t.Fatalf("inspect and open disagree: %+v vs %v", rep.Bad, err)
			}
			return
		}
		defer j.Close()
		now := mustRead(t, m, "/s/journal")
		if !bytes.HasPrefix(data, now) {
			t.Fatal("open kept something that is not a prefix of the file")
		}
		if len(j.Records()) != len(rep.Records) {
			t.Fatalf("open kept %d records, inspect %d", len(j.Records()), len(rep.Records))
		}
		checkCashIdentity(t, j.Ledger().Ledger)
	})
}

// FuzzLedgerApply: arbitrary records (one JSON object a line) are applied or
// refused; the ledger never panics and its totals always add up.
func FuzzLedgerApply(f *testing.F) {
	var lines []byte
	for _, r := range seqd(rUnclaimed("p", "5", 50), rOpen("a", 1), rClaim("a", 50, 1), rCredit("a", "c", "1", 100, 3),
		rFinish("a", 150), rPayment("a", "p"), rDropped("a", "p"), rAttention("a", "x"), rCommitted("a", "p"), rCashup(),
		New(KindCarry, "", at(1), Carry{Totals: CashTotals{Accepted: 5, Committed: 5}, Counters: map[string]int{"c": 2}})) {
		b, _ := json.Marshal(r)
		lines = append(append(lines, b...), '\n')
	}
	f.Add(lines)
	lines = nil
	// A note settled as unclaimed cash after its session finished.
	for _, r := range seqd(rOpen("a", 1), rEscrow("a", "b", "n1", 500), rCredit("a", "c", "1", 100, 0), rFinish("a", 100),
		rLateNote("b", "n1", 500), rOpen("x", 2), rClaim("x", 500, 5)) {
		b, _ := json.Marshal(r)
		lines = append(append(lines, b...), '\n')
	}
	f.Add(lines)
	f.Add([]byte(`{"k":"claim","s":"a","n":3,"d":{"seqs":[1,1],"amount":100}}`))
	f.Add([]byte(`{"k":"credit","s":"a","n":1,"d":{"amount":9223372036854775807}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l := NewLedger()
		for _, line := range bytes.Split(data, []byte("\n")) {
			var r Record
			if json.Unmarshal(line, &r) != nil {
				continue
			}
			before := l.Clone()
			if err := l.Apply(r); err != nil {
				// A refused record changes nothing.
				if !quietSame(before, l) {
					t.Fatalf("refused record changed the ledger: %v", err)
				}
				continue
			}
		}
		checkCashIdentity(t, l)
		_ = l.Live()
		_ = l.Committed(3)
	})
}

// FuzzEnvelope: the fast envelope parser agrees with encoding/json on every
// line it accepts.
func FuzzEnvelope(f *testing.F) {
	for _, line := range bytes.Split(seedJournal(f), []byte("\n")) {
		if tab := bytes.LastIndexByte(line, '\t'); tab > 0 {
			f.Add(line[:tab])
		}
	}
	f.Add([]byte(`{"k":"cancel","s":"a","n":12,"t":"2025-03-01T09:00:09Z"}`))
	f.Add([]byte(`{"k":"x","s":"\u00e9","n":01,"t":"2025-03-01T09:00:09Z","d":{"a":1}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := parseEnvelope(body, "")
		if !ok {
			return
		}
		var slow Record
		if err := json.Unmarshal(body, &slow); err != nil {
			t.Fatalf("fast path accepted what encoding/json refuses (%v): %q", err, body)
		}
		if fast.Kind != slow.Kind || fast.Session != slow.Session || fast.Seq != slow.Seq ||
			!fast.Time.Equal(slow.Time) || !bytes.Equal(fast.Data, slow.Data) {
			t.Fatalf("fast %+v, encoding/json %+v for %q", fast, slow, body)
		}
		// Reusing the previous line's session string changes nothing.
		if again, ok := parseEnvelope(body, slow.Session); !ok || !reflect.DeepEqual(again, fast) {
			t.Fatalf("with the previous session given: %+v, without: %+v, for %q", again, fast, body)
		}
	})
}
