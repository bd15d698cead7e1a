package trace

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// maxRecordLine bounds one line of a trace file: a record holds one read or
// write, at most a few hundred bytes.
const maxRecordLine = 64 << 10

// Decode reads a trace file and writes it for people: one line per read or
// write with its time, direction, bytes and meaning. The meaning is decoded
// again from the bytes (so an old trace benefits from a newer decoder);
// records without bytes (card readers) keep the meaning recorded.
func Decode(r io.Reader, w io.Writer) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxRecordLine)
	line := 0
	next := func() ([]byte, bool) {
		if !sc.Scan() {
			return nil, false
		}
		line++
		return sc.Bytes(), true
	}
	b, ok := next()
	if !ok {
		if err := sc.Err(); err != nil {
			return fmt.Errorf("trace: line 1: %w", err)
		}
		return fmt.Errorf("trace: empty file")
	}
	var h Header
	if err := json.Unmarshal(b, &h); err != nil || h.Trace != Magic {
		return fmt.Errorf("trace: line 1: not a %s header", Magic)
	}
	if h.Version != 1 {
		return fmt.Errorf("trace: line 1: version %d; this kioskctl reads version 1", h.Version)
	}
	dec, err := NewDecoders(h.Protocol, h.Revealed)
	if err != nil {
		return fmt.Errorf("trace: line 1: %w", err)
	}
	fmt.Fprintf(w, "trace of %s on %s, started %s\n", h.Protocol, h.Port, h.Started.Format("2006-01-02 15:04:05.000 MST"))
	var first bool = true
	var t0 = h.Started
	for {
		b, ok := next()
		if !ok {
			break
		}
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			return fmt.Errorf("trace: line %d: %v", line, err)
		}
		if rec.Dir != In && rec.Dir != Out {
			return fmt.Errorf("trace: line %d: direction %q is neither in nor out", line, rec.Dir)
		}
		if first {
			first = false
			if t0.IsZero() {
				t0 = rec.T
			}
		}
		notes := rec.Note
		shown := "(bytes not recorded)"
		if rec.Hex != "" {
			raw, err := hex.DecodeString(rec.Hex)
			if err != nil {
				return fmt.Errorf("trace: line %d: hex: %v", line, err)
			}
			if len(raw) != rec.N {
				return fmt.Errorf("trace: line %d: %d bytes recorded, n says %d", line, len(raw), rec.N)
			}
			notes = dec[rec.Dir].Feed(raw)
			shown = fmt.Sprintf("% X", raw)
		}
		arrow := "<-"
		if rec.Dir == Out {
			arrow = "->"
		}
		fmt.Fprintf(w, "%s +%9.3fs %s %s\n", rec.T.Format("15:04:05.000000"), rec.T.Sub(t0).Seconds(), arrow, shown)
		for _, n := range notes {
			fmt.Fprintf(w, "%33s %s\n", "", n)
		}
		if rec.Err != "" {
			fmt.Fprintf(w, "%33s error: %s\n", "", strings.TrimSpace(rec.Err))
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("trace: line %d: %w", line+1, err)
	}
	return nil
}
