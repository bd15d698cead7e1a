package myqfake

import "time"

// The REST API application the demo and `kioskctl fake-myq` register.
// Not a secret: the fake exists for rehearsals.
const (
	DemoClientID     = "kiosk-demo"
	DemoClientSecret = "demo-secret-not-for-production"
	DemoScope        = "credit users"
)

// DemoUsers is a handful of users with decimal card numbers in the form the
// default transform ("right(8)|hex2dec|lpad(10,0)") produces.
func DemoUsers() []User {
	return []User{
		{ID: 1176, Username: "jdoe", FullName: "Jane Doe", Email: "jdoe@example.edu", Cards: []string{"0008844356"}, Balance: 1250},
		{ID: 1177, Username: "pnovak", FullName: "Petr Novák", Email: "pnovak@example.edu", Cards: []string{"0012345678"}, Balance: 0},
		{ID: 1178, Username: "amueller", FullName: "Anna Müller", Email: "amueller@example.edu", Cards: []string{"3735928559"}, Balance: 375},
		{ID: 1179, Username: "kseo", FullName: "Kim Seo-yeon", Email: "kseo@example.edu", Cards: []string{"0000000042"}, Balance: -150},
		{ID: 1180, Username: "mgarcia", FullName: "María García", Email: "mgarcia@example.edu", Cards: []string{"0004294967", "0000065535"}, Balance: 10000},
	}
}

// Demo voucher codes the demo's keys scan: one worth 5.00 (more in
// DemoVouchers), one already used.
const (
	DemoVoucherCode     = "DEMO-5-0001"
	DemoUsedVoucherCode = "DEMO-USED-0001"
)

// DemoVouchers is a small printed batch: 5.00 and 10.00 codes valid for a
// year from now, one used and one expired.
func DemoVouchers(now time.Time) []Voucher {
	vs := VoucherBatch("DEMO-5", 5, 500, now.AddDate(1, 0, 0))
	vs = append(vs, VoucherBatch("DEMO-10", 2, 1000, now.AddDate(1, 0, 0))...)
	return append(vs,
		Voucher{Code: DemoUsedVoucherCode, Value: 500, Used: true},
		Voucher{Code: "DEMO-EXPIRED-0001", Value: 500, Expires: now.AddDate(0, 0, -1)},
	)
}

// NewDemo returns a fake with the demo client, DemoUsers and DemoVouchers.
func NewDemo(o Options) *Server {
	s := New(o)
	s.AddClient(DemoClientID, DemoClientSecret, DemoScope)
	for _, u := range DemoUsers() {
		s.AddUser(u)
	}
	s.AddVouchers(DemoVouchers(time.Now())...)
	return s
}
