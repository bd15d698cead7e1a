// Package myqfake is an in-memory MyQ X server for tests, demos and
// rehearsals. It speaks the REST API the kiosk uses as strictly as the real
// one is known to (bearer tokens with scopes, 415 without a JSON content
// type, 400 for malformed JSON or amounts, 404 for unknown ids, the "current
// state" refusals), injects faults while running (down, refused connections,
// latency, failures and answers lost after the change was applied, expired
// tokens), pages listings (limit, start, count), filters users by isActive
// and answers include=accounts, redeems voucher batches (v2 and a v3
// provider), switches every behaviour the reference marks UNCERTAIN, and
// keeps a ledger of commits that proves each payment, each description and
// each voucher code moved money at most once.
// See docs/ARCHITECTURE.md for its place among the packages.
package myqfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/printroom/voucherkiosk/api"
)

// Route names one API endpoint, for fault injection and request counters.
type Route int

const (
	RouteUnknown Route = iota
	RouteToken
	RouteFindUser
	RouteAccounts
	RouteProviders
	RouteCreate
	RouteCommit
	RouteRollback
	RouteList
	RouteUpdate
	RouteBalance
	RouteVoucherCreate // v2: POST /v2/payments/voucher
	RouteVoucherCommit // v2: POST /v2/payments/voucher/{id}/commit
	numRoutes
)

func (r Route) String() string {
	switch r {
	case RouteUnknown:
		return "unknown"
	case RouteToken:
		return "token"
	case RouteFindUser:
		return "find-user"
	case RouteAccounts:
		return "accounts"
	case RouteProviders:
		return "providers"
	case RouteCreate:
		return "create"
	case RouteCommit:
		return "commit"
	case RouteRollback:
		return "rollback"
	case RouteList:
		return "list"
	case RouteUpdate:
		return "update"
	case RouteBalance:
		return "balance"
	case RouteVoucherCreate:
		return "voucher-create"
	case RouteVoucherCommit:
		return "voucher-commit"
	}
	return "Route(" + strconv.Itoa(int(r)) + ")"
}

// User is a MyQ user held by the fake.
type User struct {
	ID       int64
	Username string
	FullName string
	Email    string
	Cards    []string
	Balance  api.Money
	// Inactive: the account is not active (MyQ's isActive=0); /users/find
	// leaves it out unless asked with isActive=0.
	Inactive bool
}

// Commit is one ledger entry: money a commit moved.
type Commit struct {
	PaymentID   string
	UserID      int64
	Amount      api.Money
	Description string
	Voucher     string // the voucher code it redeemed; "" for cash
	At          time.Time
}

// Options configure a Server.
type Options struct {
	// TokenLifetime is the expires_in of issued tokens; default 1800 s.
	TokenLifetime time.Duration
	// Addr is where Start listens; default 127.0.0.1:0.
	Addr string
	// Log receives one line per request at debug level; nil discards.
	Log *slog.Logger

	// Capacity is how many requests the fake serves in one second of
	// Clock; the ones above it get 503 with a Retry-After, as an
	// overloaded server (or its proxy) answers. 0: no limit. With a
	// capacity the fake also counts the requests of every second (Load).
	Capacity int
	// RetryAfter is the Retry-After of those 503s, whole seconds; 0: 1 s.
	RetryAfter time.Duration
	// Clock is the time Capacity is measured in; nil: time.Now. A
	// simulation passes its virtual clock.
	Clock func() time.Time
}

type clientCred struct {
	secret string
	scopes map[string]bool
}

type token struct {
	client  string
	scopes  map[string]bool
	expires time.Time
}

type payment struct {
	id          string
	userID      int64
	amount      api.Money
	description string
	state       int    // 0 created, 1 committed, 2 rolled back
	provider    string // "external", "voucher" (v3) or "v2voucher"
	voucher     string // code, for voucher payments
	created     time.Time
	updated     time.Time
}

const (
	stCreated = iota
	stCommitted
	stRolledBack
)

type fault struct {
	fail, failStatus int
	drop             int
}

