package monitor

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/kiosk/control"
	"github.com/printroom/voucherkiosk/kiosk/journal"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type backend struct{ st control.Status }

func (b *backend) Status(context.Context) (control.Status, error)       { return b.st, nil }
func (b *backend) Queue(context.Context) ([]control.QueueItem, error)   { return nil, nil }
func (b *backend) Flush(context.Context) error                          { return nil }
func (b *backend) Cash(context.Context) (control.Cash, error)           { return control.Cash{}, nil }
func (b *backend) Cashup(context.Context, string) (control.Cash, error) { return control.Cash{}, nil }
func (b *backend) AckJournalDamage(context.Context) (int, error)        { return 0, nil }

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	return string(b)
}

func TestMetricsAndStatus(t *testing.T) {
	oldest := time.Now().Add(-90 * time.Second)
	b := &backend{st: control.Status{KioskID: "lib", Phase: "idle", Pending: 3, Attention: 1, Oldest: &oldest,
		Online: false, Devices: map[string]control.Device{"coins": {Status: "connected"}, "card": {Status: "disconnected"}}}}
	m := New(b.Status)
	m.Topup(250)
	m.Topup(1000)
	m.APIError("transient")
	m.Fsync(3 * time.Millisecond)
	srv, err := Listen(Options{Addr: "127.0.0.1:0", Metrics: m, Backend: b, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	body := get(t, "http://"+srv.Addr()+"/metrics")
	for _, want := range []string{
		"kiosk_topups_total 2",
		"kiosk_topup_amount_minor_total 1250",
		"kiosk_queue_pending 3",
		"kiosk_queue_needs_attention 1",
		"kiosk_myq_online 0",
		`kiosk_device_connected{device="card"} 0`,
		`kiosk_device_connected{device="coins"} 1`,
		`kiosk_myq_errors_total{kind="transient"} 1`,
		"kiosk_journal_fsync_seconds_count 1",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	var st control.Status
	if err := json.Unmarshal([]byte(get(t, "http://"+srv.Addr()+"/status")), &st); err != nil || st.Pending != 3 {
		t.Fatalf("/status = %+v, %v", st, err)
	}
}

func TestCashboxFillAndAlarms(t *testing.T) {
	b := &backend{st: control.Status{Phase: "idle", Cashbox: []control.CashboxFill{
		{Acceptor: "notes", Pieces: 450, Capacity: 500}, {Acceptor: "coins", Pieces: 7},
	}, JournalDamage: []journal.Damage{{Offset: 42}}}}
	m := New(b.Status)
	m.PINFailure()
	m.PINFailure()
	srv, err := Listen(Options{Addr: "127.0.0.1:0", Metrics: m, Backend: b, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	body := get(t, "http://"+srv.Addr()+"/metrics")
	for _, want := range []string{
		`kiosk_cashbox_fill_ratio{acceptor="notes"} 0.9`,
		`kiosk_cashbox_pieces{acceptor="notes"} 450`,
		`kiosk_cashbox_pieces{acceptor="coins"} 7`,
		"kiosk_technician_pin_failures_total 2",
		"kiosk_journal_damage 1",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// An acceptor without a capacity has no fill level to alert on.
	if strings.Contains(body, `kiosk_cashbox_fill_ratio{acceptor="coins"}`) {
		t.Error("/metrics shows a fill ratio for an acceptor with no capacity")
	}
}
