package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lockedBuffer collects log output from concurrent goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type env struct {
	fake *myqfake.Server
	run  *myqfake.Running
	c    *api.Client
	log  *lockedBuffer
}

// setup starts a demo fake over TLS and a client that trusts it only
// through CAFile.
func setup(t testing.TB, opt myqfake.Options, mod func(*api.Config)) *env {
	t.Helper()
	fake := myqfake.NewDemo(opt)
	run, err := fake.Start(true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Close() })
	ca, err := run.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	lb := &lockedBuffer{}
	cfg := api.Config{
		URL: run.URL, ClientID: myqfake.DemoClientID, ClientSecret: myqfake.DemoClientSecret,
		CAFile: ca, Timeout: 5 * time.Second, Version: "test",
		Log: slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return &env{fake, run, c, lb}
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestTLSRequiresTheCA(t *testing.T) {
	e := setup(t, myqfake.Options{}, nil)
	c, err := api.New(api.Config{URL: e.run.URL, ClientID: myqfake.DemoClientID, ClientSecret: myqfake.DemoClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	_, err = c.FindUserByCard(ctx(t), "0008844356")
	if err == nil {
		t.Fatal("a server signed by an unknown CA was trusted")
	}
	if api.IsTransient(err) {
		t.Errorf("certificate error %v classified transient", err)
	}
}

func TestFindUser(t *testing.T) {
	e := setup(t, myqfake.Options{}, nil)
	u, err := e.c.FindUserByCard(ctx(t), "0008844356")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != 1176 || u.FullName != "Jane Doe" || u.Username != "jdoe" || u.Lang != "en" {
		t.Errorf("user = %+v", u)
	}
	u, err = e.c.FindUserByUsername(ctx(t), "pnovak")
	if err != nil || u.ID != 1177 || u.FullName != "Petr Novák" {
		t.Errorf("by username: %+v, %v", u, err)
	}
	_, err = e.c.FindUserByCard(ctx(t), "9999999999")
	if !errors.Is(err, api.ErrUserNotFound) || !api.IsPermanent(err) || api.IsTransient(err) {
		t.Errorf("unknown card: %v (permanent=%v)", err, api.IsPermanent(err))
	}
	if strings.Contains(err.Error(), "9999999999") {
		t.Errorf("error names the whole card: %v", err)
	}
	e.fake.SetRefuse(true)
	_, err = e.c.FindUserByCard(ctx(t), "0008844356")
	if !api.IsTransient(err) || strings.Contains(err.Error(), "0008844356") {
		t.Errorf("refused lookup: %v (want transient, card masked)", err)
	}
	e.fake.SetRefuse(false)
	e.fake.DeleteUser(1176)
	if _, err := e.c.FindUserByCard(ctx(t), "0008844356"); !errors.Is(err, api.ErrUserNotFound) {
		t.Errorf("deleted user: %v", err)
	}
	if strings.Contains(e.log.String(), "0008844356") {
		t.Error("log contains a whole card number")
	}
}

func TestBalance(t *testing.T) {
	e := setup(t, myqfake.Options{}, nil)
	for _, c := range []struct {
		id    int64
		want  api.Money
		known bool
	}{{1176, 1250, true}, {1179, -150, true}, {1180, 10000, true}} {
		bal, known, err := e.c.Balance(ctx(t), c.id)
		if err != nil || known != c.known || bal != c.want {
			t.Errorf("Balance(%d) = %s,%v,%v; want %s,%v", c.id, bal, known, err, c.want, c.known)
		}
	}
	// UNCERTAIN: the endpoints may not exist.
	e.fake.SetAccountsEndpoint(false)
	e.fake.SetBalanceEndpoint(false)
	bal, known, err := e.c.Balance(ctx(t), 1176)
	if err != nil || known || bal != 0 {
		t.Errorf("without balance and accounts endpoints: %s,%v,%v; want unknown, no error", bal, known, err)
	}
	e.fake.SetAccountsEndpoint(true)
	e.fake.SetBalanceEndpoint(true)
	e.fake.SetDown(true)
	if _, known, err := e.c.Balance(ctx(t), 1176); known || !api.IsTransient(err) {
		t.Errorf("down: known=%v err=%v; want a transient error", known, err)
	}
}

func TestProviders(t *testing.T) {
	e := setup(t, myqfake.Options{}, nil)
	ps, err := e.c.Providers(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Reference != "external" || ps[0].Enabled == nil || !*ps[0].Enabled || ps[1].Reference != "voucher" {
		t.Errorf("providers = %+v", ps)
	}
	e.fake.SetProviderEnabled(false)
	ps, err = e.c.Providers(ctx(t))
	if err != nil || ps[0].Enabled == nil || *ps[0].Enabled {
		t.Errorf("disabled provider: %+v, %v", ps, err)
	}
}

// TestPaymentLifecycle runs the whole life cycle under every reading of the
// UNCERTAIN points.
func TestPaymentLifecycle(t *testing.T) {
	type variant struct {
		name                     string
		idNumber, descKept       bool
		created, committed, rolb string
	}
	variants := []variant{
		{"documented", false, true, "created", "committed", "rolledback"},
		{"numeric ids", true, true, "created", "committed", "rolledback"},
		{"description dropped", false, false, "created", "committed", "rolledback"},
		{"other state words", true, false, "New", "COMMITTED", "Cancelled"},
		{"odd state words", false, true, "uncommitted", " Committed ", "rolled_back"},
		{"unknown open word", false, true, "awaiting", "Committed", "RolledBack"},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			e := setup(t, myqfake.Options{}, nil)
			e.fake.SetIDAsNumber(v.idNumber)
			e.fake.SetDescriptionInList(v.descKept)
			e.fake.SetStateWords(v.created, v.committed, v.rolb)
			c := ctx(t)

			p, err := e.c.CreatePayment(c, 1176, "K-lib-0001", 1350)
			if err != nil {
				t.Fatal(err)
			}
			if p.ID == "" || p.UserID != 1176 || p.Amount != 1350 || p.State != api.StateOpen || p.Description != "K-lib-0001" {
				t.Errorf("created = %+v", p)
			}
			if err := e.c.UpdatePayment(c, p.ID, "K-lib-0001", 1400); err != nil {
				t.Fatalf("update: %v", err)
			}
			list, err := e.c.ListPayments(c, 1176)
			if err != nil || len(list) != 1 {
				t.Fatalf("list = %+v, %v", list, err)
			}
			wantOpen := api.StateOpen
			if v.created == "awaiting" {
				wantOpen = api.StateUnknown // an unknown word is never read as a known state
			}
			if list[0].ID != p.ID || list[0].State != wantOpen || list[0].Amount != 1400 || list[0].RawState != v.created {
				t.Errorf("listed = %+v", list[0])
			}
			if got := list[0].Description; v.descKept != (got == "K-lib-0001") {
				t.Errorf("description in list = %q, kept=%v", got, v.descKept)
			}
			if list[0].Created.IsZero() {
				t.Error("created time not read")
			}

			amt, err := e.c.CommitPayment(c, p.ID)
			if err != nil || amt != 1400 {
				t.Fatalf("commit = %s, %v", amt, err)
			}
			if bal := e.fake.Balance(1176); bal != 1250+1400 {
				t.Errorf("balance after commit = %s", bal)
			}
			_, err = e.c.CommitPayment(c, p.ID)
			if !api.IsInvalidState(err) || api.IsProviderDisabled(err) || !api.IsPermanent(err) {
				t.Errorf("second commit: %v", err)
			}
			if err := e.c.UpdatePayment(c, p.ID, "x", 100); !api.IsInvalidState(err) {
				t.Errorf("update of a committed payment: %v", err)
			}

			q, err := e.c.CreatePayment(c, 1176, "K-lib-0002", 50)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.c.RollbackPayment(c, q.ID); err != nil {
				t.Fatalf("rollback: %v", err)
			}
			if _, err := e.c.CommitPayment(c, q.ID); !api.IsInvalidState(err) {
				t.Errorf("commit after rollback: %v", err)
			}
			if err := e.c.RollbackPayment(c, p.ID); !api.IsInvalidState(err) {
				t.Errorf("rollback of a committed payment: %v", err)
			}

			list, err = e.c.ListPayments(c, 1176)
			if err != nil || len(list) != 2 {
				t.Fatalf("list = %+v, %v", list, err)
			}
			want := map[string]api.PaymentState{p.ID: api.StateCommitted, q.ID: api.StateRolledBack}
			for _, lp := range list {
				if lp.State != want[lp.ID] {
					t.Errorf("payment %s state %v (raw %q), want %v", lp.ID, lp.State, lp.RawState, want[lp.ID])
				}
			}
			if other, err := e.c.ListPayments(c, 1177); err != nil || len(other) != 0 {
				t.Errorf("other user's list = %+v, %v", other, err)
			}
			if _, err := e.c.CommitPayment(c, "999999"); !api.IsNotFound(err) || !api.IsPermanent(err) {
				t.Errorf("unknown payment: %v", err)
			}
			if err := e.fake.Check(); err != nil {
				t.Error(err)
			}
			if tot := e.fake.Totals(); tot[1176] != 1400 || len(tot) != 1 {
				t.Errorf("totals = %v", tot)
			}
			if v.name == "unknown open word" && strings.Count(e.log.String(), "unknown payment state") != 1 {
				t.Errorf("unknown state word logged %d times, want once", strings.Count(e.log.String(), "unknown payment state"))
			}
		})
	}
}

func TestCreateRefusals(t *testing.T) {
	e := setup(t, myqfake.Options{}, nil)
	c := ctx(t)
	e.fake.SetProviderEnabled(false)
	_, err := e.c.CreatePayment(c, 1176, "K-1", 100)
	if !api.IsProviderDisabled(err) || api.IsInvalidState(err) || !api.IsPermanent(err) || api.IsTransient(err) {
		t.Errorf("provider disabled: %v", err)
	}
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != 400 || ae.Op != "create payment" {
		t.Errorf("error fields = %+v", ae)
	}
	e.fake.SetProviderEnabled(true)
	if _, err := e.c.CreatePayment(c, 424242, "K-1", 100); !api.IsPermanent(err) || !api.IsNotFound(err) {
		t.Errorf("unknown user: %v", err)
	}
	for _, amt := range []api.Money{0, -5, api.MaxMoney + 1} {
		if _, err := e.c.CreatePayment(c, 1176, "K-1", amt); !errors.Is(err, api.ErrInvalidArgument) || !api.IsPermanent(err) {
			t.Errorf("amount %s: %v", amt, err)
		}
	}
	if n := e.fake.Requests(myqfake.RouteCreate); n != 2 {
		t.Errorf("create requests = %d; invalid amounts must not reach MyQ", n)
	}
}

func TestScopes(t *testing.T) {
	e := setup(t, myqfake.Options{}, func(c *api.Config) { c.ClientID = "users-only" })
	e.fake.AddClient("users-only", myqfake.DemoClientSecret, "users")
	info, err := e.c.Token(ctx(t))
	if err != nil || info.Scope != "users" || len(info.Scopes) != 1 || info.ExpiresAt.Before(time.Now().Add(20*time.Minute)) {
		t.Fatalf("token = %+v, %v", info, err)
	}
	if _, err := e.c.FindUserByCard(ctx(t), "0008844356"); err != nil {
		t.Errorf("users scope: %v", err)
	}
	_, err = e.c.Providers(ctx(t))
	if !api.IsForbidden(err) || !api.IsPermanent(err) {
		t.Errorf("providers without credit: %v", err)
	}
	if _, err := e.c.CreatePayment(ctx(t), 1176, "K", 100); !api.IsForbidden(err) {
		t.Errorf("create without credit: %v", err)
	}

	e2 := setup(t, myqfake.Options{}, func(c *api.Config) { c.ClientID = "credit-only" })
	e2.fake.AddClient("credit-only", myqfake.DemoClientSecret, "credit")
	if _, err := e2.c.FindUserByCard(ctx(t), "0008844356"); !api.IsForbidden(err) {
		t.Errorf("find without users scope: %v", err)
	}
	if _, err := e2.c.Providers(ctx(t)); err != nil {
		t.Errorf("credit scope: %v", err)
	}
}

func TestBadCredentials(t *testing.T) {
	e := setup(t, myqfake.Options{}, func(c *api.Config) { c.ClientSecret = "wrong-secret-value" })
	_, err := e.c.FindUserByCard(ctx(t), "0008844356")
	if !api.IsAuth(err) || api.IsTransient(err) {
		t.Errorf("bad secret: %v", err)
	}
	if strings.Contains(err.Error(), "wrong-secret-value") || strings.Contains(e.log.String(), "wrong-secret-value") {
		t.Error("the secret appears in an error or the log")
	}
}

func TestTokenRefreshBeforeExpiry(t *testing.T) {
	e := setup(t, myqfake.Options{}, nil)
	var mu sync.Mutex
	now := time.Now()
	api.SetClock(e.c, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	for i := 0; i < 3; i++ {
		if _, err := e.c.FindUserByCard(ctx(t), "0008844356"); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.fake.Requests(myqfake.RouteToken); n != 1 {
		t.Fatalf("token requests = %d, want 1 (cached)", n)
	}
	advance(1800*time.Second - 61*time.Second)
	e.c.FindUserByCard(ctx(t), "0008844356")
	if n := e.fake.Requests(myqfake.RouteToken); n != 1 {
		t.Errorf("token requests = %d at 61 s before expiry, want 1", n)
	}
	advance(2 * time.Second) // now 59 s before expiry
	if _, err := e.c.FindUserByCard(ctx(t), "0008844356"); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.Requests(myqfake.RouteToken); n != 2 {
		t.Errorf("token requests = %d at 59 s before expiry, want 2 (refreshed)", n)
	}
	if n := e.fake.Requests(myqfake.RouteFindUser); n != 5 {
		t.Errorf("find requests = %d, want 5 (no 401 round trips)", n)
	}
}

func TestExpiredTokenReauthOnce(t *testing.T) {
	e := setup(t, myqfake.Options{}, nil)
	c := ctx(t)
	p, err := e.c.CreatePayment(c, 1176, "K-1", 200)
	if err != nil {
		t.Fatal(err)
	}
	e.fake.ExpireTokens()
	if _, err := e.c.CommitPayment(c, p.ID); err != nil {
		t.Fatalf("commit after token expiry: %v", err)
	}
	if tok, commits := e.fake.Requests(myqfake.RouteToken), e.fake.Requests(myqfake.RouteCommit); tok != 2 || commits != 2 {
		t.Errorf("token requests %d (want 2), commit requests %d (want 2: the 401 and the retry)", tok, commits)
	}
	if e.fake.Balance(1176) != 1450 {
		t.Errorf("balance %s", e.fake.Balance(1176))
	}

	// A 401 that survives re-authentication is returned, after exactly one retry.
	e.fake.FailNext(myqfake.RouteFindUser, 5, 401)
	_, err = e.c.FindUserByCard(c, "0008844356")
	if !api.IsAuth(err) {
		t.Errorf("persistent 401: %v", err)
	}
	if tok, finds := e.fake.Requests(myqfake.RouteToken), e.fake.Requests(myqfake.RouteFindUser); tok != 3 || finds != 2 {
		t.Errorf("token requests %d (want 3), find requests %d (want 2)", tok, finds)
	}
}

func TestConcurrentCallersShareOneTokenRequest(t *testing.T) {
	e := setup(t, myqfake.Options{}, nil)
	// Latency keeps the token request in flight while everyone piles in.
	e.fake.SetLatency(200 * time.Millisecond)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.c.FindUserByCard(ctx(t), "0008844356"); err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Errorf("%d callers failed", failed.Load())
	}
	if n := e.fake.Requests(myqfake.RouteToken); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
}

func TestCallerGivingUpDoesNotFailOthers(t *testing.T) {
	e := setup(t, myqfake.Options{}, nil)
	e.fake.SetLatency(300 * time.Millisecond)
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := e.c.FindUserByCard(ctx(t), "0008844356"); done <- err }()
	_, err := e.c.FindUserByCard(short, "0008844356")
	if !api.IsTransient(err) {
		t.Errorf("short deadline: %v, want transient", err)
	}
	if err := <-done; err != nil {
		t.Errorf("patient caller failed: %v", err)
	}
}

// TestFaults checks classification under each fault mode.
func TestFaults(t *testing.T) {
	cases := []struct {
		name      string
		inject    func(*myqfake.Server)
		transient bool
		status    int
	}{
		{"down", func(s *myqfake.Server) { s.SetDown(true) }, true, 503},
		{"refuse", func(s *myqfake.Server) { s.SetRefuse(true) }, true, 0},
		{"500", func(s *myqfake.Server) { s.FailNext(myqfake.RouteProviders, 1, 500) }, true, 500},
		{"502", func(s *myqfake.Server) { s.FailNext(myqfake.RouteProviders, 1, 502) }, true, 502},
		{"429", func(s *myqfake.Server) { s.FailNext(myqfake.RouteProviders, 1, 429) }, true, 429},
		{"400", func(s *myqfake.Server) { s.FailNext(myqfake.RouteProviders, 1, 400) }, false, 400},
		{"404", func(s *myqfake.Server) { s.FailNext(myqfake.RouteProviders, 1, 404) }, false, 404},
		{"slow", func(s *myqfake.Server) { s.SetLatency(3 * time.Second) }, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, myqfake.Options{}, func(c *api.Config) { c.Timeout = time.Second })
			if _, err := e.c.Token(ctx(t)); err != nil {
				t.Fatal(err)
			}
			tc.inject(e.fake)
			_, err := e.c.Providers(ctx(t))
			var ae *api.Error
			if err == nil || !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *api.Error", err)
			}
			if api.IsTransient(err) != tc.transient || api.IsPermanent(err) == tc.transient || ae.Status != tc.status {
				t.Errorf("err = %v: transient=%v permanent=%v status=%d; want transient=%v status=%d",
					err, api.IsTransient(err), api.IsPermanent(err), ae.Status, tc.transient, tc.status)
			}
			if ae.Op != "list providers" || !strings.Contains(err.Error(), "list providers") {
				t.Errorf("error does not name the operation: %v", err)
			}
			// The fault clears: the next call works.
			e.fake.SetDown(false)
			e.fake.SetRefuse(false)
			e.fake.SetLatency(0)
			if _, err := e.c.Providers(ctx(t)); err != nil {
				t.Errorf("after the fault: %v", err)
			}
		})
	}
}

