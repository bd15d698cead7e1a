package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Vouchers: MyQ credit vouchers redeemed through the REST API. Two forms:
//   - v2 (documented, en/rad/v4/post-payment-voucher): POST /v2/payments/voucher
//     {"user":"<username>","voucherCode":…,"description":…} → {"paymentId":…,"amount":…},
//     uncommitted; POST /v2/payments/voucher/{paymentId}/commit → {"amount":…}.
//   - v3 (UNCERTAIN): a recharge provider (reference probably "voucher") whose
//     code is one of the params GET /v3/rechargeProviders lists; created,
//     committed, rolled back and listed like an external payment.
// A voucher payment moves no money until committed, as for cash.

// VoucherAPI is which form a kiosk uses.
type VoucherAPI int

const (
	VoucherV2 VoucherAPI = iota + 1
	VoucherV3
)

func (v VoucherAPI) String() string {
	switch v {
	case VoucherV2:
		return "v2"
	case VoucherV3:
		return "v3"
	}
	return "VoucherAPI(" + strconv.Itoa(int(v)) + ")"
}

// DefaultVoucherProvider is the v3 reference assumed when none is configured.
const DefaultVoucherProvider = "voucher"

// maxVoucherCode bounds a code the kiosk will send.
const maxVoucherCode = 64

// paramNames reads a provider's params: names as strings, or objects with
// a "name" (or "key") field. Anything else is skipped.
func paramNames(raw []json.RawMessage) []string {
	var out []string
	for _, r := range raw {
		var s string
		if json.Unmarshal(r, &s) == nil {
			if s = cleanText(s, maxName); s != "" {
				out = append(out, s)
			}
			continue
		}
		var o struct {
			Name string `json:"name"`
			Key  string `json:"key"`
		}
		if json.Unmarshal(r, &o) == nil {
			if n := cleanText(firstNonEmpty(o.Name, o.Key), maxName); n != "" {
				out = append(out, n)
			}
		}
	}
	return out
}

// VoucherCodeParam picks the parameter of a v3 voucher provider that takes
// the code: the one whose name says "code", else the only one. ok is false
// when MyQ's list does not tell (configure code_param then).
func VoucherCodeParam(p Provider) (name string, ok bool) {
	for _, n := range p.Params {
		if strings.Contains(strings.ToLower(n), "code") {
			return n, true
		}
	}
	if len(p.Params) == 1 {
		return p.Params[0], true
	}
	return "", false
}

// ChooseVoucherAPI reads the provider list for api = "auto": v3 when it
// lists the voucher provider (reference ref), else v2.
func ChooseVoucherAPI(ps []Provider, ref string) (VoucherAPI, *Provider) {
	if ref == "" {
		ref = DefaultVoucherProvider
	}
	for i := range ps {
		if strings.EqualFold(ps[i].Reference, ref) && (ps[i].Enabled == nil || *ps[i].Enabled) {
			return VoucherV3, &ps[i]
		}
	}
	return VoucherV2, nil
}

// checkVoucherCode refuses a code MyQ must never see.
func checkVoucherCode(op, code string) error {
	if code == "" || len(code) > maxVoucherCode {
		return &Error{Op: op, Err: fmt.Errorf("%w: voucher code empty or longer than %d", ErrInvalidArgument, maxVoucherCode)}
	}
	for i := 0; i < len(code); i++ {
		if code[i] <= 0x20 || code[i] >= 0x7f {
			return &Error{Op: op, Err: fmt.Errorf("%w: voucher code holds a space or a character that is not printable ASCII", ErrInvalidArgument)}
		}
	}
	return nil
}

// MaskVoucher keeps the last four characters of a code (for logs, errors
// and the journal).
func MaskVoucher(code string) string { return maskCard(code) }