// Server is the fake MyQ. All methods are safe for concurrent use, also
// while it serves.
type Server struct {
	opt Options
	log *slog.Logger
	// holds: routes whose requests wait until released (Hold).
	holds map[Route]chan struct{}

	mu        sync.Mutex
	clients   map[string]clientCred
	tokens    map[string]token
	users     map[int64]*User
	payments  map[string]*payment
	order     []string // payment ids in creation order
	nextID    int64
	ledger    []Commit
	enabled   bool
	down      bool
	refuse    bool
	latency   time.Duration
	faults    [numRoutes]fault
	requests  [numRoutes]int
	descInLst bool
	idNumber  bool
	accounts  bool
	words     [3]string
	pageMax   int // largest page the listings answer (MyQ: limit default 100)
	include   IncludeMode
	balanceEP bool
	activeFlt bool
	vouchers  map[string]*voucher
	v3Param   string // the v3 voucher provider's code parameter; "" no v3 provider

	runMu   sync.Mutex
	running map[*Running]struct{}

	load       map[int64]int // requests per second of Clock (Capacity > 0)
	overloaded int           // requests answered 503 for Capacity
}

var _ http.Handler = (*Server)(nil)

// New returns an empty fake: no clients, no users, External Payment
// Providers enabled, every UNCERTAIN switch at its documented reading
// (descriptions kept in listings, string ids, accounts endpoint present,
// states created/committed/rolledback).
func New(o Options) *Server {
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = 1800 * time.Second
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = time.Second
	}
	l := o.Log
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &Server{
		opt: o, log: l,
		clients:   map[string]clientCred{},
		tokens:    map[string]token{},
		users:     map[int64]*User{},
		payments:  map[string]*payment{},
		nextID:    12532,
		enabled:   true,
		descInLst: true,
		accounts:  true,
		words:     [3]string{"created", "committed", "rolledback"},
		pageMax:   DefaultLimit,
		balanceEP: true,
		activeFlt: true,
		vouchers:  map[string]*voucher{},
		v3Param:   DefaultVoucherParam,
		running:   map[*Running]struct{}{},
		load:      map[int64]int{},
	}
}

// Load is the requests that arrived in each second of Options.Clock (Unix
// seconds), served or not; empty without a Capacity.
func (s *Server) Load() map[int64]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.load)
}

// Overloaded counts the requests answered 503 because a second had more
// than Options.Capacity.
func (s *Server) Overloaded() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.overloaded
}

// overCapacity counts a request in its second (a down server sees it too)
// and reports whether it is one too many for a server that is up. Called
// with mu held.
func (s *Server) overCapacity(down bool) bool {
	if s.opt.Capacity <= 0 {
		return false
	}
	sec := s.opt.Clock().Unix()
	s.load[sec]++
	if !down && s.load[sec] > s.opt.Capacity {
		s.overloaded++
		return true
	}
	return false
}

// AddClient registers a REST API application with space-separated scopes.
func (s *Server) AddClient(id, secret, scope string) {
	sc := map[string]bool{}
	for _, f := range strings.Fields(scope) {
		sc[f] = true
	}
	s.mu.Lock()
	s.clients[id] = clientCred{secret: secret, scopes: sc}
	s.mu.Unlock()
}

// AddUser adds or replaces a user.
func (s *Server) AddUser(u User) {
	u.Cards = append([]string(nil), u.Cards...)
	s.mu.Lock()
	s.users[u.ID] = &u
	s.mu.Unlock()
}

// DeleteUser removes a user (their payments stay).
func (s *Server) DeleteUser(id int64) {
	s.mu.Lock()
	delete(s.users, id)
	s.mu.Unlock()
}

// SetProviderEnabled switches External Payment Providers on or off.
func (s *Server) SetProviderEnabled(on bool) { s.mu.Lock(); s.enabled = on; s.mu.Unlock() }

// SetDown makes every request answer 503.
func (s *Server) SetDown(on bool) { s.mu.Lock(); s.down = on; s.mu.Unlock() }

// SetRefuse makes the server close every connection as soon as it is
// accepted (and closes the open ones): the client sees a dropped connection.
func (s *Server) SetRefuse(on bool) {
	s.mu.Lock()
	s.refuse = on
	s.mu.Unlock()
	if on {
		s.runMu.Lock()
		for r := range s.running {
			r.closeConns()
		}
		s.runMu.Unlock()
	}
}

