package myqfake

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

// NewDemo returns a fake with the demo client and DemoUsers.
func NewDemo(o Options) *Server {
	s := New(o)
	s.AddClient(DemoClientID, DemoClientSecret, DemoScope)
	for _, u := range DemoUsers() {
		s.AddUser(u)
	}
	s.AddDemoVouchers()
	return s
}
