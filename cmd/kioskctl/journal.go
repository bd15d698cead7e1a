package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk/control"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

func init() { addCommand(newJournalCmd) }

func newJournalCmd(e *env) *cobra.Command {
	g := newGroup("journal", "inspect the money journal read-only (journal inspect)")
	var o journalOptions
	c := &cobra.Command{
		Use:   "inspect [--records] [--json] [STATE_DIR]",
		Short: "check and summarise the money journal, read-only",
		Long: `Reads the kiosk's journal (STATE_DIR/journal) READ-ONLY, so it is safe while kioskd
runs: it never truncates or writes. Every line's checksum and meaning is
validated, and a summary is printed: records, open sessions, pending sessions
with their payment ids and attention reasons, unclaimed cash, the cash since
the last cash-up, and device counters. A bad record is shown with its line
number, byte offset and the bytes around it; kioskd refuses to start on it.
A torn last line (power cut) is reported; kioskd cuts it at start.`,
		Example: `  sudo kioskctl journal inspect /var/lib/kioskd
  sudo kioskctl journal inspect --records --json`,
		Args: cobra.MaximumNArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveFilterDirs
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if cmd.Flags().Changed("state-dir") && args[0] != o.dir {
					return fmt.Errorf("%w: give the state directory either as STATE_DIR or with --state-dir, not both", errUsage)
				}
				o.dir = args[0]
			}
			return runJournalInspect(cmd.Context(), e, o)
		},
	}
	c.Flags().StringVar(&o.dir, "state-dir", journalStateDir(), "the state `DIR` (default $STATE_DIRECTORY, else /var/lib/kioskd)")
	c.Flags().BoolVar(&o.records, "records", false, "also print every record (card numbers masked)")
	c.Flags().BoolVar(&o.json, "json", false, "print the report as JSON")
	_ = c.MarkFlagDirname("state-dir")
	g.AddCommand(withExitCodes(c, `0 the journal is good (a torn last line included), 1 a bad record
or an unreadable journal, 2 wrong usage.`))
	g.AddCommand(daemonCommand(&cobra.Command{
		Use:   "ack-damage",
		Short: "acknowledge the alert for journal bytes kioskd cut at start",
		Long: `kioskd keeps journal bytes it cuts at start (a torn or damaged last line) in
STATE_DIR/journal-damaged-<byte offset> and shows an alert until a technician
acknowledges it. The files are renamed *.acknowledged, never deleted.`,
		Example: "  sudo kioskctl journal ack-damage",
	}, "0 acknowledged, 1 kioskd not running, 2 wrong usage.", func(ctx context.Context, c *control.Client, _ []string) error {
		n, err := c.AckJournalDamage(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%d journal damage alert(s) acknowledged\n", n)
		return nil
	}))
	return g
}

type journalOptions struct {
	dir           string
	records, json bool
}

func journalStateDir() string {
	if d := os.Getenv("STATE_DIRECTORY"); d != "" {
		// systemd may pass several, colon separated; the first is ours.
		return strings.Split(d, ":")[0]
	}
	return "/var/lib/kioskd"
}

func runJournalInspect(_ context.Context, e *env, o journalOptions) error {
	rep, err := journal.Inspect(journal.OSFS(), o.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no journal in %s (give the state directory with --state-dir): %w", o.dir, err)
	}
	if err != nil {
		return fmt.Errorf("read the journal in %s: %w", o.dir, err)
	}
	if o.json {
		err = printJournalJSON(e.stdout, rep, o.records)
	} else {
		printJournalReport(e.stdout, rep, o.records)
	}
	if err != nil {
		return err
	}
	if rep.Bad != nil {
		return &exitError{code: 1, err: fmt.Errorf("bad record at line %d (byte offset %d) of %s", rep.Bad.Line, rep.Bad.Offset, rep.Path)}
	}
	return nil
}

// journalCardField finds card numbers in raw journal bytes.
var journalCardField = regexp.MustCompile(`"card"\s*:\s*"([^"\\]*)"`)

// journalMaskRaw masks every card number in raw journal bytes shown around
// a bad record.
func journalMaskRaw(b []byte) string {
	return journalCardField.ReplaceAllStringFunc(string(b), func(m string) string {
		sub := journalCardField.FindStringSubmatch(m)
		return `"card":"` + devices.MaskCard(sub[1]) + `"`
	})
}