// SetLatency delays every answer by d.
func (s *Server) SetLatency(d time.Duration) { s.mu.Lock(); s.latency = d; s.mu.Unlock() }

// Hold makes requests on route wait, before anything is done, until
// release is called (or the client gives up): a test orders what the kiosk
// does while MyQ has not answered yet, without a latency standing in for
// that signal.
func (s *Server) Hold(r Route) (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	if s.holds == nil {
		s.holds = map[Route]chan struct{}{}
	}
	s.holds[r] = ch
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.holds[r] == ch {
				delete(s.holds, r)
			}
			s.mu.Unlock()
			close(ch)
		})
	}
}

// FailNext makes the next n requests on route answer status with a MyQ
// error body, without doing anything.
func (s *Server) FailNext(r Route, n int, status int) {
	s.mu.Lock()
	s.faults[r].fail, s.faults[r].failStatus = n, status
	s.mu.Unlock()
}

// DropAnswer makes the next n requests on route apply their change and then
// drop the connection without answering: the client cannot know whether the
// create or commit happened.
func (s *Server) DropAnswer(r Route, n int) { s.mu.Lock(); s.faults[r].drop = n; s.mu.Unlock() }

// ExpireTokens invalidates every issued token (the next call gets 401).
func (s *Server) ExpireTokens() { s.mu.Lock(); clear(s.tokens); s.mu.Unlock() }

// SetDescriptionInList drops (false) or keeps (true) descriptions in listings.
func (s *Server) SetDescriptionInList(on bool) { s.mu.Lock(); s.descInLst = on; s.mu.Unlock() }

// SetIDAsNumber sends payment ids as JSON numbers (true) or strings (false).
func (s *Server) SetIDAsNumber(on bool) { s.mu.Lock(); s.idNumber = on; s.mu.Unlock() }

// SetAccountsEndpoint removes (false, 404) or restores the accounts endpoint.
func (s *Server) SetAccountsEndpoint(on bool) { s.mu.Lock(); s.accounts = on; s.mu.Unlock() }

// SetStateWords sets the state words listings use.
func (s *Server) SetStateWords(created, committed, rolledback string) {
	s.mu.Lock()
	s.words = [3]string{created, committed, rolledback}
	s.mu.Unlock()
}

// IncludeMode is how /users/find treats include=accounts (UNCERTAIN: which
// MyQ versions have it, and what an older one does with it).
type IncludeMode int

const (
	// IncludeAccounts: documented; each user carries "accounts", shaped as
	// the entries of /users/{id}/accounts.
	IncludeAccounts IncludeMode = iota
	// IncludeIgnored: the parameter is ignored; users come without accounts.
	IncludeIgnored
	// IncludeEmpties: "Incorrect or unsupported filter will return empty
	// result": a lookup with include finds nobody.
	IncludeEmpties
)

// SetInclude switches how include=accounts is treated.
func (s *Server) SetInclude(m IncludeMode) { s.mu.Lock(); s.include = m; s.mu.Unlock() }

// SetBalanceEndpoint removes (false, 404) or restores the documented
// /users/{id}/accounts/{reference}/balance.
func (s *Server) SetBalanceEndpoint(on bool) { s.mu.Lock(); s.balanceEP = on; s.mu.Unlock() }

// SetActiveFilter switches the documented isActive filter (default 1: an
// inactive user is not found) off: every user is found, each with its
// isActive field (an older MyQ, UNCERTAIN).
func (s *Server) SetActiveFilter(on bool) { s.mu.Lock(); s.activeFlt = on; s.mu.Unlock() }

// DefaultLimit is MyQ's documented default page size of a listing.
const DefaultLimit = 100

// SetPageSize caps every listing page at n items (n < 1: DefaultLimit),
// whatever limit the client asks for: paging then shows with few items.
func (s *Server) SetPageSize(n int) {
	if n < 1 {
		n = DefaultLimit
	}
	s.mu.Lock()
	s.pageMax = n
	s.mu.Unlock()
}

