package api

// VoucherRoute: one way to redeem vouchers, chosen once from the config and
// MyQ's provider list, so the kiosk's booking calls one set of methods for
// both forms (voucher.go holds the calls of each form). UNCERTAIN and
// chosen here: a v2 rollback (POST /v2/payments/voucher/{id}/rollback; a
// 404 leaves the payment uncommitted, which moves no money), and listing in
// both forms through GET /v3/rechargeProviders/{ref}/payments?userId= (the
// only documented listing).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// VoucherAuto is api = "auto": v3 when MyQ lists the voucher provider, else
// v2 (ResolveVoucher decides).
const VoucherAuto VoucherAPI = 0

// DefaultVoucherCodeParam is the v3 code parameter used when neither the
// config nor the provider list names one: the v2 field's name (UNCERTAIN).
const DefaultVoucherCodeParam = "voucherCode"

// ParseVoucherAPI reads the config word ("auto", "v2", "v3"; "" is auto).
func ParseVoucherAPI(s string) (VoucherAPI, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return VoucherAuto, nil
	case "v2":
		return VoucherV2, nil
	case "v3":
		return VoucherV3, nil
	}
	return VoucherAuto, fmt.Errorf("voucher api %q: want auto, v3 or v2", s)
}

// VoucherRoute is a resolved way to redeem vouchers.
type VoucherRoute struct {
	Form      VoucherAPI // VoucherV2 or VoucherV3
	Provider  string     // v3 reference (also where both forms are listed)
	CodeParam string     // v3 params key carrying the code
}

func (r VoucherRoute) String() string {
	if r.Form == VoucherV3 {
		return fmt.Sprintf("v3 provider %q, code param %q", r.Provider, r.CodeParam)
	}
	return fmt.Sprintf("v2 /v2/payments/voucher (listing via provider %q)", r.Provider)
}

// ResolveVoucher decides how vouchers are redeemed. VoucherAuto asks MyQ
// for the provider list: v3 when it lists provider (enabled or not saying),
// v2 otherwise. codeParam, when set, overrides what the list says.
func (c *Client) ResolveVoucher(ctx context.Context, form VoucherAPI, provider, codeParam string) (VoucherRoute, error) {
	if provider == "" {
		provider = DefaultVoucherProvider
	}
	rt := VoucherRoute{Form: form, Provider: provider, CodeParam: codeParam}
	if form == VoucherV2 || (form == VoucherV3 && codeParam != "") {
		return rt, nil
	}
	ps, err := c.Providers(ctx)
	if err != nil {
		return VoucherRoute{}, err
	}
	chosen, p := ChooseVoucherAPI(ps, provider)
	if form == VoucherAuto {
		rt.Form = chosen
	}
	if rt.Form == VoucherV3 && rt.CodeParam == "" {
		rt.CodeParam = DefaultVoucherCodeParam
		if p != nil {
			if name, ok := VoucherCodeParam(*p); ok {
				rt.CodeParam = name
			}
		}
	}
	return rt, nil
}

// VoucherPayment is an uncommitted voucher payment: the voucher's value as
// MyQ states it.
type VoucherPayment struct {
	ID     string
	Amount Money
}

// CreateVoucherPayment asks MyQ to check code and create an uncommitted
// payment of the voucher's value for u (v2 needs u.Username, v3 u.ID).
// description carries the kiosk's reference. IsVoucherRefused tells a
// refused code.
func (c *Client) CreateVoucherPayment(ctx context.Context, rt VoucherRoute, u User, code, description string) (VoucherPayment, error) {
	var p Payment
	var err error
	if rt.Form == VoucherV2 {
		p, err = c.CreateVoucherV2(ctx, u.Username, code, description)
	} else {
		p, err = c.CreateVoucherV3(ctx, rt.Provider, rt.CodeParam, u.ID, code, description)
	}
	if err != nil {
		return VoucherPayment{}, err
	}
	return VoucherPayment{ID: p.ID, Amount: p.Amount}, nil
}

// CommitVoucherPayment commits a voucher payment: the call that moves the
// voucher's money. A transient error is ambiguous: list before repeating.
func (c *Client) CommitVoucherPayment(ctx context.Context, rt VoucherRoute, id string) (Money, error) {
	if rt.Form == VoucherV2 {
		return c.CommitVoucherV2(ctx, id)
	}
	return c.CommitVoucherV3(ctx, rt.Provider, id)
}

// RollbackVoucherPayment rolls back an uncommitted voucher payment. In the
// v2 form a 404 (no rollback endpoint: UNCERTAIN) is not an error: the
// payment stays uncommitted and moves no money (the code may stay reserved
// until MyQ lets the payment expire).
func (c *Client) RollbackVoucherPayment(ctx context.Context, rt VoucherRoute, id string) error {
	if rt.Form == VoucherV3 {
		return c.RollbackVoucherV3(ctx, rt.Provider, id)
	}
	const op = "rollback voucher payment"
	if err := checkID(op, id); err != nil {
		return err
	}
	err := c.call(ctx, op+" "+id, http.MethodPost, "/api/v2/payments/voucher/"+url.PathEscape(id)+"/rollback", nil, nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// ListVoucherPayments lists the user's payments through the voucher
// provider (both forms: the v2 API documents no listing).
func (c *Client) ListVoucherPayments(ctx context.Context, rt VoucherRoute, userID int64) ([]Payment, error) {
	return c.ListVoucherPaymentsV3(ctx, rt.Provider, userID)
}

// IsVoucherRefused reports MyQ refusing the code itself (unknown, used,
// expired, refused): not the kiosk's rights or set-up (403, a disabled
// provider, a missing endpoint or user).
func IsVoucherRefused(err error) bool {
	if VoucherRefusal(err) == VoucherNoProblem || IsProviderDisabled(err) || errors.Is(err, ErrInvalidArgument) {
		return false
	}
	e, _ := asError(err)
	if e.Status == http.StatusNotFound || e.Status == http.StatusUnsupportedMediaType {
		// A 404 about the code (MyQ's wording is UNCERTAIN) is a refusal;
		// a missing endpoint, user or provider is the set-up.
		m := strings.ToLower(e.Message)
		return (strings.Contains(m, "voucher") || strings.Contains(m, "code")) && !strings.Contains(m, "provider")
	}
	return true
}

// IsVoucherUsed reports MyQ's refusal of a voucher already used.
func IsVoucherUsed(err error) bool { return VoucherRefusal(err) == VoucherUsed }

// MaxVoucherMessage bounds MyQ's text shown to a student (bytes).
const MaxVoucherMessage = 120

// VoucherMessage is MyQ's own text of an error, for the kiosk screen
// (CleanVoucherText). Empty when the error carries no text from MyQ.
func VoucherMessage(err error) string {
	e, ok := asError(err)
	if !ok {
		return ""
	}
	return CleanVoucherText(e.Message)
}

// CleanVoucherText makes any text safe for the kiosk screen: cleanText's
// rules (escape sequences removed whole, no control or invisible
// characters), and no markup brackets, spaces collapsed, at most
// MaxVoucherMessage bytes.
func CleanVoucherText(m string) string {
	m = strings.Map(func(r rune) rune {
		if r == '[' || r == ']' { // tview colour tags
			return ' '
		}
		return r
	}, cleanText(m, len(m)))
	return cleanText(strings.Join(strings.Fields(m), " "), MaxVoucherMessage)
}
