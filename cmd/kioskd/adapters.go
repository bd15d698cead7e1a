package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk"
	"github.com/printroom/voucherkiosk/kiosk/booking"
	"github.com/printroom/voucherkiosk/kiosk/config"
	"github.com/printroom/voucherkiosk/kiosk/control"
	"github.com/printroom/voucherkiosk/kiosk/journal"
	"github.com/printroom/voucherkiosk/kiosk/monitor"
	"github.com/printroom/voucherkiosk/kiosk/ui"
)

// daemon joins the parts: it adapts booking to the engine, and the journal,
// engine and booking to the control socket, the monitor and the technician
// menu. It holds no rules of its own.
type daemon struct {
	cfg     *config.Config
	log     *slog.Logger
	started time.Time
	journal *journal.Journal
	hw      *hardware
	metrics *monitor.Metrics
	booker  *booking.Booker
	runner  atomic.Pointer[kiosk.Runner]
	cashup  sync.Mutex // one cash-up at a time
}

var _ control.Backend = (*daemon)(nil)

func (d *daemon) post(ev any) {
	if r := d.runner.Load(); r != nil {
		r.Post(ev)
	}
}

func (d *daemon) bookingResult(r booking.Result) {
	d.post(kiosk.BookingResult{SessionID: r.SessionID, Committed: r.Committed, Attention: r.Attention, Err: r.Err})
}

func (d *daemon) queueStatus(s booking.Status) {
	d.post(kiosk.QueueUpdate{QueueStatus: kiosk.QueueStatus{Pending: s.Pending, OldestPending: s.OldestPending,
		NeedsAttention: s.NeedsAttention, LastError: s.LastError, Online: s.Online}})
}

