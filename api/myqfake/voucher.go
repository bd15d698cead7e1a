package myqfake

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/printroom/voucherkiosk/api"
)

// Vouchers: batches of printed codes of a fixed value, each redeemable once
// before it expires ("Recharging credit by vouchers"). Both documented forms
// are served: v2 (POST /v2/payments/voucher, then .../{paymentId}/commit)
// and a v3 recharge provider "voucher" whose code parameter's name is
// UNCERTAIN and switchable (SetVoucherV3).

// VoucherProvider is the v3 voucher provider's reference (UNCERTAIN).
const VoucherProvider = "voucher"

// DefaultVoucherParam is the fake's default name of the v3 code parameter.
const DefaultVoucherParam = "code"

// The refusals, in MyQ's error format ({"code","message","data"}). The exact
// words are UNCERTAIN; they say which of the three it is.
const (
	MsgVoucherUnknown = "Voucher not found."
	MsgVoucherUsed    = "Voucher has already been used."
	MsgVoucherExpired = "Voucher has expired."
)

// Voucher is one printed code.
type Voucher struct {
	Code    string
	Value   api.Money
	Expires time.Time // zero: never
	Used    bool
}

type voucher struct {
	Voucher
	payment string // open payment reserving it
}

// AddVouchers adds (or replaces) codes, e.g. a printed batch.
func (s *Server) AddVouchers(vs ...Voucher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vs {
		s.vouchers[v.Code] = &voucher{Voucher: v}
	}
}

// VoucherBatch makes n codes prefix-0001… of one value and expiry.
func VoucherBatch(prefix string, n int, value api.Money, expires time.Time) []Voucher {
	out := make([]Voucher, n)
	for i := range out {
		out[i] = Voucher{Code: prefix + "-" + leftPad(strconv.Itoa(i+1), 4), Value: value, Expires: expires}
	}
	return out
}

func leftPad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return strings.Repeat("0", n-len(s)) + s
}

// VoucherUsed reports whether code was redeemed (committed).
func (s *Server) VoucherUsed(code string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.vouchers[code]
	return v != nil && v.Used
}

// SetVoucherV3 offers the v3 voucher provider with its code parameter named
// param, or withdraws it (param ""): then only v2 serves vouchers.
func (s *Server) SetVoucherV3(param string) { s.mu.Lock(); s.v3Param = param; s.mu.Unlock() }

func providerName(ref string) string {
	switch ref {
	case VoucherProvider, "v2voucher":
		return "Voucher"
	}
	return "External Payment Providers"
}

// reserve checks code for redemption and ties it to payment id. Called
// with s.mu held.
func (s *Server) reserve(code string, now time.Time) (*voucher, answer, bool) {
	v := s.vouchers[code]
	switch {
	case v == nil:
		return nil, errAnswer(http.StatusNotFound, MsgVoucherUnknown), false
	case v.Used || v.payment != "":
		return nil, errAnswer(http.StatusBadRequest, MsgVoucherUsed), false
	case !v.Expires.IsZero() && !now.Before(v.Expires):
		return nil, errAnswer(http.StatusBadRequest, MsgVoucherExpired), false
	}
	return v, answer{}, true
}

// newVoucherPayment creates the uncommitted payment. Called with s.mu held.
func (s *Server) newVoucherPayment(provider string, u *User, v *voucher, description string, now time.Time) *payment {
	p := &payment{id: strconv.FormatInt(s.nextID, 10), userID: u.ID, amount: v.Value, description: description,
		provider: provider, voucher: v.Code, created: now, updated: now}
	s.nextID++
	s.payments[p.id] = p
	s.order = append(s.order, p.id)
	v.payment = p.id
	return p
}

// createVoucherV2 is POST /v2/payments/voucher
// {"user":"<username>","voucherCode":"…","description":"…"} →
// {"paymentId":"…","amount":…}, uncommitted.
func (s *Server) createVoucherV2(r *http.Request) answer {
	var req struct {
		User        string `json:"user"`
		VoucherCode string `json:"voucherCode"`
		Description string `json:"description"`
	}
	if ok, a := readJSON(r, &req); !ok {
		return a
	}
	if req.User == "" || req.VoucherCode == "" {
		return errAnswer(http.StatusBadRequest, "user and voucherCode are required")
	}
	now := time.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	var u *User
	for _, cand := range s.users {
		if strings.EqualFold(cand.Username, req.User) {
			u = cand
		}
	}
	if u == nil {
		return errAnswer(http.StatusNotFound, "User not found")
	}
	v, a, ok := s.reserve(req.VoucherCode, now)
	if !ok {
		return a
	}
	p := s.newVoucherPayment("v2voucher", u, v, req.Description, now)
	return answer{200, map[string]any{"paymentId": s.idValue(p.id), "amount": p.amount}}
}

// createVoucherV3 is POST /v3/rechargeProviders/voucher/payments
// {"userId":…,"description":…,"params":{"<param>":"…"}}, answered like an
// external payment, with the voucher's value as the amount.
func (s *Server) createVoucherV3(r *http.Request) answer {
	var req struct {
		UserID      *int64            `json:"userId"`
		Description string            `json:"description"`
		Params      map[string]string `json:"params"`
	}
	if ok, a := readJSON(r, &req); !ok {
		return a
	}
	now := time.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	code := req.Params[s.v3Param]
	if req.UserID == nil || code == "" {
		return errAnswer(http.StatusBadRequest, "userId and params."+s.v3Param+" are required")
	}
	u, ok := s.users[*req.UserID]
	if !ok {
		return errAnswer(http.StatusNotFound, "User not found")
	}
	v, a, ok := s.reserve(code, now)
	if !ok {
		return a
	}
	p := s.newVoucherPayment(VoucherProvider, u, v, req.Description, now)
	return answer{200, map[string]any{
		"id": s.idValue(p.id), "userId": p.userID, "amount": p.amount, "description": p.description,
		"params": map[string]any{"amount": p.amount},
	}}
}
