package api_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
)

var jdoe = api.User{ID: 1176, Username: "jdoe"}

// TestVoucherV2WireFormIsTheDocumentedOne checks the request and answer
// shapes of docs.myq-solution.com/en/rad/v4/post-payment-voucher
// (request {"user","voucherCode","description"}, answer
// {"paymentId":"string","amount":0}) and commit-payment-voucher
// (POST /v2/payments/voucher/{paymentId}/commit → {"amount":…}) against a
// server written from that page alone, not against our fake.
func TestVoucherV2WireFormIsTheDocumentedOne(t *testing.T) {
	var got map[string]any
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/auth/token":
			io.WriteString(w, `{"access_token":"t","token_type":"Bearer","expires_in":1800,"scope":"credit users"}`)
		case "/api/v2/payments/voucher":
			b, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(b, &got); err != nil {
				t.Errorf("body %q: %v", b, err)
			}
			io.WriteString(w, `{"paymentId":"6a1f","amount":5}`)
		case "/api/v2/payments/voucher/6a1f/commit":
			io.WriteString(w, `{"amount":5}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, err := api.New(api.Config{URL: srv.URL, ClientID: "a", ClientSecret: "b", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	rt := api.VoucherRoute{Form: api.VoucherV2, Provider: "voucher"}
	p, err := c.CreateVoucherPayment(ctx(t), rt, jdoe, "ABCD-1234", "kiosk-1/s1/v1")
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "6a1f" || p.Amount != 500 {
		t.Errorf("payment = %+v, want id 6a1f amount 5.00", p)
	}
	want := map[string]any{"user": "jdoe", "voucherCode": "ABCD-1234", "description": "kiosk-1/s1/v1"}
	if len(got) != len(want) {
		t.Errorf("request body %v, want exactly %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("request %s = %v, want %v", k, got[k], v)
		}
	}
	m, err := c.CommitVoucherPayment(ctx(t), rt, p.ID)
	if err != nil || m != 500 {
		t.Errorf("commit = %v, %v", m, err)
	}
	if paths[len(paths)-1] != "POST /api/v2/payments/voucher/6a1f/commit" {
		t.Errorf("commit went to %v", paths)
	}
}

// TestVoucherProviderParams reads the params of GET /v3/rechargeProviders
// in the documented shape (an array of values, rad/v5 credit-recharging)
// and in the object shape, and picks the code parameter.
func TestVoucherProviderParams(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"providers":[{"name":"Voucher","reference":"voucher","description":"","params":["voucherNumber"]}],"count":1}`, "voucherNumber"},
		{`{"providers":[{"reference":"voucher","params":[{"name":"amount"},{"name":"Code"}]}]}`, "Code"},
		{`{"providers":[{"reference":"voucher","params":{"pin":""}}]}`, "pin"},
		{`{"providers":[{"reference":"voucher","params":["string",0,true]}]}`, "string"},
		{`{"providers":[{"reference":"voucher","params":[]}]}`, api.DefaultVoucherCodeParam},
		{`{"providers":[{"reference":"voucher","params":["a\u001b[2Jb"]}]}`, api.DefaultVoucherCodeParam},
	} {
		ps, err := api.DecodeProviderParams([]byte(tc.body))
		if err != nil || len(ps) != 1 {
			t.Fatalf("%s: %v %v", tc.body, ps, err)
		}
		if got := api.CodeParamOf(ps[0].Params); got != tc.want {
			t.Errorf("%s: code param %q, want %q", tc.body, got, tc.want)
		}
	}
}

