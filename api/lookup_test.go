package api_test

import (
	"errors"
	"testing"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
)

// The balance comes with the lookup (include=accounts, documented for
// /v3/users/find): one request greets the student with their balance.
func TestFindUserIncludesAccounts(t *testing.T) {
	e := setup(t, myqfake.Options{}, nil)
	e.fake.ResetRequests()
	u, err := e.c.FindUserByCard(ctx(t), "0008844356")
	if err != nil || u.ID != 1176 {
		t.Fatal(u, err)
	}
	if u.Balance == nil || *u.Balance != 1250 {
		t.Errorf("balance with the lookup = %v, want 12.50", u.Balance)
	}
	if n := e.fake.Requests(myqfake.RouteFindUser); n != 1 {
		t.Errorf("%d find requests, want 1", n)
	}
	if n := e.fake.Requests(myqfake.RouteAccounts) + e.fake.Requests(myqfake.RouteBalance); n != 0 {
		t.Errorf("%d balance requests, want 0", n)
	}
}

// UNCERTAIN: a MyQ without include=accounts ignores it, or (its rule for
// unsupported filters) finds nobody. Either way the user is found, and the
// second kind is learnt: later lookups cost one request again.
func TestFindUserWithoutInclude(t *testing.T) {
	t.Run("ignored", func(t *testing.T) {
		e := setup(t, myqfake.Options{}, nil)
		e.fake.SetInclude(myqfake.IncludeIgnored)
		e.fake.ResetRequests()
		u, err := e.c.FindUserByCard(ctx(t), "0008844356")
		if err != nil || u.ID != 1176 || u.Balance != nil {
			t.Fatalf("%+v %v; want user 1176 without balance", u, err)
		}
		if n := e.fake.Requests(myqfake.RouteFindUser); n != 1 {
			t.Errorf("%d find requests, want 1", n)
		}
	})
	t.Run("empties", func(t *testing.T) {
		e := setup(t, myqfake.Options{}, nil)
		e.fake.SetInclude(myqfake.IncludeEmpties)
		e.fake.ResetRequests()
		u, err := e.c.FindUserByCard(ctx(t), "0008844356")
		if err != nil || u.ID != 1176 {
			t.Fatalf("%+v %v; want user 1176", u, err)
		}
		if n := e.fake.Requests(myqfake.RouteFindUser); n != 2 {
			t.Errorf("%d find requests, want 2 (with include, then without)", n)
		}
		e.fake.ResetRequests()
		if u, err := e.c.FindUserByCard(ctx(t), "0012345678"); err != nil || u.ID != 1177 {
			t.Fatalf("%+v %v; want user 1177", u, err)
		}
		if n := e.fake.Requests(myqfake.RouteFindUser); n != 1 {
			t.Errorf("after learning: %d find requests, want 1", n)
		}
		if _, err := e.c.FindUserByCard(ctx(t), "0000999999"); !errors.Is(err, api.ErrUserNotFound) {
			t.Errorf("unknown card: %v", err)
		}
	})
}

// The documented /accounts/{reference}/balance answers {"amount":…}; where
// it is missing, /accounts is asked, and the missing endpoint is not asked
// again.
func TestBalanceEndpoints(t *testing.T) {
	e := setup(t, myqfake.Options{}, nil)
	e.fake.ResetRequests()
	bal, known, err := e.c.Balance(ctx(t), 1179)
	if err != nil || !known || bal != -150 {
		t.Fatalf("Balance = %s,%v,%v", bal, known, err)
	}
	if b, a := e.fake.Requests(myqfake.RouteBalance), e.fake.Requests(myqfake.RouteAccounts); b != 1 || a != 0 {
		t.Errorf("balance %d accounts %d requests, want 1 and 0", b, a)
	}
	e.fake.SetBalanceEndpoint(false)
	e.fake.ResetRequests()
	for range 2 {
		if bal, known, err := e.c.Balance(ctx(t), 1176); err != nil || !known || bal != 1250 {
			t.Fatalf("fallback Balance = %s,%v,%v", bal, known, err)
		}
	}
	if b, a := e.fake.Requests(myqfake.RouteBalance), e.fake.Requests(myqfake.RouteAccounts); b != 1 || a != 2 {
		t.Errorf("balance %d accounts %d requests, want 1 and 2", b, a)
	}
	// An unknown user does not teach the client that the endpoint is missing.
	e2 := setup(t, myqfake.Options{}, nil)
	if _, known, err := e2.c.Balance(ctx(t), 999); known || err != nil {
		t.Errorf("unknown user: known=%v err=%v", known, err)
	}
	e2.fake.ResetRequests()
	e2.c.Balance(ctx(t), 1176)
	if n := e2.fake.Requests(myqfake.RouteBalance); n != 1 {
		t.Errorf("after an unknown user, %d balance requests, want 1", n)
	}
}

