package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// User is a MyQ user as the kiosk needs it.
type User struct {
	ID       int64
	Username string
	FullName string
	Email    string
	Lang     string
	// Balance is the credit balance MyQ sent with the lookup
	// (include=accounts); nil when it sent none.
	Balance *Money
	// Inactive: MyQ says the account is not active.
	Inactive bool
}

// Provider is one recharge provider. Enabled is nil when MyQ does not say.
type Provider struct {
	Name        string
	Reference   string
	Description string
	Enabled     *bool
	// Params names the provider's parameters as MyQ lists them (strings, or
	// objects with a name); the v3 voucher provider's code is one of them.
	Params []string
}

// PaymentState is the kiosk's reading of MyQ's undocumented state word.
type PaymentState int

const (
	// StateOpen: created, not committed; it has moved no money.
	StateOpen PaymentState = iota
	// StateCommitted: the credit is on the account.
	StateCommitted
	// StateRolledBack: rolled back, cancelled or expired; it will never move money.
	StateRolledBack
	// StateUnknown: a word the kiosk does not know. Not committed, and not
	// safe to commit, adopt, roll back or create again around either.
	StateUnknown
)

func (s PaymentState) String() string {
	switch s {
	case StateOpen:
		return "open"
	case StateCommitted:
		return "committed"
	case StateRolledBack:
		return "rolled back"
	case StateUnknown:
		return "unknown"
	}
	return "PaymentState(" + strconv.Itoa(int(s)) + ")"
}

// Payment is one recharge payment.
type Payment struct {
	ID          string
	UserID      int64
	Amount      Money
	State       PaymentState
	RawState    string // MyQ's word, as sent
	Description string // empty when this MyQ version drops it from listings
	Created     time.Time
	Updated     time.Time
}

// ParseState reads a state word (case-insensitive, surrounding blanks
// ignored). Only exact, known words count: a word that merely contains
// "commit" ("commit_failed", "committing") is not committed, because money
// journaled as booked that MyQ never credited is lost for good. Known words:
// committed; rolledback, rolled_back, rolled back, rolled-back, cancelled,
// canceled, expired (an expired payment can no longer be committed: the
// booking creates it again); created, new, open, pending, initialized,
// initialised, uncommitted, not_committed and "" (open). Anything else is
// StateUnknown with known=false: not committed, not open either.
func ParseState(word string) (s PaymentState, known bool) {
	switch strings.ToLower(strings.TrimSpace(word)) {
	case "committed":
		return StateCommitted, true
	case "rolledback", "rolled_back", "rolled back", "rolled-back", "cancelled", "canceled", "expired":
		return StateRolledBack, true
	case "", "created", "new", "open", "pending", "initialized", "initialised", "uncommitted", "not_committed", "not committed", "not-committed":
		return StateOpen, true
	}
	return StateUnknown, false
}

func (c *Client) state(word string) PaymentState {
	s, known := ParseState(word)
	if !known {
		c.wordsMu.Lock()
		seen := c.stateWords[word]
		if !seen && len(c.stateWords) < 64 { // a hostile server cannot grow it without bound
			if c.stateWords == nil {
				c.stateWords = map[string]bool{}
			}
			c.stateWords[word] = true
		}
		c.wordsMu.Unlock()
		if !seen {
			c.log.Warn("myq: unknown payment state word, read as not committed", "state", cleanMessage(word))
		}
	}
	return s
}

// flexID reads an id sent as a JSON string or number.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return fmt.Errorf("id is null")
	}
	var s string
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("id: %v", err)
		}
	} else {
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("id: want string or number, got %.20s", b)
		}
		if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
			return fmt.Errorf("id %.20s is not an integer", b)
		}
		s = n.String()
	}
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return fmt.Errorf("id %q: empty or too long", s)
	}
	for _, r := range s {
		if r < 0x21 || r == 0x7f {
			return fmt.Errorf("id %q contains control or space characters", s)
		}
	}
	*f = flexID(s)
	return nil
}

