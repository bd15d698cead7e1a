package journal

import (
	"bytes"
	"testing"
)

func TestInspectIsReadOnly(t *testing.T) {
	good := seedJournal(t)
	second := bytes.IndexByte(good, '\n') + 1
	corrupt := append([]byte(nil), good...)
	corrupt[second+10] ^= 0x20
	tests := []struct {
		name      string
		file      []byte
		records   int
		torn, bad bool
	}{
		{"good", good, 11, false, false},
		{"torn", good[:len(good)-4], 10, true, false},
		{"bad middle", corrupt, 1, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewStrictMemFS()
			m.WriteFile("/s/journal", tc.file)
			ops := m.Ops()
			rep, err := Inspect(m, "/s")
			if err != nil {
				t.Fatal(err)
			}
			if m.Ops() != ops || !bytes.Equal(mustRead(t, m, "/s/journal"), tc.file) {
				t.Fatal("inspect changed the file system")
			}
			if len(rep.Records) != tc.records || (rep.Torn != nil) != tc.torn || (rep.Bad != nil) != tc.bad {
				t.Fatalf("report: %d records, torn %+v, bad %v", len(rep.Records), rep.Torn, rep.Bad)
			}
			if tc.bad {
				if rep.Bad.Line != 2 || rep.Bad.Offset != int64(second) {
					t.Errorf("bad at line %d offset %d, want 2/%d", rep.Bad.Line, rep.Bad.Offset, second)
				}
				if !bytes.Contains(rep.Around, corrupt[second:second+20]) || rep.AroundOffset != 0 {
					t.Errorf("around %q at %d does not show the bad line", rep.Around, rep.AroundOffset)
				}
			}
			if tc.torn && rep.Torn.Offset != int64(bytes.LastIndexByte(tc.file, '\n')+1) {
				t.Errorf("torn at %d", rep.Torn.Offset)
			}
		})
	}
	if _, err := Inspect(NewStrictMemFS(), "/none"); err == nil {
		t.Error("inspect of a missing journal succeeded")
	}
}
