package journal

import (
	"encoding/json"
	"reflect"
	"testing"
)

// fastDataSeeds are Data payloads as Append writes them, plus the oddities
// the fast decoders must hand to encoding/json.
func fastDataSeeds() [][]byte {
	balance := int64(-250)
	var out [][]byte
	for _, v := range []any{
		SessionOpen{Card: "0012345678", UserID: 1, FullName: "Ada s00001"},
		SessionOpen{Card: "0012345678", Username: "žluťoučký", FullName: "Kůň Müller", Offline: true},
		Credit{Device: "coins", Key: "10", Amount: 100, Counter: 3},
		Credit{Device: "bills", Key: "1", Amount: 500, NoteID: "n7"},
		Finish{Total: 600, Reference: "kiosk/s00001", UserID: 7, Card: "0012", FullName: "Ada", Reason: "enter"},
		PaymentCreated{PaymentID: "ps00001", UserID: 7},
		Committed{PaymentID: "ps00001"},
		Committed{PaymentID: "p", Balance: &balance},
	} {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	for _, s := range []string{
		`{}`, `{"amount":-0}`, `{"amount":9223372036854775807}`, `{"amount":9223372036854775808}`,
		`{"amount":-9223372036854775808}`, `{"amount":-9223372036854775809}`, `{"amount":12345678901234567890}`,
		`{"Amount":1}`, `{"device":"a","device":"b"}`, `{"balance":null}`, `{"amount":1.0}`, `{"amount":1e3}`,
		`{"amount":01}`, `{"amount":-}`, `{"device":"\u0041"}`, "{\"device\":\"\xff\"}", "{\"device\":\"a\tb\"}",
		`{"device": "a"}`, `{"device":"a",}`, `{"device":"a"}}`, `{"totals":{"accepted":1}}`, `{"seqs":[1,2]}`,
		`{"offline":true,"card":""}`, `{"offline":"true"}`, `{"user_id":"7"}`, `{"reason":"<&>"}`,
	} {
		out = append(out, []byte(s))
	}
	return out
}

// checkFast fails unless fast, when it takes b, decodes it exactly as
// encoding/json does.
func checkFast[T any](t *testing.T, b []byte, fast func([]byte) (T, bool)) {
	t.Helper()
	got, ok := fast(b)
	if !ok {
		return
	}
	var want T
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("fast %T path accepted what encoding/json refuses (%v): %q", got, err, b)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fast %T path decoded %+v, encoding/json %+v, for %q", got, got, want, b)
	}
}

// FuzzFastData: the fast Data decoders agree with encoding/json on every
// input they accept, and the flat-object scanner accepts only valid JSON.
func FuzzFastData(f *testing.F) {
	for _, b := range fastDataSeeds() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if eachMember(b, func([]byte, jsonScalar) bool { return true }) && !json.Valid(b) {
			t.Fatalf("flat scanner accepted invalid JSON %q", b)
		}
		if validData(b) != json.Valid(b) {
			t.Fatalf("validData(%q) = %v, json.Valid says otherwise", b, validData(b))
		}
		checkFast(t, b, fastSessionOpen)
		checkFast(t, b, fastCredit)
		checkFast(t, b, fastFinish)
		checkFast(t, b, fastPaymentCreated)
		checkFast(t, b, fastCommitted)
	})
}

// TestFastDataTakesWhatAppendWrites: the fast paths are only worth having
// if they take what json.Marshal writes for the hot kinds, non-ASCII
// names included; a change to a payload struct that they no longer read
// would otherwise silently make replay slow again.
func TestFastDataTakesWhatAppendWrites(t *testing.T) {
	for _, b := range fastDataSeeds()[:8] {
		var took bool
		for _, fast := range []func([]byte) bool{
			func(b []byte) bool { _, ok := fastSessionOpen(b); return ok },
			func(b []byte) bool { _, ok := fastCredit(b); return ok },
			func(b []byte) bool { _, ok := fastFinish(b); return ok },
			func(b []byte) bool { _, ok := fastPaymentCreated(b); return ok },
			func(b []byte) bool { _, ok := fastCommitted(b); return ok },
		} {
			took = took || fast(b)
		}
		if !took {
			t.Errorf("no fast path takes %s", b)
		}
		checkFast(t, b, fastSessionOpen)
		checkFast(t, b, fastCredit)
		checkFast(t, b, fastFinish)
		checkFast(t, b, fastPaymentCreated)
		checkFast(t, b, fastCommitted)
	}
	// And every line the replay benchmark writes takes the fast envelope.
	for _, r := range []Record{rOpen("s1", 1), rCredit("s1", "coins", "10", 100, 3), rCredit("s1", "bills", "1", 500, 0),
		rFinish("s1", 600), rPayment("s1", "ps1"), rCommitted("s1", "ps1")} {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := parseEnvelope(b, ""); !ok {
			t.Errorf("fast envelope refuses %s", b)
		}
	}
}

func TestAllKindsKnown(t *testing.T) {
	seen := map[Kind]bool{}
	for _, k := range allKinds {
		if !k.Known() || seen[k] {
			t.Errorf("allKinds: %q unknown or listed twice", k)
		}
		seen[k] = true
		if got := internKind([]byte(k)); got != k {
			t.Errorf("internKind(%q) = %q", k, got)
		}
	}
	if got := internKind([]byte("bogus")); got != "bogus" || got.Known() {
		t.Errorf("internKind(bogus) = %q", got)
	}
}
