// What the screen shows and whether the acceptors take money.

package kiosk

import (
	"reflect"
	"slices"
	"time"

	"github.com/printroom/voucherkiosk/devices"
)

func (e *Engine) wantAccepting() bool {
	return !e.shutdown && e.phase == PhaseSession && e.sess != nil && e.jErr == nil &&
		!e.sess.finishReq && !maxReached(e.sess.total, e.cfg.MaxTopup, e.cfg.Accepted)
}

func (e *Engine) acceptingCmd() []Command {
	if w, ref := e.wantAccepting(), e.boxes.refusing(); w != e.accepting || !slices.Equal(ref, e.refusing) {
		e.accepting, e.refusing = w, ref
		return []Command{SetAccepting{On: w, Refuse: ref}}
	}
	return nil
}

// outOfService says why the kiosk cannot take money, "" when it can.
func (e *Engine) outOfService() string {
	if e.shutdown {
		return "The kiosk is shutting down."
	}
	if e.jErr != nil {
		return "Payments cannot be saved right now (" + e.jErr.Error() + "). No money is taken until this is fixed."
	}
	return deviceOutage(e.cfg.CardReader, e.cfg.AcceptorNames, e.devices)
}

func (e *Engine) displayPhase() Phase {
	switch e.phase {
	case PhaseIdle:
		if e.outOfService() != "" {
			return PhaseOutOfService
		}
	case PhaseLookingUp, PhaseNotRegistered, PhaseSession:
		if e.jErr != nil || e.shutdown {
			return PhaseOutOfService
		}
	}
	return e.phase
}

func (e *Engine) snapshot() {
	st := State{
		Phase:     e.displayPhase(),
		MinTopup:  e.cfg.MinTopup,
		MaxTopup:  e.cfg.MaxTopup,
		Receipt:   cloneReceipt(e.receipt),
		Currency:  e.cfg.Currency,
		Accepted:  slices.Clone(e.cfg.Accepted),
		Devices:   map[string]devices.StatusChange{},
		Queue:     e.queue,
		Unclaimed: 0,
	}
	for k, v := range e.devices {
		st.Devices[k] = v
	}
	for _, u := range e.unclaimed {
		if e.claimable(u) {
			st.Unclaimed += u.amount // what the next card may still claim
		}
	}
	st.Cashboxes = e.boxes.fill()
	st.NotesRefused, st.CoinsRefused = e.boxes.refused()
	if st.Phase == PhaseOutOfService {
		st.OutOfService = e.outOfService()
	}
	if e.guard.paused(e.now) {
		st.CardPausedUntil = e.guard.until
	}
	switch e.phase {
	case PhaseLookingUp:
		st.SessionID = e.lookupID
		st.Card = devices.MaskCard(e.lookupCard)
	case PhaseNotRegistered:
		st.Card = devices.MaskCard(e.rejected)
		st.Inactive = e.rejectedInactive
	case PhaseSession:
		s := e.sess
		st.SessionID = s.id
		st.User = cloneUser(s.user)
		st.Card = devices.MaskCard(s.card)
		st.Offline = s.offline
		st.Total = s.total
		st.BelowMin = s.total > 0 && s.total < e.cfg.MinTopup
		st.MaxReached = maxReached(s.total, e.cfg.MaxTopup, e.cfg.Accepted)
		st.FinishAt, _ = e.finishAt()
		st.CloseAt = e.closeAt()
	case PhaseBooking, PhaseCredited, PhaseSavedOffline:
		st.SessionID = e.bookingID
		if e.receipt != nil {
			st.Total = e.receipt.Amount
		}
		if f := e.finished; f != nil {
			st.User = cloneUser(f.user)
			st.Card = devices.MaskCard(f.card)
			st.Offline = f.offline
		}
	}
	e.fillNotices(&st)
	st.Voucher = e.voucherView()
	prev := e.lastState
	prev.Now = time.Time{}
	st.Seq = prev.Seq
	if !e.stateValid || !reflect.DeepEqual(st, prev) {
		e.seq++
		st.Seq = e.seq
		e.stateValid = true
	}
	st.Now = e.now
	e.lastState = st
}

func (s State) clone() State {
	c := s
	c.User = cloneUser(s.User)
	c.Receipt = cloneReceipt(s.Receipt)
	c.Voucher = cloneVoucherView(s.Voucher)
	c.Accepted = slices.Clone(s.Accepted)
	c.Cashboxes = slices.Clone(s.Cashboxes)
	if s.Devices != nil {
		c.Devices = make(map[string]devices.StatusChange, len(s.Devices))
		for k, v := range s.Devices {
			c.Devices[k] = v
		}
	}
	return c
}

func cloneUser(u *User) *User {
	if u == nil {
		return nil
	}
	c := *u
	c.Balance = cloneInt(u.Balance)
	return &c
}

func cloneReceipt(r *Receipt) *Receipt {
	if r == nil {
		return nil
	}
	c := *r
	c.NewBalance = cloneInt(r.NewBalance)
	c.Vouchers = slices.Clone(r.Vouchers)
	return &c
}

func cloneInt(p *int64) *int64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
