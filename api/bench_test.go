package api_test

import (
	"fmt"
	"testing"

	"github.com/printroom/voucherkiosk/api/myqfake"
)

// BenchmarkBooking measures one create+commit round against the fake over
// TLS on loopback, with a warm token and kept-alive connection.
func BenchmarkBooking(b *testing.B) {
	e := setup(b, myqfake.Options{}, nil)
	c := ctx(b)
	if _, err := e.c.Token(c); err != nil {
		b.Fatal(err)
	}
	e.fake.ResetRequests()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p, err := e.c.CreatePayment(c, 1176, fmt.Sprintf("K-bench-%d", i), 150)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.c.CommitPayment(c, p.ID); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	n := e.fake.Requests(myqfake.RouteCreate)
	total := 0
	for r := myqfake.RouteToken; r <= myqfake.RouteUpdate; r++ {
		total += e.fake.Requests(r)
	}
	b.ReportMetric(float64(total)/float64(n), "requests/booking")
	if err := e.fake.Check(); err != nil {
		b.Fatal(err)
	}
}