// CreateVoucherV2 creates an uncommitted voucher payment for username.
// The amount is the voucher's value, as MyQ answers it.
func (c *Client) CreateVoucherV2(ctx context.Context, username, code, description string) (Payment, error) {
	op := "create voucher payment " + MaskVoucher(code)
	if err := checkVoucherCode(op, code); err != nil {
		return Payment{}, err
	}
	if username == "" {
		return Payment{}, &Error{Op: op, Err: fmt.Errorf("%w: empty username", ErrInvalidArgument)}
	}
	body := struct {
		User        string `json:"user"`
		VoucherCode string `json:"voucherCode"`
		Description string `json:"description"`
	}{username, code, description}
	var p Payment
	err := c.call(ctx, op, http.MethodPost, "/api/v2/payments/voucher", nil, body, func(b []byte) error {
		var w struct {
			PaymentID *flexID         `json:"paymentId"`
			Amount    json.RawMessage `json:"amount"`
		}
		if err := json.Unmarshal(b, &w); err != nil {
			return err
		}
		if w.PaymentID == nil {
			return fmt.Errorf("no paymentId")
		}
		m, err := decodeMoney(w.Amount, false, false)
		if err != nil {
			return fmt.Errorf("amount: %w", err)
		}
		if m <= 0 || m > MaxMoney {
			return fmt.Errorf("amount %s out of range", m)
		}
		p = Payment{ID: string(*w.PaymentID), Amount: m, Description: description, State: StateOpen}
		return nil
	})
	return p, err
}

// CommitVoucherV2 commits a v2 voucher payment: the call that moves the
// money. A transient error is ambiguous, as for CommitPayment.
func (c *Client) CommitVoucherV2(ctx context.Context, id string) (Money, error) {
	const op = "commit voucher payment"
	if err := checkID(op, id); err != nil {
		return 0, err
	}
	var m Money
	err := c.call(ctx, op+" "+id, http.MethodPost, "/api/v2/payments/voucher/"+url.PathEscape(id)+"/commit", nil, nil, func(b []byte) error {
		amt, _, err := DecodeCommit(b)
		m = amt
		return err
	})
	return m, err
}

func providerPath(provider string) (string, error) {
	if provider == "" || strings.ContainsAny(provider, "/?#% ") {
		return "", fmt.Errorf("%w: provider %q is not a plain reference", ErrInvalidArgument, provider)
	}
	return "/api/v3/rechargeProviders/" + url.PathEscape(provider) + "/payments", nil
}

// CreateVoucherV3 creates an uncommitted payment through the v3 voucher
// provider, with the code in params[param].
func (c *Client) CreateVoucherV3(ctx context.Context, provider, param string, userID int64, code, description string) (Payment, error) {
	op := "create voucher payment " + MaskVoucher(code)
	if err := checkVoucherCode(op, code); err != nil {
		return Payment{}, err
	}
	path, err := providerPath(provider)
	if err != nil {
		return Payment{}, &Error{Op: op, Err: err}
	}
	if userID <= 0 || param == "" {
		return Payment{}, &Error{Op: op, Err: fmt.Errorf("%w: user id %d, code parameter %q", ErrInvalidArgument, userID, param)}
	}
	body := struct {
		UserID      int64             `json:"userId"`
		Description string            `json:"description"`
		Params      map[string]string `json:"params"`
	}{userID, description, map[string]string{param: code}}
	var p Payment
	err = c.call(ctx, op, http.MethodPost, path, nil, body, func(b []byte) (err error) {
		p, err = DecodePayment(b)
		if err == nil && (p.Amount <= 0 || p.Amount > MaxMoney) {
			err = fmt.Errorf("amount %s out of range", p.Amount)
		}
		return err
	})
	if err != nil {
		return Payment{}, err
	}
	if p.UserID != 0 && p.UserID != userID {
		return Payment{}, &Error{Op: op, Status: http.StatusOK, Err: fmt.Errorf("%w: payment %s is for user %d, asked for %d", ErrMalformed, p.ID, p.UserID, userID)}
	}
	p.UserID = userID
	if p.Description == "" {
		p.Description = description
	}
	p.State = c.state(p.RawState)
	return p, nil
}