// pageOf cuts one page out of a listing by the documented limit (default
// 100) and start; count stays the total. Called with s.mu held.
func (s *Server) pageOf(q map[string][]string, all []any) ([]any, answer, bool) {
	limit, start := DefaultLimit, 0
	if v := first(q, "limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, errAnswer(http.StatusBadRequest, "Invalid limit: "+clip(v)), false
		}
		limit = n
	}
	if v := first(q, "start"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, errAnswer(http.StatusBadRequest, "Invalid start: "+clip(v)), false
		}
		start = n
	}
	limit = min(limit, s.pageMax)
	if start >= len(all) {
		return []any{}, answer{}, true
	}
	return all[start:min(len(all), start+limit)], answer{}, true
}

func first(q map[string][]string, k string) string {
	if v := q[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Ledger returns every commit in order.
func (s *Server) Ledger() []Commit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Commit(nil), s.ledger...)
}

// Check verifies the ledger: no payment committed twice and no non-empty
// description (the kiosk's transaction reference) committed twice.
func (s *Server) Check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := map[string]int{}
	descs := map[string]int{}
	codes := map[string]int{}
	var errs []error
	for i, c := range s.ledger {
		if c.Voucher != "" {
			if j, dup := codes[c.Voucher]; dup {
				errs = append(errs, fmt.Errorf("myqfake: voucher %s redeemed twice (payments %s and %s)", c.Voucher, s.ledger[j].PaymentID, c.PaymentID))
			}
			codes[c.Voucher] = i
		}
		if j, dup := ids[c.PaymentID]; dup {
			errs = append(errs, fmt.Errorf("myqfake: payment %s committed twice (ledger %d and %d)", c.PaymentID, j, i))
		}
		ids[c.PaymentID] = i
		if c.Description == "" {
			continue
		}
		if j, dup := descs[c.Description]; dup {
			errs = append(errs, fmt.Errorf("myqfake: description %q committed twice (payments %s and %s)", c.Description, s.ledger[j].PaymentID, c.PaymentID))
		}
		descs[c.Description] = i
	}
	return errors.Join(errs...)
}

// Totals is the committed amount per user.
func (s *Server) Totals() map[int64]api.Money {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := map[int64]api.Money{}
	for _, c := range s.ledger {
		t[c.UserID] += c.Amount
	}
	return t
}

// Balance is the user's current balance (0 for an unknown user).
func (s *Server) Balance(userID int64) api.Money {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[userID]; ok {
		return u.Balance
	}
	return 0
}

// Requests counts the requests that reached route (faulted ones included).
func (s *Server) Requests(r Route) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r < 0 || r >= numRoutes {
		return 0
	}
	return s.requests[r]
}

// ResetRequests zeroes the request counters.
func (s *Server) ResetRequests() { s.mu.Lock(); s.requests = [numRoutes]int{}; s.mu.Unlock() }

// answer is what a handler decided: a status and a JSON body (nil: empty).
type answer struct {
	status int
	body   any
}

func errAnswer(status int, msg string) answer {
	return answer{status, map[string]any{"code": status, "message": msg, "data": []any{}}}
}

const msgInvalidState = "Invalid operation: The operation cannot be performed in the current state."