// isActive defaults to 1: an inactive user's card is not found by the
// lookup. One extra lookup, for cards not found, tells the two apart.
func TestInactiveUser(t *testing.T) {
	for _, filter := range []bool{true, false} {
		name := "filter"
		if !filter {
			name = "no-filter"
		}
		t.Run(name, func(t *testing.T) {
			e := setup(t, myqfake.Options{}, nil)
			e.fake.SetActiveFilter(filter)
			e.fake.AddUser(myqfake.User{ID: 3001, Username: "gone", FullName: "Left Long Ago", Cards: []string{"0000031337"}, Inactive: true})
			if _, err := e.c.FindUserByCard(ctx(t), "0008844356"); err != nil {
				t.Fatal(err)
			}
			e.fake.ResetRequests()
			_, err := e.c.FindUserByCard(ctx(t), "0000031337")
			if !errors.Is(err, api.ErrUserInactive) || !api.IsPermanent(err) || errors.Is(err, api.ErrUserNotFound) {
				t.Fatalf("inactive user's card: %v; want ErrUserInactive", err)
			}
			want := 2
			if !filter {
				want = 1 // MyQ says isActive with the user
			}
			if n := e.fake.Requests(myqfake.RouteFindUser); n != want {
				t.Errorf("%d find requests, want %d", n, want)
			}
			e.fake.ResetRequests()
			if _, err := e.c.FindUserByCard(ctx(t), "0000999999"); !errors.Is(err, api.ErrUserNotFound) || errors.Is(err, api.ErrUserInactive) {
				t.Errorf("unknown card: %v", err)
			}
			e.fake.ResetRequests()
			if u, err := e.c.FindUserByCard(ctx(t), "0008844356"); err != nil || u.ID != 1176 {
				t.Errorf("active user: %+v %v", u, err)
			}
			if n := e.fake.Requests(myqfake.RouteFindUser); n != 1 {
				t.Errorf("found card: %d find requests, want 1 (no extra lookup)", n)
			}
		})
	}
}

// TestRequestsPerTopUp counts what one top-up costs against the fake with a
// warm token: find (with the balance), create, commit. The receipt's new
// balance is the balance before plus the amount, with no request.
func TestRequestsPerTopUp(t *testing.T) {
	e := setup(t, myqfake.Options{}, nil)
	c := ctx(t)
	if _, err := e.c.Token(c); err != nil {
		t.Fatal(err)
	}
	e.fake.ResetRequests()
	u, err := e.c.FindUserByCard(c, "0008844356")
	if err != nil || u.Balance == nil {
		t.Fatal(u, err)
	}
	p, err := e.c.CreatePayment(c, u.ID, "K-count-1", 250)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.CommitPayment(c, p.ID); err != nil {
		t.Fatal(err)
	}
	total := 0
	for r := myqfake.RouteUnknown; r <= myqfake.RouteBalance; r++ {
		total += e.fake.Requests(r)
	}
	if total != 3 {
		t.Errorf("%d requests per top-up, want 3 (find, create, commit)", total)
	}
	if after := *u.Balance + 250; after != e.fake.Balance(1176) {
		t.Errorf("before+amount %s, MyQ holds %s", after, e.fake.Balance(1176))
	}
	t.Logf("requests per top-up: %d", total)
}