func TestVoucherAutoChoosesTheForm(t *testing.T) {
	e := setup(t, myqfake.Options{}, nil)
	rt, err := e.c.ResolveVoucher(ctx(t), api.VoucherAuto, "", "")
	if err != nil || rt.Form != api.VoucherV2 {
		t.Errorf("no voucher provider listed: %v, %v; want v2", rt, err)
	}
	e.fake.SetVoucherProvider(true, "", "", false)
	rt, err = e.c.ResolveVoucher(ctx(t), api.VoucherAuto, "", "")
	if err != nil || rt.Form != api.VoucherV3 || rt.Provider != "voucher" || rt.CodeParam != "code" {
		t.Errorf("provider listed: %v, %v; want v3 voucher/code", rt, err)
	}
	e.fake.SetVoucherProvider(true, "vouchers", "voucherPin", true)
	rt, err = e.c.ResolveVoucher(ctx(t), api.VoucherAuto, "vouchers", "")
	if err != nil || rt.Form != api.VoucherV3 || rt.CodeParam != "voucherPin" {
		t.Errorf("param learned from the list: %v, %v", rt, err)
	}
	rt, _ = e.c.ResolveVoucher(ctx(t), api.VoucherAuto, "vouchers", "pin")
	if rt.CodeParam != "pin" {
		t.Errorf("config did not override the list: %v", rt)
	}
	e.fake.SetVoucherProvider(false, "", "", false)
	rt, err = e.c.ResolveVoucher(ctx(t), api.VoucherAuto, "", "")
	if err != nil || rt.Form != api.VoucherV2 {
		t.Errorf("no voucher provider: %v, %v; want v2", rt, err)
	}
	e.fake.SetRefuse(true)
	if _, err := e.c.ResolveVoucher(ctx(t), api.VoucherAuto, "", ""); !api.IsTransient(err) {
		t.Errorf("offline auto: %v, want a transient error", err)
	}
}