// route finds the endpoint; for payment routes it returns the provider and id.
func route(method, path string) (r Route, provider, id string, userID string) {
	p := strings.Split(strings.Trim(path, "/"), "/")
	if len(p) < 2 || p[0] != "api" {
		return RouteUnknown, "", "", ""
	}
	switch {
	case method == http.MethodPost && len(p) == 3 && p[1] == "auth" && p[2] == "token":
		return RouteToken, "", "", ""
	case len(p) >= 4 && p[1] == "v2" && p[2] == "payments" && p[3] == "voucher":
		switch {
		case method == http.MethodPost && len(p) == 4:
			return RouteVoucherCreate, "", "", ""
		case method == http.MethodPost && len(p) == 6 && p[5] == "commit":
			return RouteVoucherCommit, "", p[4], ""
		}
		return RouteUnknown, "", "", ""
	case len(p) < 3 || p[1] != "v3":
		return RouteUnknown, "", "", ""
	case method == http.MethodGet && len(p) == 4 && p[2] == "users" && p[3] == "find":
		return RouteFindUser, "", "", ""
	case method == http.MethodGet && len(p) == 5 && p[2] == "users" && p[4] == "accounts":
		return RouteAccounts, "", "", p[3]
	case method == http.MethodGet && len(p) == 7 && p[2] == "users" && p[4] == "accounts" && p[6] == "balance":
		return RouteBalance, "", p[5], p[3]
	case p[2] != "rechargeProviders":
		return RouteUnknown, "", "", ""
	case method == http.MethodGet && len(p) == 3:
		return RouteProviders, "", "", ""
	case len(p) < 5 || p[4] != "payments":
		return RouteUnknown, "", "", ""
	case method == http.MethodPost && len(p) == 5:
		return RouteCreate, p[3], "", ""
	case method == http.MethodGet && len(p) == 5:
		return RouteList, p[3], "", ""
	case method == http.MethodPatch && len(p) == 6:
		return RouteUpdate, p[3], p[5], ""
	case method == http.MethodPost && len(p) == 7 && p[6] == "commit":
		return RouteCommit, p[3], p[5], ""
	case method == http.MethodPost && len(p) == 7 && p[6] == "rollback":
		return RouteRollback, p[3], p[5], ""
	}
	return RouteUnknown, "", "", ""
}

// ServeHTTP serves the API with the current faults.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, provider, id, uid := route(r.Method, r.URL.Path)
	s.mu.Lock()
	s.requests[rt]++
	refuse, down, latency, hold := s.refuse, s.down, s.latency, s.holds[rt]
	over := !refuse && s.overCapacity(down)
	f := &s.faults[rt]
	failStatus := 0
	if !refuse && !down && f.fail > 0 {
		f.fail--
		failStatus = f.failStatus
	}
	drop := false
	if !refuse && !down && failStatus == 0 && f.drop > 0 {
		f.drop--
		drop = true
	}
	s.mu.Unlock()

	if refuse {
		hangUp(w)
		return
	}
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	var a answer
	switch {
	case down:
		a = errAnswer(http.StatusServiceUnavailable, "Service Unavailable")
	case over:
		w.Header().Set("Retry-After", strconv.Itoa(int((s.opt.RetryAfter+time.Second-1)/time.Second)))
		a = errAnswer(http.StatusServiceUnavailable, "Service Unavailable: over capacity")
	case failStatus != 0:
		a = errAnswer(failStatus, "injected failure")
	default:
		a = s.serve(r, rt, provider, id, uid)
	}
	s.log.Debug("myqfake", "method", r.Method, "path", r.URL.Path, "route", rt, "status", a.status, "dropped", drop)
	if drop {
		hangUp(w)
		return
	}
	writeJSON(w, a)
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: aborts the stream
	}
	c, _, err := hj.Hijack()
	if err == nil {
		c.Close()
	}
}

func writeJSON(w http.ResponseWriter, a answer) {
	if a.body == nil {
		w.WriteHeader(a.status)
		return
	}
	b, err := json.Marshal(a.body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(a.status)
	w.Write(b)
}

const maxRequestBody = 64 << 10

// readJSON enforces MyQ's content rules and decodes the body into v.
func readJSON(r *http.Request, v any) (ok bool, a answer) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return false, errAnswer(http.StatusBadRequest, "cannot read the request body")
	}
	if len(b) > maxRequestBody {
		return false, errAnswer(http.StatusRequestEntityTooLarge, "request body too large")
	}
	if !isJSON(r) {
		return false, errAnswer(http.StatusUnsupportedMediaType, "Unsupported Media Type: use Content-Type: application/json")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, errAnswer(http.StatusBadRequest, "Malformed JSON: "+err.Error())
	}
	return true, answer{}
}

// bodyNeedsJSON is the 415 rule for requests that take no body: a body
// without the JSON content type is refused.
func bodyNeedsJSON(r *http.Request) (answer, bool) {
	b, _ := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if len(b) > 0 && !isJSON(r) {
		return errAnswer(http.StatusUnsupportedMediaType, "Unsupported Media Type: use Content-Type: application/json"), false
	}
	return answer{}, true
}

func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