// A GET whose answer is lost on a kept-alive connection is replayed by
// net/http once (GET is idempotent); POSTs are never replayed.
func TestDroppedGetReplayed(t *testing.T) {
	e := setup(t, myqfake.Options{}, nil)
	if _, err := e.c.Providers(ctx(t)); err != nil {
		t.Fatal(err)
	}
	e.fake.DropAnswer(myqfake.RouteProviders, 1)
	if _, err := e.c.Providers(ctx(t)); err != nil {
		t.Fatalf("dropped GET: %v", err)
	}
	if n := e.fake.Requests(myqfake.RouteProviders); n != 3 {
		t.Errorf("providers requests = %d, want 3", n)
	}
}

// TestLostAnswers: the change happened, the answer did not arrive.
func TestLostAnswers(t *testing.T) {
	e := setup(t, myqfake.Options{}, nil)
	c := ctx(t)
	e.fake.DropAnswer(myqfake.RouteCreate, 1)
	_, err := e.c.CreatePayment(c, 1176, "K-lost-create", 300)
	if !api.IsTransient(err) {
		t.Fatalf("lost create answer: %v, want transient", err)
	}
	list, err := e.c.ListPayments(c, 1176)
	if err != nil || len(list) != 1 || list[0].Description != "K-lost-create" || list[0].State != api.StateOpen {
		t.Fatalf("after lost create the payment exists: %+v, %v", list, err)
	}

	e.fake.DropAnswer(myqfake.RouteCommit, 1)
	_, err = e.c.CommitPayment(c, list[0].ID)
	if !api.IsTransient(err) {
		t.Fatalf("lost commit answer: %v, want transient", err)
	}
	if bal := e.fake.Balance(1176); bal != 1250+300 {
		t.Errorf("the commit was applied: balance %s", bal)
	}
	list, _ = e.c.ListPayments(c, 1176)
	if list[0].State != api.StateCommitted {
		t.Errorf("listed state %v after the lost commit", list[0].State)
	}
	if _, err := e.c.CommitPayment(c, list[0].ID); !api.IsInvalidState(err) {
		t.Errorf("repeating the commit: %v", err)
	}
	if err := e.fake.Check(); err != nil || len(e.fake.Ledger()) != 1 {
		t.Errorf("ledger %+v, %v", e.fake.Ledger(), err)
	}
}

