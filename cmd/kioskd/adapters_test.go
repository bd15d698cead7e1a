package main

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
	"github.com/printroom/voucherkiosk/kiosk"
)

// The card lookup brings the balance along (no Balance request for the
// greeting), and an inactive account is told apart from an unknown card.
func TestDirectoryAgainstFakeMyQ(t *testing.T) {
	fake := myqfake.NewDemo(myqfake.Options{})
	fake.AddUser(myqfake.User{ID: 3001, Username: "gone", Cards: []string{"0000031337"}, Inactive: true})
	run, err := fake.Start(true)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	ca, err := run.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c, err := api.New(api.Config{URL: run.URL, ClientID: myqfake.DemoClientID, ClientSecret: myqfake.DemoClientSecret,
		CAFile: ca, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Token(ctx); err != nil {
		t.Fatal(err)
	}
	dir := &directory{client: c, log: slog.New(slog.DiscardHandler)}
	fake.ResetRequests()
	u, err := dir.FindUserByCard(ctx, "0008844356")
	if err != nil || u.ID != 1176 || u.Balance == nil || *u.Balance != 1250 {
		t.Fatalf("lookup: %+v %v; want user 1176 with balance 1250", u, err)
	}
	if n := fake.Requests(myqfake.RouteFindUser); n != 1 {
		t.Errorf("%d find requests", n)
	}
	if n := fake.Requests(myqfake.RouteBalance) + fake.Requests(myqfake.RouteAccounts); n != 0 {
		t.Errorf("%d balance requests for the greeting, want 0", n)
	}
	if _, err := dir.FindUserByCard(ctx, "0000031337"); !errors.Is(err, kiosk.ErrInactive) {
		t.Errorf("inactive account: %v, want kiosk.ErrInactive", err)
	}
	if _, err := dir.FindUserByCard(ctx, "0000999999"); !errors.Is(err, kiosk.ErrNotRegistered) {
		t.Errorf("unknown card: %v, want kiosk.ErrNotRegistered", err)
	}
}