func (s *Server) serve(r *http.Request, rt Route, provider, id, uid string) answer {
	if rt == RouteUnknown {
		return errAnswer(http.StatusNotFound, "Not Found")
	}
	if rt == RouteToken {
		return s.issueToken(r)
	}
	need := "credit"
	if rt == RouteFindUser || rt == RouteAccounts {
		need = "users"
	}
	if a, ok := s.authorize(r, need); !ok {
		return a
	}
	s.mu.Lock()
	v3 := s.v3Param != ""
	s.mu.Unlock()
	if provider != "" && provider != "external" && (provider != VoucherProvider || !v3) {
		return errAnswer(http.StatusNotFound, "Recharge provider not found")
	}
	switch rt {
	case RouteFindUser:
		return s.findUser(r)
	case RouteAccounts:
		return s.userAccounts(uid)
	case RouteBalance:
		return s.userBalance(uid, id)
	case RouteProviders:
		s.mu.Lock()
		on := s.enabled
		s.mu.Unlock()
		ps := []any{map[string]any{
			"name": "External Payment Providers", "reference": "external", "description": "", "params": []any{}, "enabled": on,
		}}
		s.mu.Lock()
		if s.v3Param != "" {
			ps = append(ps, map[string]any{"name": "Voucher", "reference": VoucherProvider, "description": "", "params": []any{s.v3Param}})
		}
		s.mu.Unlock()
		return answer{200, map[string]any{"providers": ps, "count": len(ps)}}
	case RouteCreate:
		if provider == VoucherProvider {
			return s.createVoucherV3(r)
		}
		return s.create(r)
	case RouteVoucherCreate:
		return s.createVoucherV2(r)
	case RouteVoucherCommit:
		if a, ok := bodyNeedsJSON(r); !ok {
			return a
		}
		return s.commitAt("v2voucher", id)
	case RouteList:
		return s.list(r, provider)
	case RouteUpdate:
		return s.update(r, provider, id)
	case RouteCommit, RouteRollback:
		if a, ok := bodyNeedsJSON(r); !ok {
			return a
		}
		if rt == RouteCommit {
			return s.commitAt(provider, id)
		}
		return s.rollbackAt(provider, id)
	}
	return errAnswer(http.StatusNotFound, "Not Found")
}