// CommitVoucherV3 commits a payment of the v3 voucher provider.
func (c *Client) CommitVoucherV3(ctx context.Context, provider, id string) (Money, error) {
	const op = "commit voucher payment"
	path, err := providerPath(provider)
	if err != nil {
		return 0, &Error{Op: op, Err: err}
	}
	if err := checkID(op, id); err != nil {
		return 0, err
	}
	var m Money
	err = c.call(ctx, op+" "+id, http.MethodPost, path+"/"+url.PathEscape(id)+"/commit", nil, nil, func(b []byte) error {
		amt, _, err := DecodeCommit(b)
		m = amt
		return err
	})
	return m, err
}

// RollbackVoucherV3 rolls back an uncommitted v3 voucher payment: the code
// can be redeemed again.
func (c *Client) RollbackVoucherV3(ctx context.Context, provider, id string) error {
	const op = "rollback voucher payment"
	path, err := providerPath(provider)
	if err != nil {
		return &Error{Op: op, Err: err}
	}
	if err := checkID(op, id); err != nil {
		return err
	}
	return c.call(ctx, op+" "+id, http.MethodPost, path+"/"+url.PathEscape(id)+"/rollback", nil, nil, nil)
}

// ListVoucherPaymentsV3 lists the user's payments of the v3 voucher
// provider, every page (ErrIncompleteListing as for ListPayments).
func (c *Client) ListVoucherPaymentsV3(ctx context.Context, provider string, userID int64) ([]Payment, error) {
	const op = "list voucher payments"
	path, err := providerPath(provider)
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	if userID <= 0 {
		return nil, &Error{Op: op, Err: fmt.Errorf("%w: user id %d", ErrInvalidArgument, userID)}
	}
	ps, err := readPages(ctx, c, op, path, url.Values{"userId": {strconv.FormatInt(userID, 10)}}, decodePaymentsPage,
		func(p Payment) string { return p.ID })
	if err != nil {
		return nil, err
	}
	for i := range ps {
		ps[i].State = c.state(ps[i].RawState)
	}
	return ps, nil
}

// VoucherProblem is why MyQ refused a voucher.
type VoucherProblem int

const (
	VoucherNoProblem VoucherProblem = iota // not a voucher refusal
	VoucherUnknown                         // no such code
	VoucherUsed                            // already redeemed (or being redeemed)
	VoucherExpired
	VoucherRefused // another 4xx: the message says why
)

func (v VoucherProblem) String() string {
	switch v {
	case VoucherNoProblem:
		return "none"
	case VoucherUnknown:
		return "unknown"
	case VoucherUsed:
		return "used"
	case VoucherExpired:
		return "expired"
	case VoucherRefused:
		return "refused"
	}
	return "VoucherProblem(" + strconv.Itoa(int(v)) + ")"
}

// VoucherRefusal reads MyQ's refusal of a voucher create. MyQ's exact words
// are UNCERTAIN: "used"/"already"/"redeemed" is used, "expir" expired,
// "not found"/"invalid"/"unknown"/"does not exist" or a 404 unknown; other
// 4xx (401/403/408/429 excepted) are VoucherRefused. The message itself is
// cleaned (Error.Message) and may be shown.
func VoucherRefusal(err error) VoucherProblem {
	e, ok := asError(err)
	if !ok || e.Status < 400 || e.Status >= 500 || e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden ||
		e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests {
		return VoucherNoProblem
	}
	if IsProviderDisabled(err) || IsInvalidState(err) {
		return VoucherRefused
	}
	m := strings.ToLower(e.Message)
	switch {
	case strings.Contains(m, "expir"):
		return VoucherExpired
	case strings.Contains(m, "used") || strings.Contains(m, "already") || strings.Contains(m, "redeemed"):
		return VoucherUsed
	case strings.Contains(m, "user not found"):
		return VoucherRefused
	case e.Status == http.StatusNotFound || strings.Contains(m, "not found") || strings.Contains(m, "invalid") ||
		strings.Contains(m, "unknown") || strings.Contains(m, "does not exist"):
		return VoucherUnknown
	}
	return VoucherRefused
}
