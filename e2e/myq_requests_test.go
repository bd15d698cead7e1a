package e2e

import (
	"testing"

	"github.com/printroom/voucherkiosk/api/myqfake"
)

// One top-up through the real binary costs three MyQ requests once the
// token is warm: the lookup (which brings the balance), create and commit.
// The receipt's new balance is the lookup's plus the amount, asked for
// nothing more.
func TestTopUpCostsThreeRequests(t *testing.T) {
	t.Parallel()
	k := newKiosk(t, Options{Pulse: true})
	k.StartAndWaitIdle()
	// Two users: the reader ignores the same card tapped again at once.
	topUp := func(u myqfake.User, amount int64) {
		t.Helper()
		before := int64(u.Balance)
		greet(t, k, u)
		k.Coin(amount)
		k.WaitTotal(amount)
		k.SendKeys("Enter")
		k.WaitCredited(amount, "New balance: "+Money(before+amount))
		k.SendKeys("Enter")
		k.WaitScreen("Tap your card")
	}
	users := Users()
	topUp(users[0], 50) // warms the token
	k.WaitBooked(map[int64]int64{users[0].ID: 50})
	k.Fake.ResetRequests()
	topUp(users[1], 100)
	k.WaitBooked(map[int64]int64{users[0].ID: 50, users[1].ID: 100})
	counts := map[myqfake.Route]int{}
	total := 0
	for r := myqfake.RouteUnknown; r <= myqfake.RouteVoucherCommit; r++ {
		if n := k.Fake.Requests(r); n > 0 {
			counts[r] = n
			total += n
		}
	}
	if total != 3 || counts[myqfake.RouteFindUser] != 1 || counts[myqfake.RouteCreate] != 1 || counts[myqfake.RouteCommit] != 1 {
		t.Fatalf("one top-up cost %d requests %v; want 3: find, create, commit", total, counts)
	}
	t.Logf("requests per top-up: %d %v", total, counts)
}

// A card of an inactive MyQ account says so, and books nothing.
func TestInactiveAccountCard(t *testing.T) {
	t.Parallel()
	k := newKiosk(t, Options{Pulse: true})
	k.Fake.AddUser(myqfake.User{ID: 199, Username: "left", FullName: "Former Student", Cards: []string{"0011223344"}, Inactive: true})
	k.StartAndWaitIdle()
	k.Tap("0011223344")
	k.WaitScreen("this account is not active", "Ask the staff.")
	k.SendKeys("Enter")
	k.WaitScreen("Tap your card")
	if n := k.Fake.Requests(myqfake.RouteCreate); n != 0 {
		t.Fatalf("%d payment requests for an inactive account", n)
	}
}