func (s *Server) issueToken(r *http.Request) answer {
	var req struct {
		GrantType    string `json:"grant_type"`
		Scope        string `json:"scope"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if ok, a := readJSON(r, &req); !ok {
		return a
	}
	if req.GrantType != "client_credentials" {
		return answer{400, map[string]any{"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"}}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[req.ClientID]
	if !ok || c.secret != req.ClientSecret {
		return answer{401, map[string]any{"error": "invalid_client", "error_description": "Client authentication failed"}}
	}
	// Granted: what was asked for and the application may have.
	granted := map[string]bool{}
	var names []string
	for _, sc := range strings.Fields(req.Scope) {
		if c.scopes[sc] && !granted[sc] {
			granted[sc] = true
			names = append(names, sc)
		}
	}
	sort.Strings(names)
	tok := randomToken()
	s.tokens[tok] = token{client: req.ClientID, scopes: granted, expires: time.Now().Add(s.opt.TokenLifetime)}
	return answer{200, map[string]any{
		"access_token": tok, "token_type": "Bearer", "expires_in": int64(s.opt.TokenLifetime / time.Second),
		"scope": strings.Join(names, " "), "refresh_token": randomToken(),
	}}
}

func randomToken() string {
	var b [24]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Server) authorize(r *http.Request, scope string) (answer, bool) {
	h := r.Header.Get("Authorization")
	const pfx = "Bearer "
	if len(h) <= len(pfx) || !strings.EqualFold(h[:len(pfx)], pfx) {
		return errAnswer(http.StatusUnauthorized, "Unauthorized: missing bearer token"), false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[h[len(pfx):]]
	if !ok || !time.Now().Before(t.expires) {
		delete(s.tokens, h[len(pfx):])
		return errAnswer(http.StatusUnauthorized, "Unauthorized: invalid or expired token"), false
	}
	if !t.scopes[scope] {
		return errAnswer(http.StatusForbidden, "Forbidden: the token lacks scope "+scope), false
	}
	return answer{}, true
}

func (s *Server) findUser(r *http.Request) answer {
	q := r.URL.Query()
	card, name, email := q.Get("card"), q.Get("username"), q.Get("email")
	if card == "" && name == "" && email == "" && q.Get("code") == "" {
		return errAnswer(http.StatusBadRequest, "At least one filter is required")
	}
	active := true
	switch v := q.Get("isActive"); v {
	case "", "1", "true":
	case "0", "false":
		active = false
	default:
		return answer{200, map[string]any{"users": []any{}, "count": 0}} // "incorrect filter: empty result"
	}
	withAccounts := false
	for _, inc := range strings.Split(q.Get("include"), ",") {
		withAccounts = withAccounts || strings.TrimSpace(inc) == "accounts"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if q.Has("include") && s.include == IncludeEmpties {
		return answer{200, map[string]any{"users": []any{}, "count": 0}}
	}
	var found []any
	ids := make([]int64, 0, len(s.users))
	for id := range s.users {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		u := s.users[id]
		match := (name == "" || strings.EqualFold(u.Username, name)) && (email == "" || strings.EqualFold(u.Email, email))
		if card != "" {
			has := false
			for _, c := range u.Cards {
				has = has || c == card
			}
			match = match && has
		}
		if s.activeFlt && u.Inactive == active {
			match = false
		}
		if match && q.Get("code") == "" {
			e := map[string]any{"id": u.ID, "username": u.Username, "fullname": u.FullName, "email": u.Email, "lang": "en",
				"isActive": !u.Inactive}
			if withAccounts && s.include == IncludeAccounts {
				e["accounts"] = accountsOf(u)
			}
			found = append(found, e)
		}
	}
	if found == nil {
		found = []any{}
	}
	page, a, ok := s.pageOf(q, found)
	if !ok {
		return a
	}
	return answer{200, map[string]any{"users": page, "count": len(found)}}
}

func (s *Server) userAccounts(uid string) answer {
	id, err := strconv.ParseInt(uid, 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.accounts {
		return errAnswer(http.StatusNotFound, "Not Found")
	}
	u, ok := s.users[id]
	if err != nil || !ok {
		return errAnswer(http.StatusNotFound, "User not found")
	}
	return answer{200, map[string]any{"credit": map[string]any{"enabled": true}, "accounts": accountsOf(u)}}
}

func accountsOf(u *User) []any {
	return []any{
		map[string]any{"name": "Credit", "reference": "internalaccount", "type": 1, "limits": map[string]any{"price": u.Balance}},
	}
}

// userBalance is GET /users/{id}/accounts/{reference}/balance → {"amount":…}.
func (s *Server) userBalance(uid, ref string) answer {
	id, err := strconv.ParseInt(uid, 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.balanceEP {
		return errAnswer(http.StatusNotFound, "Not Found")
	}
	u, ok := s.users[id]
	if err != nil || !ok {
		return errAnswer(http.StatusNotFound, "User not found")
	}
	if ref != "internalaccount" {
		return errAnswer(http.StatusNotFound, "Account not found")
	}
	return answer{200, map[string]any{"amount": u.Balance}}
}

// amountOf validates an amount the way MyQ would: a JSON number, positive,
// at most two decimals.
func amountOf(raw json.RawMessage) (api.Money, bool) {
	n := strings.TrimSpace(string(raw))
	if n == "" || n[0] < '0' || n[0] > '9' {
		return 0, false // missing, null, a string, a sign
	}
	m, err := api.ParseMoney(n)
	return m, err == nil && m > 0
}

type paymentParams struct {
	Amount json.RawMessage `json:"amount"`
}

func (s *Server) create(r *http.Request) answer {
	var req struct {
		UserID      *int64         `json:"userId"`
		Description string         `json:"description"`
		Params      *paymentParams `json:"params"`
	}
	if ok, a := readJSON(r, &req); !ok {
		return a
	}
	if req.UserID == nil || req.Params == nil {
		return errAnswer(http.StatusBadRequest, "userId and params.amount are required")
	}
	amt, ok := amountOf(req.Params.Amount)
	if !ok {
		return errAnswer(http.StatusBadRequest, "Invalid amount: "+clip(string(req.Params.Amount)))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.enabled {
		return errAnswer(http.StatusBadRequest, msgInvalidState+" Payment provider is disabled.")
	}
	if _, ok := s.users[*req.UserID]; !ok {
		return errAnswer(http.StatusNotFound, "User not found")
	}
	now := time.Now().UTC()
	p := &payment{id: strconv.FormatInt(s.nextID, 10), userID: *req.UserID, amount: amt, description: req.Description, provider: "external", created: now, updated: now}
	s.nextID++
	s.payments[p.id] = p
	s.order = append(s.order, p.id)
	return answer{200, map[string]any{
		"id": s.idValue(p.id), "userId": p.userID, "amount": p.amount, "description": p.description,
		"params": map[string]any{"amount": p.amount},
	}}
}

func (s *Server) idValue(id string) any {
	if s.idNumber {
		return json.Number(id)
	}
	return id
}

func (s *Server) update(r *http.Request, provider, id string) answer {
	var req struct {
		Description *string        `json:"description"`
		Params      *paymentParams `json:"params"`
	}
	if ok, a := readJSON(r, &req); !ok {
		return a
	}
	var amt api.Money
	if req.Params != nil {
		var ok bool
		if amt, ok = amountOf(req.Params.Amount); !ok {
			return errAnswer(http.StatusBadRequest, "Invalid amount: "+clip(string(req.Params.Amount)))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payments[id]
	if !ok || p.provider != provider || p.voucher != "" {
		return errAnswer(http.StatusNotFound, "Payment not found")
	}
	if p.state != stCreated {
		return errAnswer(http.StatusBadRequest, msgInvalidState)
	}
	if req.Description != nil {
		p.description = *req.Description
	}
	if amt > 0 {
		p.amount = amt
	}
	p.updated = time.Now().UTC()
	return answer{status: http.StatusOK}
}

func (s *Server) commitAt(provider, id string) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payments[id]
	if !ok || p.provider != provider {
		return errAnswer(http.StatusNotFound, "Payment not found")
	}
	if p.state != stCreated {
		return errAnswer(http.StatusBadRequest, msgInvalidState)
	}
	u, ok := s.users[p.userID]
	if !ok {
		return errAnswer(http.StatusNotFound, "User not found")
	}
	now := time.Now().UTC()
	p.state, p.updated = stCommitted, now
	u.Balance += p.amount
	if v := s.vouchers[p.voucher]; v != nil {
		v.Used, v.payment = true, ""
	}
	s.ledger = append(s.ledger, Commit{PaymentID: p.id, UserID: p.userID, Amount: p.amount, Description: p.description, Voucher: p.voucher, At: now})
	return answer{200, map[string]any{"amount": p.amount}}
}

func (s *Server) rollbackAt(provider, id string) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payments[id]
	if !ok || p.provider != provider {
		return errAnswer(http.StatusNotFound, "Payment not found")
	}
	if p.state != stCreated {
		return errAnswer(http.StatusBadRequest, msgInvalidState)
	}
	p.state, p.updated = stRolledBack, time.Now().UTC()
	if v := s.vouchers[p.voucher]; v != nil && v.payment == p.id {
		v.payment = "" // the code can be redeemed again
	}
	return answer{status: http.StatusOK}
}

func (s *Server) list(r *http.Request, provider string) answer {
	q := r.URL.Query()
	uid, err := strconv.ParseInt(q.Get("userId"), 10, 64)
	if err != nil {
		return errAnswer(http.StatusBadRequest, "userId is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, id := range s.order {
		p := s.payments[id]
		if p.userID != uid || p.provider != provider {
			continue
		}
		e := map[string]any{
			"id": s.idValue(p.id), "userId": p.userID, "amount": p.amount, "currency": nil,
			"state": s.words[p.state], "created": p.created.Format(time.RFC3339), "updated": p.updated.Format(time.RFC3339),
			"expires": nil, "paymentNo": "P" + p.id, "provider": providerName(p.provider),
		}
		if s.descInLst {
			e["description"] = p.description
		}
		out = append(out, e)
	}
	page, a, ok := s.pageOf(q, out)
	if !ok {
		return a
	}
	return answer{200, map[string]any{"payments": page, "count": len(out)}}
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
