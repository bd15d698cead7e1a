package api_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
)

// voucherEnv is the demo fake with a batch of 5.00 vouchers, one expired
// and one already used.
func voucherEnv(t *testing.T) *env {
	t.Helper()
	e := setup(t, myqfake.Options{}, nil)
	e.fake.AddVouchers(myqfake.VoucherBatch("T5", 3, 500, time.Now().Add(24*time.Hour))...)
	e.fake.AddVouchers(
		myqfake.Voucher{Code: "T-EXPIRED", Value: 500, Expires: time.Now().Add(-time.Hour)},
		myqfake.Voucher{Code: "T-USED", Value: 500, Used: true},
	)
	return e
}

// voucherForm is one of the two API forms behind one interface, so the
// same contract runs against both.
type voucherForm struct {
	name   string
	create func(e *env, code, desc string) (api.Payment, error)
	commit func(e *env, id string) (api.Money, error)
}

func voucherForms(param string) []voucherForm {
	return []voucherForm{
		{"v2",
			func(e *env, code, desc string) (api.Payment, error) {
				return e.c.CreateVoucherV2(ctxBG(), "jdoe", code, desc)
			},
			func(e *env, id string) (api.Money, error) { return e.c.CommitVoucherV2(ctxBG(), id) }},
		{"v3",
			func(e *env, code, desc string) (api.Payment, error) {
				return e.c.CreateVoucherV3(ctxBG(), "voucher", param, 1176, code, desc)
			},
			func(e *env, id string) (api.Money, error) { return e.c.CommitVoucherV3(ctxBG(), "voucher", id) }},
	}
}

func TestVoucherContract(t *testing.T) {
	for _, f := range voucherForms(myqfake.DefaultVoucherParam) {
		t.Run(f.name, func(t *testing.T) {
			e := voucherEnv(t)
			p, err := f.create(e, "T5-0001", "K-v-1")
			if err != nil || p.ID == "" || p.Amount != 500 {
				t.Fatalf("create: %+v %v", p, err)
			}
			if e.fake.Balance(1176) != 1250 || e.fake.VoucherUsed("T5-0001") {
				t.Fatal("an uncommitted voucher payment moved money")
			}
			// While it is open, the code is taken.
			if _, err := f.create(e, "T5-0001", "K-v-2"); api.VoucherRefusal(err) != api.VoucherUsed {
				t.Errorf("second create of an open code: %v (%v)", err, api.VoucherRefusal(err))
			}
			m, err := f.commit(e, p.ID)
			if err != nil || m != 500 {
				t.Fatalf("commit: %s %v", m, err)
			}
			if e.fake.Balance(1176) != 1750 || !e.fake.VoucherUsed("T5-0001") {
				t.Errorf("after commit: balance %s used %v", e.fake.Balance(1176), e.fake.VoucherUsed("T5-0001"))
			}
			if _, err := f.commit(e, p.ID); !api.IsInvalidState(err) {
				t.Errorf("second commit: %v, want the current-state refusal", err)
			}
			for code, want := range map[string]api.VoucherProblem{
				"T5-0001": api.VoucherUsed, "T-USED": api.VoucherUsed, "T-EXPIRED": api.VoucherExpired, "NO-SUCH-CODE": api.VoucherUnknown,
			} {
				_, err := f.create(e, code, "K-v-x")
				if got := api.VoucherRefusal(err); got != want || !api.IsPermanent(err) {
					t.Errorf("%s: %v, read as %v; want %v", code, err, got, want)
				}
			}
			if _, err := f.create(e, "bad code", "K"); !errors.Is(err, api.ErrInvalidArgument) {
				t.Errorf("code with a space: %v", err)
			}
			if err := e.fake.Check(); err != nil {
				t.Error(err)
			}
			if l := e.fake.Ledger(); len(l) != 1 || l[0].Voucher != "T5-0001" || l[0].UserID != 1176 || l[0].Description != "K-v-1" {
				t.Errorf("ledger %+v", l)
			}
			if api.VoucherRefusal(errors.New("x")) != api.VoucherNoProblem {
				t.Error("a plain error read as a voucher refusal")
			}
		})
	}
}

