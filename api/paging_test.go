package api_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
)

// TestPagingAgainstTheFake lists more payments and users than fit one page,
// at page sizes 1, 2 and 100, with the page size set by the client's limit
// and, separately, by a server that answers fewer than asked.
func TestPagingAgainstTheFake(t *testing.T) {
	const payments = 7
	for _, size := range []int{1, 2, 100} {
		for _, by := range []string{"client", "server"} {
			t.Run(fmt.Sprintf("%s-%d", by, size), func(t *testing.T) {
				e := setup(t, myqfake.Options{}, func(c *api.Config) {
					if by == "client" {
						c.PageSize = size
					}
				})
				if by == "server" {
					e.fake.SetPageSize(size)
				}
				// Cards shared by three users: an ambiguous card is only
				// seen as such when every page is read.
				for i := range 3 {
					e.fake.AddUser(myqfake.User{ID: int64(2000 + i), Username: fmt.Sprintf("u%d", i), Cards: []string{"777"}})
				}
				c := ctx(t)
				want := map[string]bool{}
				for i := range payments {
					p, err := e.c.CreatePayment(c, 1176, fmt.Sprintf("K-page-%d", i), api.Money(100+i))
					if err != nil {
						t.Fatal(err)
					}
					want[p.ID] = true
				}
				e.fake.ResetRequests()
				list, err := e.c.ListPayments(c, 1176)
				if err != nil {
					t.Fatal(err)
				}
				if len(list) != payments {
					t.Fatalf("listed %d payments, want %d", len(list), payments)
				}
				for _, p := range list {
					if !want[p.ID] {
						t.Errorf("unexpected payment %s", p.ID)
					}
					delete(want, p.ID)
				}
				pages := (payments + size - 1) / size
				if got := e.fake.Requests(myqfake.RouteList); got != pages {
					t.Errorf("%d list requests, want %d", got, pages)
				}
				if _, err := e.c.FindUserByCard(c, "777"); !errors.Is(err, api.ErrAmbiguousUser) {
					t.Errorf("card of three users: %v, want ErrAmbiguousUser", err)
				}
				if u, err := e.c.FindUserByCard(c, "0008844356"); err != nil || u.ID != 1176 {
					t.Errorf("find: %+v %v", u, err)
				}
			})
		}
	}
}

// hostile serves a token and then pages built by page(start, limit).
func hostile(t *testing.T, path string, page func(start, limit int) any) (*api.Client, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/auth/token" {
			fmt.Fprint(w, `{"access_token":"t","token_type":"Bearer","expires_in":1800,"scope":"credit users"}`)
			return
		}
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		n.Add(1)
		start, _ := strconv.Atoi(r.URL.Query().Get("start"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		if limit < 1 {
			t.Errorf("request without limit: %s", r.URL.RawQuery)
		}
		json.NewEncoder(w).Encode(page(start, limit))
	}))
	t.Cleanup(srv.Close)
	c, err := api.New(api.Config{URL: srv.URL, ClientID: "a", ClientSecret: "b", Timeout: 5 * time.Second, PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c, &n
}

func pay(id int) map[string]any {
	return map[string]any{"id": strconv.Itoa(id), "userId": 1176, "amount": 1, "state": "created", "description": "K-" + strconv.Itoa(id)}
}

// TestPagingHostile: a listing that cannot be read whole and consistently
// is an ErrIncompleteListing, never a shorter list.
func TestPagingHostile(t *testing.T) {
	const path = "/api/v3/rechargeProviders/external/payments"
	slice := func(all []int, start, limit int) []any {
		out := []any{}
		for i := start; i < len(all) && i < start+limit; i++ {
			out = append(out, pay(all[i]))
		}
		return out
	}
	cases := []struct {
		name     string
		page     func(start, limit int) any
		wantErr  bool
		wantN    int
		maxCalls int64
	}{
		{"count grows between pages", func(start, limit int) any {
			all := []int{1, 2, 3, 4}
			if start > 0 {
				all = []int{0, 1, 2, 3, 4} // a payment made meanwhile shifts the rest
			}
			return map[string]any{"payments": slice(all, start, limit), "count": len(all)}
		}, true, 0, 10},
		{"repeated payment hides one", func(start, limit int) any {
			all := []int{1, 2, 2, 4} // 3 is never shown
			return map[string]any{"payments": slice(all, start, limit), "count": 4}
		}, true, 0, 10},
		{"start ignored", func(start, limit int) any {
			return map[string]any{"payments": slice([]int{1, 2, 3, 4, 5}, 0, limit), "count": 5}
		}, true, 0, 10},
		{"start ignored, count inflated", func(start, limit int) any {
			return map[string]any{"payments": slice([]int{1, 2, 3, 4, 5}, 0, limit), "count": 1 << 20}
		}, true, 0, 3},
		{"empty page before count", func(start, limit int) any {
			return map[string]any{"payments": slice([]int{1, 2, 3}, start, limit), "count": 9}
		}, true, 0, 10},
		{"more than count", func(start, limit int) any {
			return map[string]any{"payments": slice([]int{1, 2, 3}, start, 10), "count": 2}
		}, true, 0, 10},
		{"same id, other state", func(start, limit int) any {
			p := pay(1)
			if start > 0 {
				p["state"] = "committed"
			}
			return map[string]any{"payments": []any{p, pay(start + 2)}, "count": 4}
		}, true, 0, 10},
		{"endless count", func(start, limit int) any {
			return map[string]any{"payments": slice([]int{start + 1, start + 2}, 0, limit), "count": 1 << 40}
		}, true, 0, 1000},
		{"no count, short page ends it", func(start, limit int) any {
			return map[string]any{"payments": slice([]int{1, 2, 3}, start, limit)}
		}, false, 3, 2},
		{"server cap below limit, count known", func(start, limit int) any {
			return map[string]any{"payments": slice([]int{5, 4, 3, 2, 1}, start, 1), "count": 5}
		}, false, 5, 5},
		{"unstable order, all seen", func(start, limit int) any {
			orders := [][]int{{3, 1, 2}, {1, 3, 2}}
			return map[string]any{"payments": slice(orders[min(start, 1)], start, limit), "count": 3}
		}, false, 3, 2},
		{"unstable order repeats one, all seen", func(start, limit int) any {
			orders := [][]int{{3, 1, 2}, {3, 1, 1, 2}}
			return map[string]any{"payments": slice(orders[min(start, 1)], start, limit), "count": 3}
		}, false, 3, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, n := hostile(t, path, tc.page)
			list, err := c.ListPayments(ctx(t), 1176)
			if tc.wantErr {
				if !errors.Is(err, api.ErrIncompleteListing) || !api.IsIncomplete(err) {
					t.Fatalf("got %d payments, err %v; want ErrIncompleteListing", len(list), err)
				}
			} else if err != nil || len(list) != tc.wantN {
				t.Fatalf("got %d payments, err %v; want %d", len(list), err, tc.wantN)
			}
			if n.Load() > tc.maxCalls {
				t.Errorf("%d requests, at most %d expected", n.Load(), tc.maxCalls)
			}
		})
	}
}
