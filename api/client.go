// Package api is the kiosk's client of the MyQ X REST API: the client
// credentials token, user lookup by card or username (with the balance and
// the isActive distinction), the account balance, recharge providers, the
// payment life cycle (create, update, commit, rollback, list every page) and
// voucher redemption (v2 and the v3 voucher provider). It owns the wire
// format and its tolerances (ids as strings or numbers, undocumented state
// words, decimal amounts read exactly into Money, every string cleaned) and
// classifies failures into typed errors the booking code can act on. It does not retry beyond one re-authentication on a 401: deciding
// whether a lost answer moved money is the booking package's job.
// See docs/ARCHITECTURE.md for its place among the packages.
package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// MaxResponseBytes caps every response body the client reads.
const MaxResponseBytes = 1 << 20

// DefaultTimeout bounds one request when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Config is what the client needs to reach MyQ.
type Config struct {
	URL          string // https://myq.example.edu:8090 (http:// only for loopback)
	ClientID     string
	ClientSecret string
	CAFile       string // PEM; when set, the only CAs trusted (not the system roots); optional
	Provider     string // recharge provider reference; default "external"
	Timeout      time.Duration
	Version      string // kiosk version for the User-Agent
	PageSize     int    // limit asked per page of a listing; default DefaultPageSize
	Log          *slog.Logger
}

// TokenInfo describes the current access token (never the token itself).
type TokenInfo struct {
	Scope     string   // as MyQ granted it, space-separated
	Scopes    []string // Scope split
	ExpiresAt time.Time
}

// Client talks to one MyQ X server. It is safe for concurrent use.
type Client struct {
	base     *url.URL
	id       string
	secret   string
	provider string
	pageSize int
	timeout  time.Duration
	ua       string
	log      *slog.Logger
	hc       *http.Client
	now      func() time.Time

	mu       sync.Mutex
	token    string // bearer; never logged
	info     TokenInfo
	refresh  time.Time // when to fetch a new token
	inflight *tokenCall

	// What this MyQ was seen to lack, so later calls skip it.
	includeWorks  atomic.Bool // a lookup with include=accounts found a user
	includeBroken atomic.Bool // include=accounts empties lookups here
	noBalanceEP   atomic.Bool // no /accounts/{reference}/balance

	wordsMu    sync.Mutex
	stateWords map[string]bool // unknown state words already logged (bounded)
}

// tokenCall is one token request shared by every caller that needs it.
type tokenCall struct {
	done  chan struct{}
	token string
	info  TokenInfo
	err   error
}

