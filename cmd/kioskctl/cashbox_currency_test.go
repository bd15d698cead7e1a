package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/kiosk/control"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// journalBackend answers the control socket from a real journal, as the
// daemon's adapter does.
type journalBackend struct{ dir string }

func (b journalBackend) Cash(context.Context) (control.Cash, error) {
	rep, err := journal.Inspect(journal.OSFS(), b.dir)
	if err != nil {
		return control.Cash{}, err
	}
	return control.Cash{Currency: "EUR", Totals: rep.Ledger.Cash()}, nil
}
func (journalBackend) Status(context.Context) (control.Status, error) { return control.Status{}, nil }
func (journalBackend) Queue(context.Context) ([]control.QueueItem, error) {
	return nil, nil
}
func (journalBackend) Flush(context.Context) error                   { return nil }
func (journalBackend) AckJournalDamage(context.Context) (int, error) { return 0, nil }
func (journalBackend) Cashup(context.Context, string) (control.Cash, error) {
	return control.Cash{}, errors.New("not in this test")
}

// `coins:20 1 pieces` was one 2.00 coin (20 pulses) that read as 20-cent
// coins: the box is shown in currency, sorted, with the period's start and
// who did the last cash-up.
func TestCashboxInCurrency(t *testing.T) {
	dir := t.TempDir()
	cfg := writeKioskConfig(t, dir)
	j, err := journal.Open(journal.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.Local)
	credit := func(s, dev, key string, amount int64, n int) journal.Record {
		return journal.New(journal.KindCredit, s, t0, journal.Credit{Device: dev, Key: key, Amount: amount, Counter: n})
	}
	for _, batch := range [][]journal.Record{
		{journal.New(journal.KindSessionOpen, "a", t0, journal.SessionOpen{Card: "1", UserID: 7})},
		{credit("a", "coins", "5", 50, 1)},
		{journal.New(journal.KindCashup, "", t0.Add(time.Hour), journal.Cashup{By: "J. Novak"})},
		{journal.New(journal.KindSessionOpen, "b", t0.Add(2*time.Hour), journal.SessionOpen{Card: "1", UserID: 7})},
		{credit("b", "coins", "20", 200, 2)},
		{credit("b", "coins", "1", 10, 3)},
		{credit("b", "coins", "1", 10, 4)},
		{credit("b", "notes", "2", 1000, 1)},
		{credit("b", "coins", "1", 10, 5)},
		{journal.New(journal.KindUnclaimed, "", t0.Add(3*time.Hour), journal.Credit{Device: "coins", Key: "7", Amount: 70, Counter: 6})},
	} {
		if _, err := j.Append(batch...); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	srv, err := control.Listen(dir, journalBackend{dir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	code, out, errOut := runCtl("cashbox", "--config", cfg, "--socket-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := []string{
		`period since the last cash-up, 2026-03-01 10:00 by J\. Novak`,
		`coin 0\.10 EUR +3 pieces +0\.30 EUR +\(coins\)`,
		`coin 2\.00 EUR +1 piece +2\.00 EUR +\(coins\)`,
		`note 10\.00 EUR +1 piece +10\.00 EUR +\(notes\)`,
		`coins:7 +1 piece +\(not in the config's acceptor values\)`,
		`accepted +13\.00 EUR`,
	}
	last := -1
	for _, w := range want {
		loc := regexp.MustCompile(w).FindStringIndex(out)
		if loc == nil {
			t.Errorf("output lacks %s:\n%s", w, out)
			continue
		}
		if loc[0] < last {
			t.Errorf("%s is out of order:\n%s", w, out)
		}
		last = loc[0]
	}
	if strings.Contains(out, "coins:20") {
		t.Errorf("raw pulse key shown:\n%s", out)
	}
}
