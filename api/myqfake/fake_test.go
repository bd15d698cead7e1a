package myqfake

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type raw struct {
	t   *testing.T
	url string
	hc  *http.Client
}

func start(t *testing.T, useTLS bool) (*Server, *raw) {
	t.Helper()
	s := NewDemo(Options{})
	r, err := s.Start(useTLS)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	if useTLS {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(r.CAPEM)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, &raw{t, r.URL, &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// do sends a request; ct "" sends no Content-Type.
func (r *raw) do(method, path, ct, body, bearer string) (int, map[string]any) {
	r.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, r.url+path, rd)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func (r *raw) token(scope string) string {
	st, m := r.do("POST", "/api/auth/token", "application/json",
		`{"grant_type":"client_credentials","scope":"`+scope+`","client_id":"`+DemoClientID+`","client_secret":"`+DemoClientSecret+`"}`, "")
	if st != 200 {
		r.t.Fatalf("token: %d %v", st, m)
	}
	if m["token_type"] != "Bearer" || m["expires_in"].(float64) != 1800 || m["scope"] != scope {
		r.t.Errorf("token answer %v", m)
	}
	return m["access_token"].(string)
}

func TestStrictness(t *testing.T) {
	s, r := start(t, true)
	tok := r.token("credit users")
	pay := "/api/v3/rechargeProviders/external/payments"
	cases := []struct {
		name                   string
		method, path, ct, body string
		bearer                 string
		want                   int
	}{
		{"no token", "GET", "/api/v3/rechargeProviders", "", "", "", 401},
		{"bad token", "GET", "/api/v3/rechargeProviders", "", "", "nope", 401},
		{"providers", "GET", "/api/v3/rechargeProviders", "", "", tok, 200},
		{"token form-encoded", "POST", "/api/auth/token", "application/x-www-form-urlencoded", "grant_type=client_credentials", "", 415},
		{"token no content type", "POST", "/api/auth/token", "", `{"grant_type":"client_credentials"}`, "", 415},
		{"token bad grant", "POST", "/api/auth/token", "application/json", `{"grant_type":"password","client_id":"kiosk-demo","client_secret":"x"}`, "", 400},
		{"token bad secret", "POST", "/api/auth/token", "application/json", `{"grant_type":"client_credentials","client_id":"kiosk-demo","client_secret":"x"}`, "", 401},
		{"create no content type", "POST", pay, "", `{"userId":1176,"params":{"amount":13}}`, tok, 415},
		{"create text/plain", "POST", pay, "text/plain", `{"userId":1176,"params":{"amount":13}}`, tok, 415},
		{"create malformed", "POST", pay, "application/json", `{"userId":1176,`, tok, 400},
		{"create no params", "POST", pay, "application/json", `{"userId":1176}`, tok, 400},
		{"create zero", "POST", pay, "application/json", `{"userId":1176,"params":{"amount":0}}`, tok, 400},
		{"create negative", "POST", pay, "application/json", `{"userId":1176,"params":{"amount":-1}}`, tok, 400},
		{"create 3 decimals", "POST", pay, "application/json", `{"userId":1176,"params":{"amount":1.234}}`, tok, 400},
		{"create exponent", "POST", pay, "application/json", `{"userId":1176,"params":{"amount":1e2}}`, tok, 400},
		{"create string amount", "POST", pay, "application/json", `{"userId":1176,"params":{"amount":"13"}}`, tok, 400},
		{"create unknown user", "POST", pay, "application/json", `{"userId":5,"params":{"amount":13}}`, tok, 404},
		{"create charset ok", "POST", pay, "application/json; charset=utf-8", `{"userId":1176,"description":"d","params":{"amount":13.5}}`, tok, 200},
		{"unknown provider", "POST", "/api/v3/rechargeProviders/paypal/payments", "application/json", `{"userId":1176,"params":{"amount":13}}`, tok, 404},
		{"commit unknown", "POST", pay + "/1/commit", "", "", tok, 404},
		{"commit with text body", "POST", pay + "/12532/commit", "text/plain", "x", tok, 415},
		{"update unknown", "PATCH", pay + "/1", "application/json", `{"description":"x"}`, tok, 404},
		{"list without user", "GET", pay, "", "", tok, 400},
		{"unknown route", "GET", "/api/v3/nothing", "", "", tok, 404},
		{"no api prefix", "GET", "/v3/rechargeProviders", "", "", tok, 404},
		{"find without filter", "GET", "/api/v3/users/find", "", "", tok, 400},
		{"accounts unknown user", "GET", "/api/v3/users/5/accounts", "", "", tok, 404},
		{"balance", "GET", "/api/v3/users/1176/accounts/internalaccount/balance", "", "", tok, 200},
		{"balance unknown account", "GET", "/api/v3/users/1176/accounts/other/balance", "", "", tok, 404},
		{"balance unknown user", "GET", "/api/v3/users/5/accounts/internalaccount/balance", "", "", tok, 404},
		{"list bad limit", "GET", pay + "?userId=1176&limit=0", "", "", tok, 400},
		{"list bad start", "GET", pay + "?userId=1176&start=-1", "", "", tok, 400},
		{"find bad limit", "GET", "/api/v3/users/find?card=1&limit=x", "", "", tok, 400},
		{"commit created", "POST", pay + "/12532/commit", "", "", tok, 200},
		{"commit twice", "POST", pay + "/12532/commit", "application/json", "", tok, 400},
	}
	for _, c := range cases {
		st, m := r.do(c.method, c.path, c.ct, c.body, c.bearer)
		if st != c.want {
			t.Errorf("%s: status %d, want %d (%v)", c.name, st, c.want, m)
		}
		if st >= 400 && m["message"] == nil && m["error"] == nil {
			t.Errorf("%s: error answer without a message: %v", c.name, m)
		}
	}
	if s.Balance(1176) != 1250+1350 {
		t.Errorf("balance %s", s.Balance(1176))
	}
	if err := s.Check(); err != nil {
		t.Error(err)
	}
}

func TestScopeAndExpiry(t *testing.T) {
	s := New(Options{TokenLifetime: time.Second})
	s.AddClient("c", "s", "users")
	s.AddUser(DemoUsers()[0])
	run, err := s.Start(false)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	r := &raw{t, run.URL, &http.Client{Timeout: 10 * time.Second}}
	defer r.hc.CloseIdleConnections()
	st, m := r.do("POST", "/api/auth/token", "application/json", `{"grant_type":"client_credentials","scope":"credit users","client_id":"c","client_secret":"s"}`, "")
	if st != 200 || m["scope"] != "users" || m["expires_in"].(float64) != 1 {
		t.Fatalf("token %d %v", st, m)
	}
	tok := m["access_token"].(string)
	if st, _ := r.do("GET", "/api/v3/users/find?card=0008844356", "", "", tok); st != 200 {
		t.Errorf("users scope: %d", st)
	}
	if st, _ := r.do("GET", "/api/v3/rechargeProviders", "", "", tok); st != 403 {
		t.Errorf("no credit scope: %d, want 403", st)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := r.do("GET", "/api/v3/users/find?card=0008844356", "", "", tok)
		if st == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("token never expired")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestRefuseAndCloseWithRequestsInFlight(t *testing.T) {
	s, r := start(t, false)
	s.SetRefuse(true)
	req, _ := http.NewRequest("GET", r.url+"/api/v3/rechargeProviders", nil)
	if resp, err := r.hc.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("a refusing server answered")
	}
	s.SetRefuse(false)
	if st, _ := r.do("GET", "/api/v3/rechargeProviders", "", "", ""); st != 401 {
		t.Errorf("after refuse: %d", st)
	}

	// Close ends a request held by latency, promptly and without leaks.
	s2 := NewDemo(Options{})
	run, err := s2.Start(true)
	if err != nil {
		t.Fatal(err)
	}
	s2.SetLatency(time.Hour)
	done := make(chan struct{})
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", run.URL+"/api/v3/rechargeProviders", nil)
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	for s2.Requests(RouteProviders) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	if err := run.Close(); err != nil {
		t.Error(err)
	}
	<-done
	hc.CloseIdleConnections()
}

func TestRouteStrings(t *testing.T) {
	seen := map[string]bool{}
	for r := RouteUnknown; r < numRoutes; r++ {
		n := r.String()
		if seen[n] || strings.HasPrefix(n, "Route(") {
			t.Errorf("route %d name %q", r, n)
		}
		seen[n] = true
	}
	if Route(99).String() != "Route(99)" {
		t.Error(Route(99).String())
	}
}

func TestDemoUsers(t *testing.T) {
	ids, cards, names := map[int64]bool{}, map[string]bool{}, map[string]bool{}
	for _, u := range DemoUsers() {
		if ids[u.ID] || names[u.Username] {
			t.Errorf("duplicate user %+v", u)
		}
		ids[u.ID], names[u.Username] = true, true
		for _, c := range u.Cards {
			if cards[c] || len(c) != 10 {
				t.Errorf("card %q duplicate or not 10 digits", c)
			}
			cards[c] = true
		}
	}
}

// Pages, the isActive filter and include=accounts as MyQ documents them.
func TestFindPagesFiltersIncludes(t *testing.T) {
	s, r := start(t, false)
	tok := r.token("credit users")
	for i := range 5 {
		s.AddUser(User{ID: int64(500 + i), Username: "shared" + strconv.Itoa(i), Cards: []string{"55"}, Inactive: i == 4})
	}
	st, m := r.do("GET", "/api/v3/users/find?card=55&limit=2&start=2", "", "", tok)
	if st != 200 || m["count"].(float64) != 4 || len(m["users"].([]any)) != 2 {
		t.Errorf("page 2 of active users: %d %v", st, m)
	}
	if st, m := r.do("GET", "/api/v3/users/find?card=55&start=3", "", "", tok); st != 200 || len(m["users"].([]any)) != 1 {
		t.Errorf("last page: %d %v", st, m)
	}
	s.SetPageSize(1)
	if _, m := r.do("GET", "/api/v3/users/find?card=55", "", "", tok); len(m["users"].([]any)) != 1 || m["count"].(float64) != 4 {
		t.Errorf("capped page: %v", m)
	}
	s.SetPageSize(0)
	_, m = r.do("GET", "/api/v3/users/find?card=55&isActive=0", "", "", tok)
	if us := m["users"].([]any); len(us) != 1 || us[0].(map[string]any)["id"].(float64) != 504 || us[0].(map[string]any)["isActive"] != false {
		t.Errorf("inactive only: %v", m)
	}
	_, m = r.do("GET", "/api/v3/users/find?card=0008844356&include=accounts", "", "", tok)
	acc := m["users"].([]any)[0].(map[string]any)["accounts"].([]any)[0].(map[string]any)
	if acc["reference"] != "internalaccount" || acc["limits"].(map[string]any)["price"].(float64) != 12.5 {
		t.Errorf("include=accounts: %v", m)
	}
	s.SetInclude(IncludeEmpties)
	if _, m := r.do("GET", "/api/v3/users/find?card=0008844356&include=accounts", "", "", tok); m["count"].(float64) != 0 {
		t.Errorf("include as an unsupported filter: %v", m)
	}
	s.SetInclude(IncludeIgnored)
	_, m = r.do("GET", "/api/v3/users/find?card=0008844356&include=accounts", "", "", tok)
	if _, has := m["users"].([]any)[0].(map[string]any)["accounts"]; has {
		t.Errorf("include ignored, accounts sent: %v", m)
	}
	s.SetActiveFilter(false)
	if _, m := r.do("GET", "/api/v3/users/find?card=55", "", "", tok); m["count"].(float64) != 5 {
		t.Errorf("without the isActive filter: %v", m)
	}
}