// New checks cfg and builds a client. It does not contact MyQ.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil {
		return nil, fmt.Errorf("%w: url: %v", ErrConfig, err)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: url %q has no host", ErrConfig, cfg.URL)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("%w: url %q: plain http is allowed only for loopback hosts; use https", ErrConfig, cfg.URL)
		}
	default:
		return nil, fmt.Errorf("%w: url %q: scheme must be https", ErrConfig, cfg.URL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: url %q: no credentials, query or fragment allowed", ErrConfig, cfg.URL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	if cfg.ClientID == "" {
		return nil, fmt.Errorf("%w: client id is empty", ErrConfig)
	}
	if cfg.ClientSecret == "" {
		return nil, fmt.Errorf("%w: client secret is empty", ErrConfig)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("%w: timeout %v is negative", ErrConfig, cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Provider == "" {
		cfg.Provider = "external"
	}
	if strings.ContainsAny(cfg.Provider, "/?#% ") {
		return nil, fmt.Errorf("%w: provider %q is not a plain reference", ErrConfig, cfg.Provider)
	}
	if cfg.PageSize < 0 || cfg.PageSize > 1000 {
		return nil, fmt.Errorf("%w: page size %d is not between 1 and 1000", ErrConfig, cfg.PageSize)
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	var roots *x509.CertPool
	if cfg.CAFile != "" {
		// The technician's CA alone: a CA in the image or a proxy's must not
		// be able to read the client secret and the bearer tokens.
		roots = x509.NewCertPool()
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: ca file: %v", ErrConfig, err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: ca file %s: no PEM certificate in it", ErrConfig, cfg.CAFile)
		}
	}
	tr := &http.Transport{
		Proxy:                 nil, // the kiosk talks to MyQ directly; a proxy env var must not redirect money
		DialContext:           (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	return &Client{
		base:     u,
		id:       cfg.ClientID,
		secret:   cfg.ClientSecret,
		provider: cfg.Provider,
		pageSize: cfg.PageSize,
		timeout:  cfg.Timeout,
		ua:       "voucherkiosk/" + cfg.Version,
		log:      cfg.Log,
		hc: &http.Client{
			Transport: tr,
			// MyQ does not redirect API calls; following one could resend a
			// payment elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		now: time.Now,
	}, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CloseIdleConnections drops kept-alive connections (for a clean shutdown).
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// Token returns the current token's scope and expiry, fetching one if needed.
// The technician's api-check uses it to show which scopes MyQ granted.
func (c *Client) Token(ctx context.Context) (TokenInfo, error) {
	_, info, err := c.getToken(ctx, "")
	return info, err
}

// getToken returns a valid token. stale, when non-empty, is a token MyQ just
// refused with 401: it is dropped unless another caller already replaced it.
// Concurrent callers share one token request.
func (c *Client) getToken(ctx context.Context, stale string) (string, TokenInfo, error) {
	c.mu.Lock()
	if stale != "" && c.token == stale {
		c.token = ""
	}
	if c.token != "" && c.now().Before(c.refresh) {
		t, i := c.token, c.info
		c.mu.Unlock()
		return t, i, nil
	}
	call := c.inflight
	if call == nil {
		call = &tokenCall{done: make(chan struct{})}
		c.inflight = call
		// The request runs detached from this caller's ctx so one caller
		// giving up does not fail the others; it is bounded by c.timeout.
		go c.fetchToken(context.WithoutCancel(ctx), call)
	}
	c.mu.Unlock()
	select {
	case <-call.done:
		return call.token, call.info, call.err
	case <-ctx.Done():
		return "", TokenInfo{}, &Error{Op: "token", Err: fmt.Errorf("%w: %w", errTransport, ctx.Err())}
	}
}

type tokenResponse struct {
	AccessToken string          `json:"access_token"`
	TokenType   string          `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	Scope       string          `json:"scope"`
}

func (c *Client) fetchToken(ctx context.Context, call *tokenCall) {
	defer close(call.done)
	body := map[string]string{
		"grant_type":    "client_credentials",
		"scope":         "credit users",
		"client_id":     c.id,
		"client_secret": c.secret,
	}
	start := c.now()
	var tr tokenResponse
	err := c.roundTrip(ctx, "token", http.MethodPost, "/api/auth/token", nil, body, "", func(b []byte) error {
		if err := json.Unmarshal(b, &tr); err != nil {
			return err
		}
		if tr.AccessToken == "" {
			return fmt.Errorf("no access_token")
		}
		if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
			return fmt.Errorf("token_type %q is not Bearer", tr.TokenType)
		}
		return nil
	})
	if err != nil {
		c.mu.Lock()
		c.inflight = nil
		c.mu.Unlock()
		call.err = err
		return
	}
	life := parseSeconds(tr.ExpiresIn)
	if life <= 0 {
		life = 1800 * time.Second // every documented example
	}
	// Refresh 60 s early; for short lifetimes (tests, odd servers) at half-life
	// so a token is still used at all.
	margin := 60 * time.Second
	if life <= 2*margin {
		margin = life / 2
	}
	scope := cleanText(tr.Scope, maxText)
	info := TokenInfo{Scope: scope, Scopes: strings.Fields(scope), ExpiresAt: start.Add(life)}
	c.mu.Lock()
	c.token, c.info, c.refresh = tr.AccessToken, info, start.Add(life-margin)
	c.inflight = nil
	c.mu.Unlock()
	call.token, call.info = tr.AccessToken, info
	c.log.Debug("myq token issued", "scope", scope, "expires_in", life)
}

// parseSeconds reads expires_in as a JSON number or string of whole seconds.
func parseSeconds(raw json.RawMessage) time.Duration {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	var n int64
	if s == "" || len(s) > 9 {
		return 0
	}
	for _, ch := range s {
		if ch < '0' || ch > '9' {
			return 0
		}
		n = n*10 + int64(ch-'0')
	}
	return time.Duration(n) * time.Second
}

// call performs an authenticated request: one re-authentication and one retry
// on a 401.
func (c *Client) call(ctx context.Context, op, method, path string, q url.Values, body any, decode func([]byte) error) error {
	tok, _, err := c.getToken(ctx, "")
	if err != nil {
		return err
	}
	err = c.roundTrip(ctx, op, method, path, q, body, tok, decode)
	if e, ok := asError(err); ok && e.Status == http.StatusUnauthorized {
		c.log.Info("myq refused the token; requesting a new one", "op", op)
		tok, _, err = c.getToken(ctx, tok)
		if err != nil {
			return err
		}
		err = c.roundTrip(ctx, op, method, path, q, body, tok, decode)
	}
	return err
}

// errorBody is MyQ's error answer.
type errorBody struct {
	Code    json.RawMessage `json:"code"`
	Message string          `json:"message"`
	Error   string          `json:"error"`
	Desc    string          `json:"error_description"`
}

// roundTrip sends one request and reads at most MaxResponseBytes of the
// answer. decode is called for a 2xx answer only.
func (c *Client) roundTrip(ctx context.Context, op, method, path string, q url.Values, body any, bearer string, decode func([]byte) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := *c.base
	u.Path = c.base.Path + path
	u.RawPath = ""
	if q != nil {
		u.RawQuery = q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return &Error{Op: op, Err: fmt.Errorf("%w: encode request: %v", ErrInvalidArgument, err)}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return &Error{Op: op, Err: fmt.Errorf("%w: %v", ErrInvalidArgument, err)}
	}
	req.Header.Set("User-Agent", c.ua)
	req.Header.Set("Accept", "application/json")
	if method == http.MethodPost || method == http.MethodPatch || body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		// url.Error quotes the URL: drop the query, which may hold a card number.
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = u.Scheme + "://" + u.Host + u.Path
		}
		c.log.Debug("myq request failed", "op", op, "err", err)
		return &Error{Op: op, Err: fmt.Errorf("%w: %w", errTransport, err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return &Error{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("%w: reading body: %w", errTransport, err)}
	}
	if len(data) > MaxResponseBytes {
		return &Error{Op: op, Status: resp.StatusCode, Err: ErrResponseTooLarge}
	}
	c.log.Debug("myq", "op", op, "status", resp.StatusCode, "took", time.Since(start))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &Error{Op: op, Status: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
		var eb errorBody
		if json.Unmarshal(data, &eb) == nil {
			e.Code = int(parseSeconds(eb.Code) / time.Second)
			e.Message = firstNonEmpty(eb.Message, eb.Desc, eb.Error)
		}
		e.Message = cleanMessage(e.Message)
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
		return e
	}
	if decode == nil {
		return nil
	}
	if err := decode(data); err != nil {
		return &Error{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("%w: %v", ErrMalformed, err)}
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