// TestVoucherContract runs the whole flow against the fake in both forms.
func TestVoucherContract(t *testing.T) {
	for _, form := range []api.VoucherForm{api.VoucherV2, api.VoucherV3} {
		t.Run(form.String(), func(t *testing.T) {
			e := setup(t, myqfake.Options{}, nil)
			e.fake.SetVoucherProvider(true, "voucher", "voucherCode", false)
			exp := time.Now().Add(time.Hour)
			codes := e.fake.AddVoucherBatch("T", 3, 500, exp)
			e.fake.AddVoucher(myqfake.Voucher{Code: "OLD-1", Value: 500, Expires: time.Now().Add(-time.Hour)})
			rt, err := e.c.ResolveVoucher(ctx(t), form, "voucher", "")
			if err != nil {
				t.Fatal(err)
			}
			before := e.fake.Balance(1176)

			// Create moves no money; commit does, once.
			p, err := e.c.CreateVoucherPayment(ctx(t), rt, jdoe, codes[0], "k/s1/v1")
			if err != nil || p.Amount != 500 {
				t.Fatalf("create: %+v %v", p, err)
			}
			if e.fake.Balance(1176) != before {
				t.Error("an uncommitted voucher payment moved money")
			}
			if m, err := e.c.CommitVoucherPayment(ctx(t), rt, p.ID); err != nil || m != 500 {
				t.Fatalf("commit: %v %v", m, err)
			}
			if got := e.fake.Balance(1176) - before; got != 500 {
				t.Errorf("balance moved by %v, want 5.00", got)
			}
			if _, err := e.c.CommitVoucherPayment(ctx(t), rt, p.ID); !api.IsInvalidState(err) {
				t.Errorf("second commit: %v, want invalid state", err)
			}
			// Listing finds it by our reference, committed.
			ps, err := e.c.ListVoucherPayments(ctx(t), rt, 1176)
			if err != nil || len(ps) != 1 || ps[0].Description != "k/s1/v1" || ps[0].State != api.StateCommitted {
				t.Errorf("list: %+v %v", ps, err)
			}
			// Voucher payments stay out of the cash provider's listing.
			if cash, err := e.c.ListPayments(ctx(t), 1176); err != nil || len(cash) != 0 {
				t.Errorf("external listing shows voucher payments: %+v %v", cash, err)
			}

			// Used, unknown, expired: refused with MyQ's words.
			for code, want := range map[string]string{codes[0]: myqfake.MsgVoucherUsed, "NOPE-0000": myqfake.MsgVoucherUnknown, "OLD-1": myqfake.MsgVoucherExpired} {
				_, err := e.c.CreateVoucherPayment(ctx(t), rt, jdoe, code, "k/s1/v2")
				if !api.IsVoucherRefused(err) || api.IsTransient(err) || api.VoucherMessage(err) != want {
					t.Errorf("%s: %v (refused=%v, message %q)", code, err, api.IsVoucherRefused(err), api.VoucherMessage(err))
				}
			}
			if api.IsVoucherUsed(errors.New("x")) {
				t.Error("a plain error read as used")
			}

			// Rollback: the voucher stays usable.
			p2, err := e.c.CreateVoucherPayment(ctx(t), rt, jdoe, codes[1], "k/s1/v3")
			if err != nil {
				t.Fatal(err)
			}
			if err := e.c.RollbackVoucherPayment(ctx(t), rt, p2.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := e.c.CommitVoucherPayment(ctx(t), rt, p2.ID); err == nil {
				t.Error("a rolled-back voucher payment committed")
			}
			// Two payments for one code: the second commit finds it used.
			a, _ := e.c.CreateVoucherPayment(ctx(t), rt, jdoe, codes[2], "k/s2/v1")
			b, err := e.c.CreateVoucherPayment(ctx(t), rt, api.User{ID: 1177, Username: "pnovak"}, codes[2], "k/s3/v1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.c.CommitVoucherPayment(ctx(t), rt, a.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := e.c.CommitVoucherPayment(ctx(t), rt, b.ID); !api.IsVoucherUsed(err) {
				t.Errorf("second payment of a used code: %v", err)
			}
			// A lost commit answer: the money moved, the listing says so.
			e.fake.DropAnswer(myqfake.RouteVoucherCommit, 1)
			c, _ := e.c.CreateVoucherPayment(ctx(t), rt, jdoe, codes[1], "k/s4/v1")
			if _, err := e.c.CommitVoucherPayment(ctx(t), rt, c.ID); !api.IsTransient(err) {
				t.Errorf("dropped commit answer: %v, want transient", err)
			}
			ps, _ = e.c.ListVoucherPayments(ctx(t), rt, 1176)
			found := false
			for _, p := range ps {
				found = found || (p.Description == "k/s4/v1" && p.State == api.StateCommitted)
			}
			if !found {
				t.Errorf("listing after a lost commit answer: %+v", ps)
			}
			if err := e.fake.Check(); err != nil {
				t.Error(err)
			}
			if err := e.fake.CheckVouchers(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestVoucherMessageIsCleaned(t *testing.T) {
	for in, want := range map[string]string{
		"Voucher \x1b[31mused\x1b[0m.":    "Voucher used.",
		"bad\r\n\tcode [red]x[-]":         "bad code red x -",
		"a\u202eb\u200bc":                 "abc",
		"ok\xff":                          "ok",
		strings.Repeat("é", 200):          strings.Repeat("é", 60) + "…",
		"\x1b]0;title\x07Voucher expired": "Voucher expired",
	} {
		if got := api.CleanVoucherText(in); got != want {
			t.Errorf("CleanVoucherText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestVoucherRefusalIsNotASetUpError(t *testing.T) {
	e := setup(t, myqfake.Options{}, nil)
	rt := api.VoucherRoute{Form: api.VoucherV2, Provider: "voucher"}
	e.fake.SetVoucherV2(false)
	_, err := e.c.CreateVoucherPayment(ctx(t), rt, jdoe, "ANY-CODE", "d")
	if api.IsVoucherRefused(err) || !api.IsNotFound(err) {
		t.Errorf("missing endpoint read as a refused code: %v", err)
	}
	e.fake.SetVoucherV2(true)
	_, err = e.c.CreateVoucherPayment(ctx(t), rt, api.User{ID: 5, Username: "nobody"}, "ANY-CODE", "d")
	if api.IsVoucherRefused(err) {
		t.Errorf("unknown user read as a refused code: %v", err)
	}
	rt3 := api.VoucherRoute{Form: api.VoucherV3, Provider: "voucher", CodeParam: "code"}
	_, err = e.c.CreateVoucherPayment(ctx(t), rt3, jdoe, "ANY-CODE", "d")
	if api.IsVoucherRefused(err) {
		t.Errorf("unlisted provider read as a refused code: %v", err)
	}
}