// v3 only: rollback frees the code; listing shows the voucher payments;
// errors name the code masked.
func TestVoucherV3RollbackAndList(t *testing.T) {
	e := voucherEnv(t)
	p, err := e.c.CreateVoucherV3(ctxBG(), "voucher", "code", 1176, "T5-0002", "K-v-9")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.c.RollbackVoucherV3(ctxBG(), "voucher", p.ID); err != nil {
		t.Fatal(err)
	}
	p2, err := e.c.CreateVoucherV3(ctxBG(), "voucher", "code", 1176, "T5-0002", "K-v-10")
	if err != nil {
		t.Fatalf("code not free after rollback: %v", err)
	}
	list, err := e.c.ListVoucherPaymentsV3(ctxBG(), "voucher", 1176)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %+v %v", list, err)
	}
	states := map[string]api.PaymentState{}
	for _, q := range list {
		states[q.ID] = q.State
	}
	if states[p.ID] != api.StateRolledBack || states[p2.ID] != api.StateOpen {
		t.Errorf("states %v", states)
	}
	if cash, _ := e.c.ListPayments(ctxBG(), 1176); len(cash) != 0 {
		t.Errorf("voucher payments listed as external: %+v", cash)
	}
	_, err = e.c.CreateVoucherV3(ctxBG(), "voucher", "code", 1176, "SECRET-CODE-9876", "K")
	if err == nil || containsStr(err.Error(), "SECRET-CODE") || !containsStr(err.Error(), "9876") {
		t.Errorf("error should name the code masked: %v", err)
	}
}

// UNCERTAIN: the v3 code parameter's name. The kiosk learns it from
// /v3/rechargeProviders; with the wrong name MyQ refuses; without a v3
// voucher provider, "auto" means v2.
func TestVoucherV3ParamFromProviders(t *testing.T) {
	for _, param := range []string{"code", "voucherCode"} {
		t.Run(param, func(t *testing.T) {
			e := voucherEnv(t)
			e.fake.SetVoucherV3(param)
			ps, err := e.c.Providers(ctxBG())
			if err != nil {
				t.Fatal(err)
			}
			form, prov := api.ChooseVoucherAPI(ps, "")
			if form != api.VoucherV3 || prov == nil {
				t.Fatalf("auto with a voucher provider: %v", form)
			}
			name, ok := api.VoucherCodeParam(*prov)
			if !ok || name != param {
				t.Fatalf("learnt parameter %q %v, want %q", name, ok, param)
			}
			if _, err := e.c.CreateVoucherV3(ctxBG(), "voucher", name, 1176, "T5-0003", "K-p"); err != nil {
				t.Errorf("with the learnt name: %v", err)
			}
			wrong := "code"
			if param == "code" {
				wrong = "voucherCode"
			}
			_, err = e.c.CreateVoucherV3(ctxBG(), "voucher", wrong, 1176, "T5-0002", "K-p")
			if api.VoucherRefusal(err) != api.VoucherRefused {
				t.Errorf("wrong parameter name %q: %v (%v)", wrong, err, api.VoucherRefusal(err))
			}
		})
	}
	e := voucherEnv(t)
	e.fake.SetVoucherV3("")
	ps, _ := e.c.Providers(ctxBG())
	if form, _ := api.ChooseVoucherAPI(ps, ""); form != api.VoucherV2 {
		t.Errorf("auto without a voucher provider: %v, want v2", form)
	}
	if _, err := e.c.CreateVoucherV3(ctxBG(), "voucher", "code", 1176, "T5-0001", "K"); !api.IsNotFound(err) {
		t.Errorf("v3 create without the provider: %v", err)
	}
	for _, tc := range []struct {
		params []string
		want   string
		ok     bool
	}{{[]string{"amount", "voucher_code"}, "voucher_code", true}, {[]string{"pin"}, "pin", true}, {[]string{"a", "b"}, "", false}, {nil, "", false}} {
		if got, ok := api.VoucherCodeParam(api.Provider{Params: tc.params}); got != tc.want || ok != tc.ok {
			t.Errorf("VoucherCodeParam(%v) = %q %v", tc.params, got, ok)
		}
	}
}

func TestDecodeProviderParams(t *testing.T) {
	ps, err := api.DecodeProviders([]byte(`{"providers":[{"name":"Voucher","reference":"voucher","params":["voucherCode",0,true,{"name":"pin"},{"key":"x\u001b[2J"}]}],"count":1}`))
	if err != nil || len(ps) != 1 {
		t.Fatal(ps, err)
	}
	if got := ps[0].Params; len(got) != 3 || got[0] != "voucherCode" || got[1] != "pin" || got[2] != "x" {
		t.Errorf("params %q", got)
	}
}

func ctxBG() context.Context { return context.Background() }

func containsStr(s, sub string) bool { return strings.Contains(s, sub) }
