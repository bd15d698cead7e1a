package journal

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
)

// Issue 11 item 4: never lose journal bytes without a copy. A complete last
// line (it ends in a newline) whose checksum fails is damage, not a torn
// write: its bytes are kept in "journal-damaged-<offset>" and an alert
// stays until a technician acknowledges it. A torn tail is still cut, and
// its bytes are kept the same way.
func TestDamagedLastLineIsKeptAndAlerted(t *testing.T) {
	for _, tc := range []struct {
		name    string
		spoil   func(full []byte, lastStart int) []byte
		damaged bool
	}{
		{"complete line, bad checksum", func(full []byte, _ int) []byte {
			b := bytes.Clone(full)
			b[len(b)-3] ^= 1
			return b
		}, true},
		{"torn: no newline", func(full []byte, lastStart int) []byte { return bytes.Clone(full[:lastStart+7]) }, false},
		{"torn: zeros after the last newline", func(full []byte, lastStart int) []byte {
			return append(bytes.Clone(full[:lastStart]), make([]byte, 64)...)
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := NewStrictMemFS()
			j := mustOpen(t, Options{FS: fs, Dir: "/state"})
			for _, r := range []Record{rOpen("a", 1), rCredit("a", "c", "1", 100, 0), rCredit("a", "c", "1", 100, 0)} {
				if _, err := j.Append(r); err != nil {
					t.Fatal(err)
				}
			}
			j.Close()
			path := filepath.Join("/state", FileName)
			full, _ := fs.ReadFile(path)
			lastStart := bytes.LastIndexByte(full[:len(full)-1], '\n') + 1
			spoilt := tc.spoil(full, lastStart)
			fs.WriteFile(path, spoilt)

			j = mustOpen(t, Options{FS: fs, Dir: "/state"})
			if n := len(j.Records()); n != 2 {
				t.Fatalf("%d records, want 2", n)
			}
			dmg := j.Damage()
			if len(dmg) != 1 || dmg[0].Offset != int64(lastStart) || dmg[0].Torn == tc.damaged {
				t.Fatalf("damage %+v, want one at offset %d (torn=%v)", dmg, lastStart, !tc.damaged)
			}
			name := filepath.Join("/state", fmt.Sprintf("journal-damaged-%d", lastStart))
			fs.Crash() // the copy is durable before the journal is cut
			kept, ok := fs.Durable(name)
			if !ok || !bytes.Equal(kept, spoilt[lastStart:]) {
				t.Fatalf("%s holds %q (present %v), want the cut bytes %q", name, kept, ok, spoilt[lastStart:])
			}
			j.Close()
			j = mustOpen(t, Options{FS: fs, Dir: "/state"})
			if len(j.Damage()) != 1 {
				t.Fatalf("the alert did not survive a restart: %+v", j.Damage())
			}
			if n, err := j.AckDamage(); err != nil || n != 1 {
				t.Fatalf("ack: %d, %v", n, err)
			}
			if len(j.Damage()) != 0 {
				t.Fatal("alert still there after the acknowledgement")
			}
			j.Close()
			j = mustOpen(t, Options{FS: fs, Dir: "/state"})
			defer j.Close()
			if len(j.Damage()) != 0 {
				t.Fatal("acknowledged damage came back after a restart")
			}
			found := false
			for _, n := range fs.Names() {
				if b, _ := fs.ReadFile(n); bytes.Equal(b, spoilt[lastStart:]) && n != name {
					found = true
				}
			}
			if !found {
				t.Fatalf("the bytes were dropped at the acknowledgement: %v", fs.Names())
			}
		})
	}
}
