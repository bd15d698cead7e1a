// Package voucherlink joins the engine's voucher commands to booking's
// Vouchers (kiosk cannot import booking): the daemon and tests that drive a
// voucher through both use it.
package voucherlink

import (
	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/kiosk"
	"github.com/printroom/voucherkiosk/kiosk/booking"
)

// Result turns booking's outcome into the engine's event.
func Result(r booking.VoucherResult) kiosk.VoucherResult {
	out := kiosk.VoucherResult{Reference: r.Reference, Amount: r.Amount, Message: r.Message, Used: r.Used, PaymentID: r.PaymentID}
	switch r.Outcome {
	case booking.VoucherOffered:
		out.Outcome = kiosk.VoucherOutcomeOffered
	case booking.VoucherRefused:
		out.Outcome = kiosk.VoucherOutcomeRefused
	case booking.VoucherOffline:
		out.Outcome = kiosk.VoucherOutcomeOffline
	case booking.VoucherFailed:
		out.Outcome = kiosk.VoucherOutcomeFailed
	case booking.VoucherCommitted:
		out.Outcome = kiosk.VoucherOutcomeCommitted
	case booking.VoucherCommitPending:
		out.Outcome = kiosk.VoucherOutcomeCommitPending
	default:
		out.Outcome = kiosk.VoucherOutcomeClosed
	}
	return out
}

// Service carries the engine's voucher commands to v (nil v: nil, so the
// runner answers codes offline).
func Service(v *booking.Vouchers) kiosk.VoucherService {
	if v == nil {
		return nil
	}
	return service{v}
}

type service struct{ v *booking.Vouchers }

func (s service) Redeem(c kiosk.RedeemVoucher) {
	s.v.Redeem(booking.VoucherRequest{Reference: c.Reference, Session: c.SessionID,
		User: api.User{ID: c.User.ID, Username: c.User.Username, FullName: c.User.FullName}, Code: c.Code})
}
func (s service) Commit(ref string)            { s.v.Commit(ref) }
func (s service) Cancel(ref, paymentID string) { s.v.Cancel(ref, paymentID) }
