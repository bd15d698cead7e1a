package myqfake

// Vouchers: batches of single-use codes of a fixed value with an expiry
// (MyQ's Voucher Batches), redeemed through the documented v2 endpoints
// (POST /v2/payments/voucher, …/{paymentId}/commit) and through a v3
// recharge provider whose reference and code parameter name are switchable,
// because the real ones are UNCERTAIN. A voucher is checked when the payment
// is created and used up when it is committed; a second commit of the same
// code is refused, like a used code at create.

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/printroom/voucherkiosk/api"
)

// Messages of the refusals (MyQ's exact words are UNCERTAIN; the error body
// format is MyQ's: {"code":400,"message":…,"data":[]}).
const (
	MsgVoucherUnknown = "Invalid voucher code."
	MsgVoucherUsed    = "The voucher has already been used."
	MsgVoucherExpired = "The voucher has expired."
)

// Voucher is one voucher the fake holds.
type Voucher struct {
	Code    string
	Value   api.Money
	Expires time.Time // zero: never
	// UsedBy is the user the voucher was committed to (0: unused).
	UsedBy int64
	// PaymentID is the payment that used it.
	PaymentID string
}

// Redemption is one commit of a voucher.
type Redemption struct {
	Code      string
	UserID    int64
	PaymentID string
	Amount    api.Money
}

type voucherState struct {
	codes       map[string]*Voucher
	byPayment   map[string]string // payment id → code
	redemptions []Redemption
	// v3On: the voucher provider is listed by GET /rechargeProviders and
	// serves; off by default (whether MyQ lists it is UNCERTAIN).
	v3On      bool
	ref       string // default "voucher"
	param     string // default "code"
	paramsObj bool   // params listed as [{"name":…}] instead of ["…"]
	v2Off     bool
	// inCashList: voucher payments also appear in the cash provider's
	// listing (whether MyQ lists every provider's payments there is
	// UNCERTAIN).
	inCashList bool
}

func voucherRouteName(r Route) string {
	switch r {
	case RouteVoucherCreate:
		return "voucher-create"
	case RouteVoucherCommit:
		return "voucher-commit"
	case RouteVoucherRollback:
		return "voucher-rollback"
	case RouteVoucherList:
		return "voucher-list"
	}
	return "Route(" + strconv.Itoa(int(r)) + ")"
}

// voucherV2Route routes /api/v2/payments/voucher[/{id}/commit|rollback]; the
// provider returned is empty, which marks the v2 form.
func voucherV2Route(method string, p []string) (Route, string, string, string) {
	switch {
	case method == http.MethodPost && len(p) == 4:
		return RouteVoucherCreate, "", "", ""
	case method == http.MethodPost && len(p) == 6 && p[5] == "commit":
		return RouteVoucherCommit, "", p[4], ""
	case method == http.MethodPost && len(p) == 6 && p[5] == "rollback":
		return RouteVoucherRollback, "", p[4], ""
	}
	return RouteUnknown, "", "", ""
}

func (v *voucherState) reference() string {
	if v.ref == "" {
		return api.DefaultVoucherProvider
	}
	return v.ref
}

func (v *voucherState) codeParam() string {
	if v.param == "" {
		return "code"
	}
	return v.param
}

// voucherRouteLocked maps the v3 payment routes of the voucher provider to
// the voucher routes (so faults and counters can target them).
func (s *Server) voucherRouteLocked(rt Route, provider string) Route {
	if provider == "" || !s.vouchers.v3On || provider != s.vouchers.reference() {
		return rt
	}
	switch rt {
	case RouteCreate:
		return RouteVoucherCreate
	case RouteCommit:
		return RouteVoucherCommit
	case RouteRollback:
		return RouteVoucherRollback
	case RouteList:
		return RouteVoucherList
	}
	return rt
}

func (s *Server) voucherProviders() []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := &s.vouchers
	if !v.v3On {
		return nil
	}
	var params []any
	if v.paramsObj {
		params = []any{map[string]any{"name": v.codeParam(), "type": "string", "required": true}}
	} else {
		params = []any{v.codeParam()}
	}
	return []any{map[string]any{"name": "Voucher", "reference": v.reference(), "description": "", "params": params, "enabled": true}}
}