// waitBookingSettled gives a session being booked at shutdown until
// deadline to reach MyQ; it stays queued in the journal either way.
func (d *daemon) waitBookingSettled(deadline time.Time) {
	r := d.runner.Load()
	for time.Now().Before(deadline) {
		if r.State().Phase != kiosk.PhaseBooking {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *daemon) statusLine() string {
	r := d.runner.Load()
	if r == nil {
		return "starting"
	}
	st := r.State()
	q := d.booker.Status()
	net := "online"
	if !q.Online {
		net = "offline"
	}
	line := fmt.Sprintf("%s, %s, %d pending", st.Phase, net, q.Pending)
	if q.NeedsAttention > 0 {
		line += fmt.Sprintf(", %d need attention", q.NeedsAttention)
	}
	if st.Phase == kiosk.PhaseOutOfService {
		line += ": " + st.OutOfService
	}
	return line
}

// Status implements control.Backend.
func (d *daemon) Status(ctx context.Context) (control.Status, error) {
	r := d.runner.Load()
	if r == nil {
		return control.Status{}, errors.New("starting")
	}
	st := r.State()
	q := d.booker.Status()
	out := control.Status{
		Version: version, KioskID: d.cfg.Kiosk.ID, Started: d.started, Phase: st.Phase.String(),
		Reason: st.OutOfService, Online: q.Online, Pending: q.Pending, Attention: q.NeedsAttention,
		LastError: q.LastError, Unclaimed: st.Unclaimed, Currency: d.cfg.Kiosk.Currency,
		Devices: map[string]control.Device{}, JournalDamage: d.journal.Damage(),
	}
	if !q.OldestPending.IsZero() {
		t := q.OldestPending
		out.Oldest = &t
	}
	for name, s := range st.Devices {
		out.Devices[name] = control.Device{Status: s.Status.String(), Detail: s.Detail, Since: s.At}
	}
	out.Cashbox = cashboxFill(st.Cashboxes)
	return out, nil
}

// Queue implements control.Backend.
func (d *daemon) Queue(ctx context.Context) ([]control.QueueItem, error) {
	items := d.booker.Queue()
	out := make([]control.QueueItem, 0, len(items))
	for _, it := range items {
		out = append(out, control.QueueItem{SessionID: it.SessionID, Reference: it.Reference, Amount: it.Amount,
			UserID: it.UserID, Card: it.Card, Finished: it.Finished, PaymentID: it.PaymentID, Attention: it.Attention})
	}
	return out, nil
}

// Flush implements control.Backend.
func (d *daemon) Flush(ctx context.Context) error {
	d.booker.FlushNow()
	return nil
}

// Cash implements control.Backend.
func (d *daemon) Cash(ctx context.Context) (control.Cash, error) {
	l := d.journal.Ledger()
	v := l.Vouchers()
	c := control.Cash{Currency: d.cfg.Kiosk.Currency, Totals: l.Cash(), Vouchers: &v, JournalDamage: d.journal.Damage()}
	if r := d.runner.Load(); r != nil {
		c.Fill = cashboxFill(r.State().Cashboxes)
	}
	return c, nil
}

// AckJournalDamage implements control.Backend.
func (d *daemon) AckJournalDamage(ctx context.Context) (int, error) {
	n, err := d.journal.AckDamage()
	if n > 0 {
		d.log.Info("journal damage acknowledged by the technician", "files", n)
	}
	return n, err
}

// Cashup implements control.Backend: it journals what the box should hold;
// the ledger restarts its totals at that record.
func (d *daemon) Cashup(ctx context.Context, by string) (control.Cash, error) {
	by = strings.TrimSpace(by)
	// One rule for every way in (socket, technician menu): the name is
	// journaled and printed back to technicians.
	if err := control.CheckCashupBy(by); err != nil {
		return control.Cash{}, err
	}
	d.cashup.Lock()
	defer d.cashup.Unlock()
	totals := d.journal.Ledger().Cash()
	vouchers := d.journal.Ledger().Vouchers()
	rec := journal.New(journal.KindCashup, "", time.Now(), journal.Cashup{By: by, Totals: totals})
	if _, err := d.journal.Append(rec); err != nil {
		return control.Cash{}, fmt.Errorf("journal the cash-up: %w", err)
	}
	if r := d.runner.Load(); r != nil {
		r.Post(kiosk.CashboxPieces{Pieces: d.journal.Ledger().Cash().Pieces}) // the boxes are empty again
	}
	d.log.Info("cash-up", "by", by, "accepted", totals.Accepted, "committed", totals.Committed,
		"pending", totals.Pending, "unclaimed", totals.Unclaimed)
	return control.Cash{Currency: d.cfg.Kiosk.Currency, Totals: totals, Vouchers: &vouchers, JournalDamage: d.journal.Damage()}, nil
}

// directory adapts the MyQ client to the engine's card lookup.
type directory struct {
	client *api.Client
	log    *slog.Logger
}

var _ kiosk.Directory = (*directory)(nil)

func (dir *directory) FindUserByCard(ctx context.Context, card string) (kiosk.User, error) {
	u, err := dir.client.FindUserByCard(ctx, card)
	switch {
	case errors.Is(err, api.ErrUserNotFound):
		return kiosk.User{}, kiosk.ErrNotRegistered
	case errors.Is(err, api.ErrUserInactive):
		return kiosk.User{}, kiosk.ErrInactive
	case err != nil:
		return kiosk.User{}, err
	}
	ku := kiosk.User{ID: u.ID, Username: u.Username, FullName: u.FullName}
	if u.Balance != nil {
		// Asked with the lookup (include=accounts): no Balance request.
		b := int64(*u.Balance)
		ku.Balance = &b
	}
	return ku, nil
}

// Balance implements kiosk.Balancer: asked after the greeting is on screen,
// only when the lookup brought no balance.
func (dir *directory) Balance(ctx context.Context, userID int64) (int64, bool, error) {
	bal, known, err := dir.client.Balance(ctx, userID)
	if err != nil {
		dir.log.Debug("balance unavailable", "user", userID, "err", err)
	}
	return int64(bal), known, err
}

// technician adapts the daemon to the screen's technician menu.
type technician struct{ d *daemon }

var _ ui.Technician = (*technician)(nil)

func (t *technician) report(totals journal.CashTotals) ui.CashReport {
	var r ui.CashReport
	keys := make([]string, 0, len(totals.Pieces))
	for k := range totals.Pieces {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		dev, _, _ := strings.Cut(k, ":")
		r.Lines = append(r.Lines, ui.CashLine{Device: dev, Value: t.d.hw.values[k], Count: int(totals.Pieces[k])})
	}
	r.Unclaimed = totals.Unclaimed
	if totals.Unrecognised > 0 {
		r.Unrecognised = append(r.Unrecognised, fmt.Sprintf("%d unrecognised coin(s): count them by hand", totals.Unrecognised))
	}
	r.Alerts = damageAlerts(t.d.journal.Damage())
	return r
}

// damageAlerts words the journal damage alert for the technician menu and
// the cash-up: the bytes are kept, the cash may not add up until someone
// has looked.
func damageAlerts(ds []journal.Damage) []string {
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("journal bytes at offset %d (%d bytes) were cut at start and kept in %s: count the cash box, then run 'kioskctl journal ack-damage'",
			d.Offset, d.Size, d.Name))
	}
	return out
}

func (t *technician) Cash() (ui.CashReport, error) {
	l := t.d.journal.Ledger()
	r := t.report(l.Cash())
	p := l.CashPeriod()
	r.Since, r.By = p.Since, p.By
	v := l.Vouchers()
	r.VoucherCount, r.Vouchers = int(v.Count), v.Committed
	return r, nil
}

func (t *technician) Queue() ([]ui.QueueItem, error) {
	items := t.d.booker.Queue()
	out := make([]ui.QueueItem, 0, len(items))
	for _, it := range items {
		out = append(out, ui.QueueItem{Reference: it.Reference, Amount: it.Amount, Card: it.Card,
			FinishedAt: it.Finished, NeedsAttention: it.Attention != "", LastError: cmp.Or(it.Attention, it.LastError),
			Attempts: it.Attempts})
	}
	return out, nil
}

func (t *technician) FlushNow() { t.d.booker.FlushNow() }

func (t *technician) Cashup(by string) (ui.CashReport, error) {
	closed := t.d.journal.Ledger().CashPeriod() // the period this cash-up ends
	c, err := t.d.Cashup(context.Background(), by)
	if err != nil {
		return ui.CashReport{}, err
	}
	r := t.report(c.Totals)
	r.Since = closed.Since
	if c.Vouchers != nil {
		r.VoucherCount, r.Vouchers = int(c.Vouchers.Count), c.Vouchers.Committed
	}
	return r, nil
}

var _ = devices.MaskCard