func TestLedgerCheckCatchesDoubleDescription(t *testing.T) {
	e := setup(t, myqfake.Options{}, nil)
	c := ctx(t)
	for i := 0; i < 2; i++ {
		p, err := e.c.CreatePayment(c, 1177, "K-same", 100)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.CommitPayment(c, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.fake.Check(); err == nil || !strings.Contains(err.Error(), "K-same") {
		t.Errorf("Check = %v, want a double-description error", err)
	}
}

// TestRequestHeadersAndSecrets checks what goes on the wire and what never
// reaches the log.
func TestRequestHeadersAndSecrets(t *testing.T) {
	fake := myqfake.NewDemo(myqfake.Options{})
	var mu sync.Mutex
	var bad []string
	var bearer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if r.Header.Get("User-Agent") != "voucherkiosk/1.2.3" || r.Header.Get("Accept") != "application/json" {
			bad = append(bad, fmt.Sprintf("%s %s: UA %q Accept %q", r.Method, r.URL.Path, r.Header.Get("User-Agent"), r.Header.Get("Accept")))
		}
		if r.Method == http.MethodPost || r.Method == http.MethodPatch {
			if r.Header.Get("Content-Type") != "application/json" {
				bad = append(bad, r.URL.Path+": Content-Type "+r.Header.Get("Content-Type"))
			}
		}
		if h := r.Header.Get("Authorization"); h != "" {
			bearer = strings.TrimPrefix(h, "Bearer ")
		}
		mu.Unlock()
		fake.ServeHTTP(w, r)
	}))
	defer srv.Close()
	lb := &lockedBuffer{}
	c, err := api.New(api.Config{URL: srv.URL, ClientID: myqfake.DemoClientID, ClientSecret: myqfake.DemoClientSecret, Version: "1.2.3",
		Log: slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	cx := ctx(t)
	p, err := c.CreatePayment(cx, 1176, "K-h", 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CommitPayment(cx, p.ID); err != nil {
		t.Fatal(err)
	}
	q, _ := c.CreatePayment(cx, 1176, "K-h2", 100)
	c.UpdatePayment(cx, q.ID, "K-h2", 200)
	c.RollbackPayment(cx, q.ID)
	c.FindUserByUsername(cx, "jdoe")
	c.ListPayments(cx, 1176)
	mu.Lock()
	defer mu.Unlock()
	for _, b := range bad {
		t.Error(b)
	}
	if bearer == "" {
		t.Fatal("no bearer token seen")
	}
	if l := lb.String(); strings.Contains(l, bearer) || strings.Contains(l, myqfake.DemoClientSecret) {
		t.Errorf("log leaks the token or the secret:\n%s", l)
	}
}

func TestHugeResponseRefused(t *testing.T) {
	var written atomic.Int64
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { done <- struct{}{} }()
		w.Header().Set("Content-Type", "application/json")
		zeros := make([]byte, 32<<10)
		for written.Load() < 100<<20 {
			n, err := w.Write(zeros)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c, err := api.New(api.Config{URL: srv.URL, ClientID: "a", ClientSecret: "b"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	_, err = c.Token(ctx(t))
	if !errors.Is(err, api.ErrResponseTooLarge) {
		t.Fatalf("err = %v, want ErrResponseTooLarge", err)
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("server handler still writing: the client kept reading")
	}
	if w := written.Load(); w > 16<<20 {
		t.Errorf("server wrote %d bytes before the client hung up; want far less than 100 MiB", w)
	}
	t.Logf("server wrote %d KiB before the client hung up", written.Load()>>10)
}

func TestMalformedBodies(t *testing.T) {
	bodies := map[string]string{
		"not json":        `<html>oops</html>`,
		"truncated":       `{"users":[{"id":11`,
		"no users":        `{"count":0}`,
		"user without id": `{"users":[{"username":"x"}]}`,
		"negative id":     `{"users":[{"id":-3}]}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/api/auth/token" {
					io.WriteString(w, `{"access_token":"t","token_type":"Bearer","expires_in":1800,"scope":"credit users"}`)
					return
				}
				io.WriteString(w, body)
			}))
			defer srv.Close()
			c, _ := api.New(api.Config{URL: srv.URL, ClientID: "a", ClientSecret: "b"})
			defer c.CloseIdleConnections()
			_, err := c.FindUserByCard(ctx(t), "12345678")
			if !errors.Is(err, api.ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	badCA := filepath.Join(dir, "bad.pem")
	os.WriteFile(badCA, []byte("not a certificate"), 0o644)
	cases := []struct {
		name string
		cfg  api.Config
		ok   bool
	}{
		{"https", api.Config{URL: "https://myq.example.edu:8090", ClientID: "a", ClientSecret: "b"}, true},
		{"http loopback v4", api.Config{URL: "http://127.0.0.1:8090", ClientID: "a", ClientSecret: "b"}, true},
		{"http loopback v4 other", api.Config{URL: "http://127.8.9.1:8090", ClientID: "a", ClientSecret: "b"}, true},
		{"http loopback v6", api.Config{URL: "http://[::1]:8090", ClientID: "a", ClientSecret: "b"}, true},
		{"http localhost", api.Config{URL: "http://localhost:8090", ClientID: "a", ClientSecret: "b"}, true},
		{"http remote", api.Config{URL: "http://myq.example.edu:8090", ClientID: "a", ClientSecret: "b"}, false},
		{"http lan ip", api.Config{URL: "http://10.0.0.5:8090", ClientID: "a", ClientSecret: "b"}, false},
		{"ftp", api.Config{URL: "ftp://myq", ClientID: "a", ClientSecret: "b"}, false},
		{"no host", api.Config{URL: "https://", ClientID: "a", ClientSecret: "b"}, false},
		{"no id", api.Config{URL: "https://myq", ClientSecret: "b"}, false},
		{"no secret", api.Config{URL: "https://myq", ClientID: "a"}, false},
		{"missing ca", api.Config{URL: "https://myq", ClientID: "a", ClientSecret: "b", CAFile: filepath.Join(dir, "none.pem")}, false},
		{"bad ca", api.Config{URL: "https://myq", ClientID: "a", ClientSecret: "b", CAFile: badCA}, false},
		{"negative timeout", api.Config{URL: "https://myq", ClientID: "a", ClientSecret: "b", Timeout: -1}, false},
		{"provider with slash", api.Config{URL: "https://myq", ClientID: "a", ClientSecret: "b", Provider: "a/b"}, false},
	}
	for _, c := range cases {
		cl, err := api.New(c.cfg)
		if (err == nil) != c.ok {
			t.Errorf("%s: New = %v, want ok=%v", c.name, err, c.ok)
		}
		if err != nil && !errors.Is(err, api.ErrConfig) {
			t.Errorf("%s: %v does not wrap ErrConfig", c.name, err)
		}
		if err != nil && strings.Contains(err.Error(), "b") && c.cfg.ClientSecret == "supersecret" {
			t.Errorf("secret in error")
		}
		if cl != nil {
			cl.CloseIdleConnections()
		}
	}
}