// SetVoucherProvider switches the v3 voucher provider: listed and served
// (on) under reference ref with the code under param ("" keeps the
// default "voucher" and "code"); paramsAsObjects lists params as
// [{"name":…}] instead of ["…"].
func (s *Server) SetVoucherProvider(on bool, ref, param string, paramsAsObjects bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vouchers.v3On, s.vouchers.ref, s.vouchers.param, s.vouchers.paramsObj = on, ref, param, paramsAsObjects
}

// SetVouchersInCashList lists voucher payments in the cash provider's
// listing too.
func (s *Server) SetVouchersInCashList(on bool) {
	s.mu.Lock()
	s.vouchers.inCashList = on
	s.mu.Unlock()
}

// SetVoucherV2 switches the v2 endpoints (off: 404, an older or newer MyQ).
func (s *Server) SetVoucherV2(on bool) { s.mu.Lock(); s.vouchers.v2Off = !on; s.mu.Unlock() }

// AddVoucher adds one voucher.
func (s *Server) AddVoucher(v Voucher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vouchers.codes == nil {
		s.vouchers.codes = map[string]*Voucher{}
		s.vouchers.byPayment = map[string]string{}
	}
	c := v
	s.vouchers.codes[strings.ToUpper(v.Code)] = &c
}

// AddVoucherBatch generates n vouchers of value, valid until expires, with
// codes prefix-0001…, and returns the codes.
func (s *Server) AddVoucherBatch(prefix string, n int, value api.Money, expires time.Time) []string {
	codes := make([]string, 0, n)
	for i := 1; i <= n; i++ {
		c := fmt.Sprintf("%s-%04d", prefix, i)
		s.AddVoucher(Voucher{Code: c, Value: value, Expires: expires})
		codes = append(codes, c)
	}
	return codes
}

// VoucherInfo returns the voucher with code.
func (s *Server) VoucherInfo(code string) (Voucher, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vouchers.codes[strings.ToUpper(code)]
	if !ok {
		return Voucher{}, false
	}
	return *v, true
}

// Redemptions lists every voucher commit in order.
func (s *Server) Redemptions() []Redemption {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Redemption(nil), s.vouchers.redemptions...)
}

// CheckVouchers verifies that each code was committed at most once, and to
// the user its payment was created for.
func (s *Server) CheckVouchers() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, r := range s.vouchers.redemptions {
		if seen[r.Code] {
			return fmt.Errorf("myqfake: voucher %s committed twice", r.Code)
		}
		seen[r.Code] = true
		if p := s.payments[r.PaymentID]; p == nil || p.userID != r.UserID {
			return fmt.Errorf("myqfake: voucher %s committed to user %d, not the payment's", r.Code, r.UserID)
		}
	}
	return nil
}

// DemoVouchers are the codes `kioskctl fake-myq` and the demo print: three
// of €5.00, one already used, one expired.
var DemoVouchers = struct {
	Valid         []string
	Used, Expired string
}{
	Valid:   []string{"MYQ5-7Q3K-4821", "MYQ5-H2VX-9034", "MYQ5-C8RM-5567"},
	Used:    "MYQ5-USED-0001",
	Expired: "MYQ5-OLD0-0002",
}

// AddDemoVouchers adds DemoVouchers (the used one used by demo user 1176).
func (s *Server) AddDemoVouchers() {
	for _, c := range DemoVouchers.Valid {
		s.AddVoucher(Voucher{Code: c, Value: 500})
	}
	s.AddVoucher(Voucher{Code: DemoVouchers.Used, Value: 500, UsedBy: 1176, PaymentID: "0"})
	s.AddVoucher(Voucher{Code: DemoVouchers.Expired, Value: 500, Expires: time.Date(2020, 6, 30, 0, 0, 0, 0, time.UTC)})
}

// checkVoucherLocked refuses an unknown, used or expired code.
func (s *Server) checkVoucherLocked(code string) (*Voucher, answer, bool) {
	v, ok := s.vouchers.codes[strings.ToUpper(strings.TrimSpace(code))]
	switch {
	case !ok:
		return nil, errAnswer(http.StatusBadRequest, MsgVoucherUnknown), false
	case v.UsedBy != 0:
		return nil, errAnswer(http.StatusBadRequest, MsgVoucherUsed), false
	case !v.Expires.IsZero() && !time.Now().Before(v.Expires):
		return nil, errAnswer(http.StatusBadRequest, MsgVoucherExpired), false
	}
	return v, answer{}, true
}