// journalMaskedData renders a record's data with every card number masked.
func journalMaskedData(r journal.Record) json.RawMessage {
	if len(r.Data) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(r.Data, &m); err != nil {
		return r.Data
	}
	if c, ok := m["card"].(string); ok {
		m["card"] = devices.MaskCard(c)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return r.Data
	}
	return b
}

func jmoney(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// userLabel is a MyQ user id, or says it is not known yet (0).
func userLabel(id int64) string {
	if id == 0 {
		return "user not yet known"
	}
	return fmt.Sprintf("user %d", id)
}

func countOrNone(n int) string {
	if n == 0 {
		return "none"
	}
	return fmt.Sprint(n)
}

func printJournalReport(w io.Writer, rep *journal.Report, records bool) {
	l := rep.Ledger
	fmt.Fprintf(w, "journal %s: %d bytes, %d valid records\n", rep.Path, rep.Size, len(rep.Records))
	if rep.Torn != nil {
		fmt.Fprintf(w, "torn last line at byte offset %d (%d bytes): kioskd cuts it at start (a power cut during a write)\n",
			rep.Torn.Offset, rep.Torn.Bytes)
	}
	if rep.Bad != nil {
		fmt.Fprintf(w, "\nBAD RECORD at line %d, byte offset %d: %v\n", rep.Bad.Line, rep.Bad.Offset, rep.Bad.Err)
		fmt.Fprintf(w, "kioskd will not start until this is repaired. Bytes around it (from offset %d):\n%q\n",
			rep.AroundOffset, journalMaskRaw(rep.Around))
		fmt.Fprintln(w, "The summary below covers the records before it.")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	open := l.OpenSessions()
	fmt.Fprintf(tw, "\nOpen sessions: %s\n", countOrNone(len(open)))
	if len(open) > 0 {
		fmt.Fprintln(tw, "  SESSION\tCARD\tUSER\tAMOUNT\tOPENED")
	}
	for _, s := range open {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", s.ID, devices.MaskCard(s.Open.Card), userLabel(s.Open.UserID), jmoney(s.Total), s.Opened.Format(time.RFC3339))
	}
	pending := l.Pending()
	fmt.Fprintf(tw, "\nPending sessions (to be booked): %s\n", countOrNone(len(pending)))
	if len(pending) > 0 {
		fmt.Fprintln(tw, "  SESSION\tREFERENCE\tAMOUNT\tUSER\tPAYMENT\tSTATE")
	}
	for _, p := range pending {
		pid, state := p.PaymentID, "pending"
		if pid == "" {
			pid = "-"
		}
		if p.Attention != "" {
			state = "NEEDS ATTENTION: " + p.Attention
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Finish.Reference, jmoney(p.Finish.Total), userLabel(p.UserID), pid, state)
	}
	un := l.Unclaimed()
	fmt.Fprintf(tw, "\nUnclaimed cash: %s\n", countOrNone(len(un)))
	if len(un) > 0 {
		fmt.Fprintln(tw, "  SEQ\tDEVICE:KEY\tAMOUNT\tTAKEN")
	}
	for _, u := range un {
		fmt.Fprintf(tw, "  %d\t%s:%s\t%s\t%s\n", u.Seq, u.Credit.Device, u.Credit.Key, jmoney(u.Credit.Amount), u.At.Format(time.RFC3339))
	}
	if notes := l.PendingNotes(); len(notes) > 0 {
		fmt.Fprintf(tw, "\nNotes in escrow, not yet stacked or returned: %d\n", len(notes))
		for _, n := range notes {
			fmt.Fprintf(tw, "  %s\tnote %s\t%s\tsession %q\n", n.Device, n.NoteID, jmoney(n.Amount), n.Session)
		}
	}
	c := l.Cash()
	fmt.Fprintf(tw, "\nCash since the last cash-up:\n")
	fmt.Fprintf(tw, "  accepted\t%s\n  committed\t%s\n  pending\t%s\n  in session\t%s\n  unclaimed\t%s\n  unrecognised\t%d event(s)\n",
		jmoney(c.Accepted), jmoney(c.Committed), jmoney(c.Pending), jmoney(c.InSession), jmoney(c.Unclaimed), c.Unrecognised)
	keys := make([]string, 0, len(c.Pieces))
	for k := range c.Pieces {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(tw, "  %s\t%d piece(s)\n", k, c.Pieces[k])
	}
	if v := l.Vouchers(); v.Count > 0 || v.Owed > 0 || len(l.OpenVouchers()) > 0 {
		fmt.Fprintf(tw, "\nVouchers since the last cash-up (not cash): %d, %s committed, %s owed, %d open\n",
			v.Count, jmoney(v.Committed), jmoney(v.Owed), len(l.OpenVouchers()))
	}
	counters := l.Counters()
	if len(counters) == 0 {
		fmt.Fprintln(tw, "\nDevice counters: none yet (no device has reported an event counter)")
	} else {
		fmt.Fprintln(tw, "\nDevice counters (each device's last event counter):")
	}
	devs := make([]string, 0, len(counters))
	for d := range counters {
		devs = append(devs, d)
	}
	sort.Strings(devs)
	for _, d := range devs {
		fmt.Fprintf(tw, "  %s\t%d\n", d, counters[d])
	}
	if com := l.Committed(10); len(com) > 0 {
		fmt.Fprintf(tw, "\nRecently committed:\n")
		fmt.Fprintln(tw, "  COMMITTED\tREFERENCE\tAMOUNT\tPAYMENT")
		for _, s := range com {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", s.At.Format(time.RFC3339), s.Reference, jmoney(s.Amount), s.PaymentID)
		}
	}
	if records {
		fmt.Fprintf(tw, "\nRecords:\n")
		fmt.Fprintln(tw, "  SEQ\tTIME\tKIND\tSESSION\tDATA")
		for _, r := range rep.Records {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\n", r.Seq, r.Time.Format(time.RFC3339), r.Kind, r.Session, journalMaskedData(r))
		}
	}
	tw.Flush()
}

type journalJSONRecord struct {
	Seq     uint64          `json:"seq"`
	Time    time.Time       `json:"time"`
	Kind    journal.Kind    `json:"kind"`
	Session string          `json:"session,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

type journalJSONReport struct {
	Path      string                     `json:"path"`
	Size      int64                      `json:"size"`
	Records   int                        `json:"records"`
	Torn      *journal.TornTail          `json:"torn,omitempty"`
	Bad       *journalJSONBad            `json:"bad,omitempty"`
	Open      []journalJSONOpen          `json:"open_sessions"`
	Pending   []journal.PendingSession   `json:"pending"`
	Unclaimed []journal.UnclaimedCash    `json:"unclaimed"`
	Notes     []journal.NoteEscrow       `json:"notes_in_escrow"`
	Cash      journal.CashTotals         `json:"cash"`
	Counters  map[string]int             `json:"counters"`
	Committed []journal.CommittedSession `json:"recently_committed"`
	List      []journalJSONRecord        `json:"record_list,omitempty"`
}

type journalJSONBad struct {
	Line         int    `json:"line"`
	Offset       int64  `json:"offset"`
	Error        string `json:"error"`
	Around       string `json:"around"`
	AroundOffset int64  `json:"around_offset"`
}

type journalJSONOpen struct {
	ID     string    `json:"id"`
	Card   string    `json:"card"`
	UserID int64     `json:"user_id"`
	Total  int64     `json:"total"`
	Opened time.Time `json:"opened"`
}

func printJournalJSON(w io.Writer, rep *journal.Report, records bool) error {
	l := rep.Ledger
	out := journalJSONReport{Path: rep.Path, Size: rep.Size, Records: len(rep.Records), Torn: rep.Torn,
		Pending: l.Pending(), Unclaimed: l.Unclaimed(), Notes: l.PendingNotes(), Cash: l.Cash(),
		Counters: l.Counters(), Committed: l.Committed(10)}
	for i := range out.Pending {
		out.Pending[i].Finish.Card = devices.MaskCard(out.Pending[i].Finish.Card)
	}
	for _, s := range l.OpenSessions() {
		out.Open = append(out.Open, journalJSONOpen{ID: s.ID, Card: devices.MaskCard(s.Open.Card), UserID: s.Open.UserID, Total: s.Total, Opened: s.Opened})
	}
	if rep.Bad != nil {
		out.Bad = &journalJSONBad{Line: rep.Bad.Line, Offset: rep.Bad.Offset, Error: rep.Bad.Err.Error(), Around: journalMaskRaw(rep.Around), AroundOffset: rep.AroundOffset}
	}
	if records {
		for _, r := range rep.Records {
			out.List = append(out.List, journalJSONRecord{Seq: r.Seq, Time: r.Time, Kind: r.Kind, Session: r.Session, Data: journalMaskedData(r)})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return errors.Join(errors.New("write report"), err)
	}
	return nil
}