// flexInt reads a positive int64 id sent as a JSON string or number.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var s flexID
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("id %q is not a positive integer", string(s))
	}
	*f = flexInt(n)
	return nil
}

type wireUser struct {
	ID       *flexInt         `json:"id"`
	Username string           `json:"username"`
	FullName string           `json:"fullname"`
	Email    string           `json:"email"`
	Lang     string           `json:"lang"`
	IsActive *flexBool        `json:"isActive"`
	Accounts *json.RawMessage `json:"accounts"`
}

// flexBool reads true/false or 1/0.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch strings.TrimSpace(string(b)) {
	case "true", "1", `"1"`, `"true"`:
		*f = true
	case "false", "0", `"0"`, `"false"`:
		*f = false
	default:
		return fmt.Errorf("isActive %.10s is not a boolean", b)
	}
	return nil
}

// DecodeUsers parses the body of GET /users/find.
func DecodeUsers(b []byte) ([]User, error) {
	p, err := decodeUsersPage(b)
	return p.items, err
}

func decodeUsersPage(b []byte) (listPage[User], error) {
	var w struct {
		Users *[]wireUser     `json:"users"`
		Count json.RawMessage `json:"count"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return listPage[User]{}, err
	}
	if w.Users == nil {
		return listPage[User]{}, fmt.Errorf("no users list")
	}
	count, err := decodeCount(w.Count)
	if err != nil {
		return listPage[User]{}, err
	}
	out := make([]User, 0, len(*w.Users))
	for i, u := range *w.Users {
		if u.ID == nil {
			return listPage[User]{}, fmt.Errorf("user %d has no id", i)
		}
		user := User{ID: int64(*u.ID), Username: cleanText(u.Username, maxName), FullName: cleanText(u.FullName, maxName),
			Email: cleanText(u.Email, maxName), Lang: cleanText(u.Lang, 16), Inactive: u.IsActive != nil && !bool(*u.IsActive)}
		if u.Accounts != nil {
			if m, ok := balanceOf(*u.Accounts); ok {
				user.Balance = &m
			}
		}
		out = append(out, user)
	}
	return listPage[User]{items: out, count: count}, nil
}

// FindUserByCard looks a user up by card number (already transformed to the
// form MyQ stores), asking for the balance with it (include=accounts).
// ErrUserNotFound when no user has it; ErrUserInactive when it belongs to a
// user whose account is not active (one extra lookup, for cards not found).
func (c *Client) FindUserByCard(ctx context.Context, card string) (User, error) {
	if card == "" {
		return User{}, &Error{Op: "find user by card", Err: fmt.Errorf("%w: empty card number", ErrInvalidArgument)}
	}
	op := "find user by card " + maskCard(card)
	q := url.Values{"card": {card}}
	include := !c.includeBroken.Load()
	if include {
		q.Set("include", "accounts")
	}
	u, err := c.findUser(ctx, op, q, "", false)
	if err == nil {
		if include {
			c.includeWorks.Store(true)
		}
		return activeUser(op, u)
	}
	if !errors.Is(err, ErrUserNotFound) {
		return User{}, err
	}
	notFound := err
	// MyQ answers an unsupported filter with an empty result: until include
	// has been seen to work, ask once more without it.
	if include && !c.includeWorks.Load() {
		u, err := c.findUser(ctx, op, url.Values{"card": {card}}, "", false)
		switch {
		case err == nil:
			c.includeBroken.Store(true)
			c.log.Warn("myq: this MyQ finds nobody with include=accounts; the balance is asked separately")
			return activeUser(op, u)
		case !errors.Is(err, ErrUserNotFound):
			return User{}, err
		}
	}
	// isActive defaults to 1: an inactive user's card is found only when
	// asked for.
	_, err = c.findUser(ctx, op, url.Values{"card": {card}, "isActive": {"0"}}, "", false)
	switch {
	case err == nil || errors.Is(err, ErrAmbiguousUser):
		return User{}, &Error{Op: op, Status: http.StatusOK, Err: ErrUserInactive}
	case !errors.Is(err, ErrUserNotFound):
		// The card was not found among active users; that stands.
		c.log.Info("myq: could not ask whether the card belongs to an inactive user", "err", err)
	}
	return User{}, notFound
}

// activeUser refuses a user MyQ marks inactive (a MyQ that ignores the
// isActive filter still says so per user).
func activeUser(op string, u User) (User, error) {
	if u.Inactive {
		return User{}, &Error{Op: op, Status: http.StatusOK, Err: ErrUserInactive}
	}
	return u, nil
}

// FindUserByUsername looks a user up by username. ErrUserNotFound when none.
func (c *Client) FindUserByUsername(ctx context.Context, name string) (User, error) {
	if name == "" {
		return User{}, &Error{Op: "find user by username", Err: fmt.Errorf("%w: empty username", ErrInvalidArgument)}
	}
	return c.findUser(ctx, "find user by username", url.Values{"username": {name}}, name, true)
}

// findUser finds the one user q matches. byName: keep only users whose
// username is exactly name.
func (c *Client) findUser(ctx context.Context, op string, q url.Values, name string, byName bool) (User, error) {
	users, err := readPages(ctx, c, op, "/api/v3/users/find", q, decodeUsersPage,
		func(u User) string { return strconv.FormatInt(u.ID, 10) })
	if err != nil {
		return User{}, err
	}
	if byName && len(users) > 1 {
		// A search may match loosely; only an exact username is this user.
		var exact []User
		for _, u := range users {
			if strings.EqualFold(u.Username, name) {
				exact = append(exact, u)
			}
		}
		users = exact
	}
	switch len(users) {
	case 0:
		return User{}, &Error{Op: op, Status: http.StatusOK, Err: ErrUserNotFound}
	case 1:
		return users[0], nil
	}
	return User{}, &Error{Op: op, Status: http.StatusOK, Err: fmt.Errorf("%w (%d users)", ErrAmbiguousUser, len(users))}
}

// maskCard keeps the last four characters (the api package imports no
// device code; same rule as devices.MaskCard).
func maskCard(n string) string {
	r := []rune(n)
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-4) + string(r[len(r)-4:])
}

// DecodeBalance reads the internal account's limits.price from GET
// /users/{id}/accounts. known is false when the answer is shaped otherwise.
func DecodeBalance(b []byte) (Money, bool) {
	var w struct {
		Credit *struct {
			Enabled *bool `json:"enabled"`
		} `json:"credit"`
		Accounts json.RawMessage `json:"accounts"`
	}
	if json.Unmarshal(b, &w) != nil {
		return 0, false
	}
	if w.Credit != nil && w.Credit.Enabled != nil && !*w.Credit.Enabled {
		return 0, false
	}
	return balanceOf(w.Accounts)
}

// balanceOf reads limits.price of the internalaccount entry of an accounts
// list (as /users/{id}/accounts and /users/find?include=accounts give it).
func balanceOf(raw json.RawMessage) (Money, bool) {
	var accounts []struct {
		Reference string `json:"reference"`
		Limits    *struct {
			Price json.RawMessage `json:"price"`
		} `json:"limits"`
	}
	if json.Unmarshal(raw, &accounts) != nil {
		return 0, false
	}
	for _, a := range accounts {
		if !strings.EqualFold(a.Reference, "internalaccount") || a.Limits == nil {
			continue
		}
		// Display only: a negative balance is real, extra decimals are cut.
		m, err := decodeMoney(a.Limits.Price, true, true)
		if err != nil {
			return 0, false
		}
		return m, true
	}
	return 0, false
}

// Balance asks for the user's credit balance: the documented
// /users/{id}/accounts/internalaccount/balance ({"amount":…}) and, where that
// is missing, /users/{id}/accounts. When neither answers in a known shape,
// known is false and err nil. Transport errors and 5xx are returned; callers
// show no balance and carry on: a balance never blocks a top-up. MyQ blocks
// part of the credit while a job prints, so this may be below the account.
func (c *Client) Balance(ctx context.Context, userID int64) (bal Money, known bool, err error) {
	if userID <= 0 {
		return 0, false, &Error{Op: "balance", Err: fmt.Errorf("%w: user id %d", ErrInvalidArgument, userID)}
	}
	user := "/api/v3/users/" + strconv.FormatInt(userID, 10)
	missing := func(err error) bool {
		e, ok := asError(err)
		return ok && (e.Status == http.StatusNotFound || e.Status == http.StatusMethodNotAllowed || e.Status == http.StatusNotImplemented)
	}
	balanceMissing := false
	if !c.noBalanceEP.Load() {
		err = c.call(ctx, "balance", http.MethodGet, user+"/accounts/internalaccount/balance", nil, nil, func(b []byte) error {
			var w struct {
				Amount json.RawMessage `json:"amount"`
			}
			if json.Unmarshal(b, &w) != nil || len(w.Amount) == 0 {
				return nil
			}
			m, err := decodeMoney(w.Amount, true, true)
			if err == nil {
				bal, known = m, true
			}
			return nil
		})
		if err == nil && known {
			return bal, true, nil
		}
		if err != nil && !missing(err) {
			return 0, false, err
		}
		balanceMissing = err != nil
	}
	err = c.call(ctx, "balance", http.MethodGet, user+"/accounts", nil, nil, func(b []byte) error {
		bal, known = DecodeBalance(b)
		return nil
	})
	if err != nil {
		if missing(err) {
			return 0, false, nil
		}
		return 0, false, err
	}
	if balanceMissing {
		// The user exists, so the 404 was the endpoint's: skip it from now on.
		c.noBalanceEP.Store(true)
	}
	return bal, known, nil
}

// DecodeProviders parses GET /rechargeProviders.
func DecodeProviders(b []byte) ([]Provider, error) {
	var w struct {
		Providers *[]struct {
			Name        string            `json:"name"`
			Reference   string            `json:"reference"`
			Description string            `json:"description"`
			Enabled     *bool             `json:"enabled"`
			Params      []json.RawMessage `json:"params"`
		} `json:"providers"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	if w.Providers == nil {
		return nil, fmt.Errorf("no providers list")
	}
	out := make([]Provider, 0, len(*w.Providers))
	for _, p := range *w.Providers {
		out = append(out, Provider{Name: cleanText(p.Name, maxName), Reference: cleanText(p.Reference, maxName),
			Description: cleanText(p.Description, maxText), Enabled: p.Enabled, Params: paramNames(p.Params)})
	}
	return out, nil
}

// Providers lists the active recharge providers.
func (c *Client) Providers(ctx context.Context) ([]Provider, error) {
	var ps []Provider
	err := c.call(ctx, "list providers", http.MethodGet, "/api/v3/rechargeProviders", nil, nil, func(b []byte) (err error) {
		ps, err = DecodeProviders(b)
		return err
	})
	return ps, err
}

func (c *Client) paymentsPath() string {
	return "/api/v3/rechargeProviders/" + url.PathEscape(c.provider) + "/payments"
}

func validAmount(op string, amount Money) error {
	if amount <= 0 || amount > MaxMoney {
		return &Error{Op: op, Err: fmt.Errorf("%w: amount %s must be above 0 and at most %s", ErrInvalidArgument, amount, MaxMoney)}
	}
	return nil
}

type amountParams struct {
	Amount Money `json:"amount"`
}

type wirePayment struct {
	ID          *flexID          `json:"id"`
	UserID      *flexInt         `json:"userId"`
	Amount      json.RawMessage  `json:"amount"`
	State       *string          `json:"state"`
	Description *string          `json:"description"`
	Created     *string          `json:"created"`
	Updated     *string          `json:"updated"`
	Params      *json.RawMessage `json:"params"`
}

func (w *wirePayment) payment() (Payment, error) {
	if w.ID == nil {
		return Payment{}, fmt.Errorf("payment has no id")
	}
	p := Payment{ID: string(*w.ID)}
	if w.UserID != nil {
		p.UserID = int64(*w.UserID)
	}
	raw := w.Amount
	if len(raw) == 0 && w.Params != nil {
		var pa struct {
			Amount json.RawMessage `json:"amount"`
		}
		if json.Unmarshal(*w.Params, &pa) == nil {
			raw = pa.Amount
		}
	}
	if len(raw) > 0 {
		m, err := decodeMoney(raw, false, false)
		if err != nil {
			return Payment{}, fmt.Errorf("payment %s amount: %w", p.ID, err)
		}
		p.Amount = m
	}
	if w.State != nil {
		p.RawState = cleanText(*w.State, maxText)
	}
	if w.Description != nil {
		p.Description = cleanText(*w.Description, maxText)
	}
	if w.Created != nil {
		p.Created = parseTime(*w.Created)
	}
	if w.Updated != nil {
		p.Updated = parseTime(*w.Updated)
	}
	return p, nil
}

// parseTime reads the formats MyQ is seen to use; unknown ones give zero
// (timestamps are informative, never decisive).
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// DecodePayment parses the body of a create answer.
func DecodePayment(b []byte) (Payment, error) {
	var w wirePayment
	if err := json.Unmarshal(b, &w); err != nil {
		return Payment{}, err
	}
	return w.payment()
}

// DecodePayments parses GET .../payments?userId=. The state words are not
// interpreted here (ParseState).
func DecodePayments(b []byte) ([]Payment, error) {
	p, err := decodePaymentsPage(b)
	return p.items, err
}

func decodePaymentsPage(b []byte) (listPage[Payment], error) {
	var w struct {
		Payments *[]wirePayment  `json:"payments"`
		Count    json.RawMessage `json:"count"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return listPage[Payment]{}, err
	}
	if w.Payments == nil {
		return listPage[Payment]{}, fmt.Errorf("no payments list")
	}
	count, err := decodeCount(w.Count)
	if err != nil {
		return listPage[Payment]{}, err
	}
	out := make([]Payment, 0, len(*w.Payments))
	for i := range *w.Payments {
		p, err := (*w.Payments)[i].payment()
		if err != nil {
			// Never skip an entry: a payment of ours hidden by a bad row
			// could be created and committed a second time.
			return listPage[Payment]{}, fmt.Errorf("payment %d: %w", i, err)
		}
		out = append(out, p)
	}
	return listPage[Payment]{items: out, count: count}, nil
}

// DecodeCommit parses the commit answer {"amount":13}. ok is false when the
// body carries no amount (an empty 2xx is still a commit).
func DecodeCommit(b []byte) (amount Money, ok bool, err error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return 0, false, nil
	}
	var w struct {
		Amount json.RawMessage `json:"amount"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return 0, false, err
	}
	if len(w.Amount) == 0 || string(w.Amount) == "null" {
		return 0, false, nil
	}
	m, err := decodeMoney(w.Amount, false, false)
	if err != nil {
		return 0, false, err
	}
	return m, true, nil
}

// CreatePayment creates an uncommitted payment: it moves no money until
// CommitPayment. description carries the kiosk's unique transaction reference
// so an ambiguous create can be found again in ListPayments.
func (c *Client) CreatePayment(ctx context.Context, userID int64, description string, amount Money) (Payment, error) {
	const op = "create payment"
	if err := validAmount(op, amount); err != nil {
		return Payment{}, err
	}
	if userID <= 0 {
		return Payment{}, &Error{Op: op, Err: fmt.Errorf("%w: user id %d", ErrInvalidArgument, userID)}
	}
	body := struct {
		UserID      int64        `json:"userId"`
		Description string       `json:"description"`
		Params      amountParams `json:"params"`
	}{userID, description, amountParams{amount}}
	var p Payment
	err := c.call(ctx, op, http.MethodPost, c.paymentsPath(), nil, body, func(b []byte) (err error) {
		p, err = DecodePayment(b)
		return err
	})
	if err != nil {
		return Payment{}, err
	}
	if p.UserID == 0 {
		p.UserID = userID
	} else if p.UserID != userID {
		return Payment{}, &Error{Op: op, Status: http.StatusOK, Err: fmt.Errorf("%w: payment %s is for user %d, asked for %d", ErrMalformed, p.ID, p.UserID, userID)}
	}
	if p.Amount == 0 {
		p.Amount = amount
	} else if p.Amount != amount {
		return Payment{}, &Error{Op: op, Status: http.StatusOK, Err: fmt.Errorf("%w: payment %s amount %s, asked for %s", ErrMalformed, p.ID, p.Amount, amount)}
	}
	if p.Description == "" {
		p.Description = description
	}
	p.State = c.state(p.RawState)
	return p, nil
}

func checkID(op, id string) error {
	if id == "" || strings.ContainsAny(id, "/?#") {
		return &Error{Op: op, Err: fmt.Errorf("%w: payment id %q", ErrInvalidArgument, id)}
	}
	return nil
}

// UpdatePayment changes an uncommitted payment's description and amount
// (PATCH; the request body is undocumented: this sends
// {"description":…,"params":{"amount":…}}).
func (c *Client) UpdatePayment(ctx context.Context, id string, description string, amount Money) error {
	const op = "update payment"
	if err := checkID(op, id); err != nil {
		return err
	}
	if err := validAmount(op, amount); err != nil {
		return err
	}
	body := struct {
		Description string       `json:"description"`
		Params      amountParams `json:"params"`
	}{description, amountParams{amount}}
	return c.call(ctx, op+" "+id, http.MethodPatch, c.paymentsPath()+"/"+url.PathEscape(id), nil, body, nil)
}

// CommitPayment commits a payment: the only call that moves money. It
// returns the amount MyQ reports (0 when the answer carries none). A
// transient error here is ambiguous: list the payments before repeating.
func (c *Client) CommitPayment(ctx context.Context, id string) (Money, error) {
	const op = "commit payment"
	if err := checkID(op, id); err != nil {
		return 0, err
	}
	var m Money
	err := c.call(ctx, op+" "+id, http.MethodPost, c.paymentsPath()+"/"+url.PathEscape(id)+"/commit", nil, nil, func(b []byte) error {
		amt, _, err := DecodeCommit(b)
		m = amt
		return err
	})
	return m, err
}

// RollbackPayment rolls back an uncommitted payment.
func (c *Client) RollbackPayment(ctx context.Context, id string) error {
	const op = "rollback payment"
	if err := checkID(op, id); err != nil {
		return err
	}
	return c.call(ctx, op+" "+id, http.MethodPost, c.paymentsPath()+"/"+url.PathEscape(id)+"/rollback", nil, nil, nil)
}

// ListPayments lists every payment of the user through the configured
// provider, page by page. An error wrapping ErrIncompleteListing means the
// listing could not be read whole: a payment missing from it may exist.
func (c *Client) ListPayments(ctx context.Context, userID int64) ([]Payment, error) {
	const op = "list payments"
	if userID <= 0 {
		return nil, &Error{Op: op, Err: fmt.Errorf("%w: user id %d", ErrInvalidArgument, userID)}
	}
	ps, err := readPages(ctx, c, op, c.paymentsPath(), url.Values{"userId": {strconv.FormatInt(userID, 10)}}, decodePaymentsPage,
		func(p Payment) string { return p.ID })
	if err != nil {
		return nil, err
	}
	for i := range ps {
		ps[i].State = c.state(ps[i].RawState)
	}
	return ps, nil
}