func (s *Server) serveVoucher(r *http.Request, rt Route, provider, id string) answer {
	s.mu.Lock()
	off := (provider == "" && s.vouchers.v2Off) || (provider != "" && !s.vouchers.v3On)
	s.mu.Unlock()
	if off {
		return errAnswer(http.StatusNotFound, "Not Found")
	}
	switch rt {
	case RouteVoucherCreate:
		return s.voucherCreate(r, provider == "")
	case RouteVoucherList:
		return s.voucherList(r)
	}
	if a, ok := bodyNeedsJSON(r); !ok {
		return a
	}
	if rt == RouteVoucherCommit {
		return s.voucherCommit(id)
	}
	s.mu.Lock()
	known := s.vouchers.byPayment[id] != ""
	s.mu.Unlock()
	if !known {
		return errAnswer(http.StatusNotFound, "Payment not found")
	}
	return s.rollback(id)
}

func (s *Server) voucherCreate(r *http.Request, v2 bool) answer {
	var req struct {
		User        string            `json:"user"`
		VoucherCode string            `json:"voucherCode"`
		UserID      *int64            `json:"userId"`
		Description string            `json:"description"`
		Params      map[string]string `json:"params"`
	}
	if ok, a := readJSON(r, &req); !ok {
		return a
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	code := req.VoucherCode
	var u *User
	if v2 {
		if req.User == "" || code == "" {
			return errAnswer(http.StatusBadRequest, "user and voucherCode are required")
		}
		for _, x := range s.users {
			if strings.EqualFold(x.Username, req.User) {
				u = x
			}
		}
	} else {
		code = req.Params[s.vouchers.codeParam()]
		if req.UserID == nil || code == "" {
			return errAnswer(http.StatusBadRequest, "userId and params."+s.vouchers.codeParam()+" are required")
		}
		u = s.users[*req.UserID]
	}
	if u == nil {
		return errAnswer(http.StatusNotFound, "User not found")
	}
	v, a, ok := s.checkVoucherLocked(code)
	if !ok {
		return a
	}
	now := time.Now().UTC()
	p := &payment{id: strconv.FormatInt(s.nextID, 10), userID: u.ID, amount: v.Value, description: req.Description, created: now, updated: now}
	s.nextID++
	s.payments[p.id] = p
	s.order = append(s.order, p.id)
	s.vouchers.byPayment[p.id] = strings.ToUpper(v.Code)
	if v2 {
		return answer{200, map[string]any{"paymentId": s.idValue(p.id), "amount": p.amount}}
	}
	return answer{200, map[string]any{"id": s.idValue(p.id), "userId": p.userID, "amount": p.amount, "description": p.description,
		"params": map[string]any{"amount": p.amount}}}
}

func (s *Server) voucherCommit(id string) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := s.vouchers.byPayment[id]
	p, ok := s.payments[id]
	if code == "" || !ok {
		return errAnswer(http.StatusNotFound, "Payment not found")
	}
	if p.state != stCreated {
		return errAnswer(http.StatusBadRequest, msgInvalidState)
	}
	v, a, ok := s.checkVoucherLocked(code)
	if !ok {
		return a
	}
	u, ok := s.users[p.userID]
	if !ok {
		return errAnswer(http.StatusNotFound, "User not found")
	}
	now := time.Now().UTC()
	p.state, p.updated = stCommitted, now
	u.Balance += p.amount
	v.UsedBy, v.PaymentID = p.userID, p.id
	s.ledger = append(s.ledger, Commit{PaymentID: p.id, UserID: p.userID, Amount: p.amount, Description: p.description, At: now})
	s.vouchers.redemptions = append(s.vouchers.redemptions, Redemption{Code: v.Code, UserID: p.userID, PaymentID: p.id, Amount: p.amount})
	return answer{200, map[string]any{"amount": p.amount}}
}

func (s *Server) voucherList(r *http.Request) answer {
	uid, err := strconv.ParseInt(r.URL.Query().Get("userId"), 10, 64)
	if err != nil {
		return errAnswer(http.StatusBadRequest, "userId is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, id := range s.order {
		p := s.payments[id]
		if s.vouchers.byPayment[id] == "" || p.userID != uid {
			continue
		}
		e := map[string]any{
			"id": s.idValue(p.id), "userId": p.userID, "amount": p.amount, "state": s.words[p.state],
			"created": p.created.Format(time.RFC3339), "updated": p.updated.Format(time.RFC3339), "provider": "Voucher",
		}
		if s.descInLst {
			e["description"] = p.description
		}
		out = append(out, e)
	}
	return answer{200, map[string]any{"payments": out, "count": len(out)}}
}
