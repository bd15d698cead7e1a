package control

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/printroom/voucherkiosk/kiosk/journal"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// backend is a small in-memory daemon: enough state to see each call land.
type backend struct {
	flushed int
	cash    journal.CashTotals
	cashups []string
	damage  []journal.Damage
}

func (b *backend) AckJournalDamage(context.Context) (int, error) {
	n := len(b.damage)
	b.damage = nil
	return n, nil
}

func (b *backend) Status(context.Context) (Status, error) {
	return Status{KioskID: "lib-1", Phase: "idle", Pending: 2, Devices: map[string]Device{"coins": {Status: "connected"}}}, nil
}
func (b *backend) Queue(context.Context) ([]QueueItem, error) {
	return []QueueItem{{SessionID: "s1", Reference: "lib-1/s1", Amount: 250, Attention: "provider disabled"}}, nil
}
func (b *backend) Flush(context.Context) error { b.flushed++; return nil }
func (b *backend) Cash(context.Context) (Cash, error) {
	return Cash{Currency: "EUR", Totals: b.cash, JournalDamage: b.damage}, nil
}
func (b *backend) Cashup(_ context.Context, by string) (Cash, error) {
	if by == "" {
		return Cash{}, errors.New("cash-up needs a name")
	}
	b.cashups = append(b.cashups, by)
	c := Cash{Currency: "EUR", Totals: b.cash}
	b.cash = journal.CashTotals{}
	return c, nil
}

func TestSocketRoundTrip(t *testing.T) {
	dir := t.TempDir()
	b := &backend{cash: journal.CashTotals{Accepted: 1250, Committed: 1000, Pending: 250}}
	srv, err := Listen(dir, b, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	fi, err := os.Stat(filepath.Join(dir, SocketName))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("socket mode %o, want 600", perm)
	}
	ctx := context.Background()
	c := Dial(dir)
	st, err := c.Status(ctx)
	if err != nil || st.KioskID != "lib-1" || st.Pending != 2 || st.Devices["coins"].Status != "connected" {
		t.Fatalf("status = %+v, %v", st, err)
	}
	q, err := c.Queue(ctx)
	if err != nil || len(q) != 1 || q[0].Attention != "provider disabled" {
		t.Fatalf("queue = %+v, %v", q, err)
	}
	if err := c.Flush(ctx); err != nil || b.flushed != 1 {
		t.Fatalf("flush: %v, flushed %d", err, b.flushed)
	}
	cash, err := c.Cashup(ctx, "anna & bob")
	if err != nil || cash.Totals.Accepted != 1250 || len(b.cashups) != 1 || b.cashups[0] != "anna & bob" {
		t.Fatalf("cashup = %+v, %v, %v", cash, err, b.cashups)
	}
	if _, err := c.Cashup(ctx, ""); err == nil || !strings.Contains(err.Error(), "needs the name") {
		t.Fatalf("cashup without name: %v", err)
	}
	after, err := c.Cash(ctx)
	if err != nil || after.Totals.Accepted != 0 {
		t.Fatalf("cash after cash-up = %+v, %v", after, err)
	}
}

func TestNotRunning(t *testing.T) {
	_, err := Dial(t.TempDir()).Status(context.Background())
	if !errors.Is(err, ErrNotRunning) {
		t.Fatalf("err = %v, want ErrNotRunning", err)
	}
}

func TestStaleSocketReplaced(t *testing.T) {
	dir := t.TempDir()
	// A crashed daemon leaves its socket file behind with nobody listening.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, SocketName), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(filepath.Join(dir, SocketName)); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}
	s2, err := Listen(dir, &backend{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("restart over a stale socket: %v", err)
	}
	defer s2.Close()
	if _, err := Dial(dir).Status(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestRefusesNonSocket(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, SocketName), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(dir, &backend{}, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("Listen replaced a regular file")
	}
}

// Issue 11: the cash box shows its equation in currency amounts, says when
// it does not hold, and carries the journal damage alert until it is
// acknowledged through the socket.
func TestCashEquationAndDamageAck(t *testing.T) {
	dir := t.TempDir()
	b := &backend{
		cash:   journal.CashTotals{Accepted: 1650, Committed: 1000, Pending: 250, Attention: 100, Unclaimed: 300, Unrecognised: 2},
		damage: []journal.Damage{{Name: "journal-damaged-4096", Offset: 4096, Size: 80}},
	}
	srv, err := Listen(dir, b, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	c := Dial(dir)
	cash, err := c.Cash(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eq := cash.Equation()
	for _, want := range []string{"cash box 16.50 EUR", "committed 10.00", "pending 2.50", "needs attention 1.00", "unclaimed 3.00", "(holds)", "2 event(s)", "journal-damaged-4096"} {
		if !strings.Contains(eq, want) {
			t.Errorf("equation %q lacks %q", eq, want)
		}
	}
	cash.Totals.Accepted += 50
	if cash.Balanced() || !strings.Contains(cash.Equation(), "DOES NOT HOLD: 0.50 EUR") {
		t.Errorf("an unbalanced box passes: %q", cash.Equation())
	}
	if n, err := c.AckJournalDamage(ctx); err != nil || n != 1 {
		t.Fatalf("ack: %d, %v", n, err)
	}
	if cash, _ := c.Cash(ctx); len(cash.JournalDamage) != 0 || strings.Contains(cash.Equation(), "ALERT") {
		t.Fatalf("alert after the acknowledgement: %q", cash.Equation())
	}
}
