package journal

import (
	"bytes"
	"fmt"
	"path/filepath"
)

// Report is what Inspect found in a journal file.
type Report struct {
	Path    string
	Size    int64
	Records []Record // the valid prefix
	Ledger  Snapshot // the valid prefix, folded
	// Torn is set when the file ends in a torn line that Open would cut.
	Torn *TornTail
	// Bad is set when a record before the end is bad (or refused by the
	// ledger): Open refuses to start. Around holds the bytes around it.
	Bad    *ReplayError
	Around []byte
	// AroundOffset is the file offset of Around[0].
	AroundOffset int64
}

// TornTail is a cut-off last line.
type TornTail struct {
	Offset int64 // where the torn line starts (the size Open truncates to)
	Bytes  int64 // how many bytes it has
}

// aroundBytes is how much context Inspect shows each side of a bad line.
const aroundBytes = 120

// Inspect validates the journal in dir without changing anything (it only
// reads; a daemon may be running). The error is for an unreadable file; a
// bad record is reported in Report.Bad.
func Inspect(fsys FS, dir string) (*Report, error) {
	if fsys == nil {
		fsys = OSFS()
	}
	path := filepath.Join(dir, FileName)
	data, err := fsys.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("journal: inspect: %w", err)
	}
	res := scan(data, path)
	rep := &Report{Path: path, Size: int64(len(data)), Records: res.records, Ledger: Snapshot{res.ledger}, Bad: res.bad}
	if res.torn {
		rep.Torn = &TornTail{Offset: res.validEnd, Bytes: int64(len(data)) - res.validEnd}
	}
	if res.bad != nil {
		start := max(0, res.bad.Offset-aroundBytes)
		end := int64(len(data))
		if nl := bytes.IndexByte(data[res.bad.Offset:], '\n'); nl >= 0 {
			end = res.bad.Offset + int64(nl) + 1
		}
		end = min(int64(len(data)), end+aroundBytes)
		rep.Around = data[start:end]
		rep.AroundOffset = start
	}
	return rep, nil
}
