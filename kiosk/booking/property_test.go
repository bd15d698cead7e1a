package booking

import (
	"flag"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/printroom/voucherkiosk/api/myqfake"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// TestPropertyExactlyOnce: random interleavings of finished sessions,
// faults (MyQ down, refused connections, lost answers, expired tokens, the
// provider switched off), restarts of the Booker over a reopened journal and
// every reading of the uncertain API. With the faults healed and a final
// flush, MyQ holds exactly the money finished, no reference twice, nothing
// left pending.
func TestPropertyExactlyOnce(t *testing.T) {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if !set {
		flag.Set("rapid.checks", "12") // each check runs a real fake and journal
	}
	rapid.Check(t, func(rt *rapid.T) {
		var fs journal.FS
		if rapid.Bool().Draw(rt, "memfs") {
			fs = journal.NewStrictMemFS()
		}
		r := newRig(t, rigOpt{fs: fs, timeout: time.Second})
		variants[rapid.IntRange(0, len(variants)-1).Draw(rt, "variant")].apply(r.fake)
		r.start()
		defer r.stop()
		down, refuse, disabled := false, false, false
		steps := rapid.IntRange(5, 40).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			switch rapid.IntRange(0, 9).Draw(rt, "action") {
			case 0, 1, 2, 3:
				r.book(rapid.Int64Range(1, numUsers).Draw(rt, "user"), rapid.Int64Range(1, 5000).Draw(rt, "amount"))
			case 4:
				down = !down
				r.fake.SetDown(down)
			case 5:
				r.fake.DropAnswer(myqfake.Route(rapid.SampledFrom([]myqfake.Route{myqfake.RouteCreate, myqfake.RouteCommit, myqfake.RouteList}).Draw(rt, "route")), rapid.IntRange(1, 3).Draw(rt, "n"))
			case 6:
				r.fake.ExpireTokens()
			case 7:
				disabled = !disabled
				r.fake.SetProviderEnabled(!disabled)
			case 8:
				r.restart()
			case 9:
				if rapid.Bool().Draw(rt, "refuse") {
					refuse = !refuse
					r.fake.SetRefuse(refuse)
				}
				time.Sleep(time.Duration(rapid.IntRange(0, 30).Draw(rt, "sleep ms")) * time.Millisecond)
			}
		}
		r.fake.SetDown(false)
		r.fake.SetRefuse(false)
		r.fake.SetProviderEnabled(true)
		for _, rt := range []myqfake.Route{myqfake.RouteCreate, myqfake.RouteCommit, myqfake.RouteList} {
			r.fake.DropAnswer(rt, 0)
		}
		if rapid.Bool().Draw(rt, "restart before the final flush") {
			r.restart()
		}
		r.settle()
		if st := r.b.Status(); st.Pending != 0 || st.NeedsAttention != 0 {
			rt.Fatalf("status after settle %+v", st)
		}
	})
}
