// Package conformance loads the protocol vectors in testdata/conformance:
// byte-exact facts gathered from vendor documents and independent public
// implementations, each naming its source. Tests of both the drivers and the
// simulators read them, so the two cannot share a misreading again.
//
// Only tests import this package.
package conformance

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Dir is testdata/conformance in this module, found from this file's place.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "conformance")
}

// Load decodes testdata/conformance/<protocol>/vectors.json into v.
func Load(protocol string, v any) error {
	path := filepath.Join(Dir(), protocol, "vectors.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("conformance: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("conformance: %s: %w", path, err)
	}
	return nil
}

// Hex is a byte string written as hex digits (spaces allowed) in the files.
type Hex []byte

// UnmarshalJSON reads "7f 80 01" or "7f8001".
func (h *Hex) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		return fmt.Errorf("conformance: hex %q: %w", s, err)
	}
	*h = d
	return nil
}

// ESSP is testdata/conformance/essp/vectors.json.
type ESSP struct {
	Sources map[string]string `json:"sources"`
	CRC16   []struct {
		Data   Hex    `json:"data"`
		CRC    Hex    `json:"crc"` // low byte first, as on the wire
		Source string `json:"source"`
	} `json:"crc16"`
	Frames []struct {
		Name   string `json:"name"`
		Seq    bool   `json:"seq"`
		ID     byte   `json:"id"`
		Data   Hex    `json:"data"`
		Wire   Hex    `json:"wire"`
		Source string `json:"source"`
	} `json:"frames"`
	KeyEncoding []struct {
		Command Hex    `json:"command"`
		Value   uint64 `json:"value"`
		Bytes   Hex    `json:"bytes"`
	} `json:"key_encoding"`
	KeyLimits struct {
		MaxExclusive          uint64 `json:"max_exclusive"`
		GeneratorBelowModulus bool   `json:"generator_below_modulus"`
	} `json:"key_limits"`
	KeyExchange []struct {
		Generator   uint64 `json:"generator"`
		Modulus     uint64 `json:"modulus"`
		HostSecret  uint64 `json:"host_secret"`
		SlaveSecret uint64 `json:"slave_secret"`
		HostInter   uint64 `json:"host_inter"`
		SlaveInter  uint64 `json:"slave_inter"`
		Key         uint64 `json:"key"`
	} `json:"key_exchange"`
	SlaveRefuses []struct {
		Command Hex    `json:"command"`
		Value   uint64 `json:"value"`
		Reply   Hex    `json:"reply"`
		Why     string `json:"why"`
	} `json:"slave_refuses"`
	Seals []struct {
		FixedKey   string `json:"fixed_key"`
		Negotiated uint64 `json:"negotiated"`
		AESKey     Hex    `json:"aes_key"`
		Count      uint32 `json:"count"`
		Data       Hex    `json:"data"`
		Padding    Hex    `json:"padding"`
		Plain      Hex    `json:"plain"`
		Sealed     Hex    `json:"sealed"`
	} `json:"seals"`
	Counter struct {
		Rule      string `json:"rule"`
		Exchanges []struct {
			CommandCount uint32 `json:"command_count"`
			ReplyCount   uint32 `json:"reply_count"`
		} `json:"exchanges"`
	} `json:"counter"`
	PollWithAck struct {
		Encrypted      bool  `json:"encrypted"`
		RepeatUntilAck []Hex `json:"repeat_until_ack"`
	} `json:"poll_with_ack"`
	EventLengths struct {
		WithChannelByte []Hex `json:"with_channel_byte"`
		NoData          []Hex `json:"no_data"`
	} `json:"event_lengths"`
	EventSequences []struct {
		Name    string     `json:"name"`
		Replies []Hex      `json:"replies"`
		Events  [][]string `json:"events"`
	} `json:"event_sequences"`
	UnknownEvents []struct {
		Reply        Hex      `json:"reply"`
		ParsedPrefix []string `json:"parsed_prefix"`
		Complete     bool     `json:"complete"`
	} `json:"unknown_events"`
}

// CCTalk is testdata/conformance/cctalk/vectors.json.
type CCTalk struct {
	Sources      map[string]string `json:"sources"`
	SimpleFrames []struct {
		Name string `json:"name"`
		Wire Hex    `json:"wire"`
	} `json:"simple_frames"`
	CRC16Frames []struct {
		Name   string `json:"name"`
		Dest   byte   `json:"dest"`
		Header byte   `json:"header"`
		Data   Hex    `json:"data"`
		CRC    Hex    `json:"crc"` // high byte first, as the sources write it
		Wire   Hex    `json:"wire"`
	} `json:"crc16_frames"`
}

// RDM6300 is testdata/conformance/rdm6300/vectors.json.
type RDM6300 struct {
	Sources map[string]string `json:"sources"`
	Frames  []struct {
		Name   string `json:"name"`
		Wire   Hex    `json:"wire"`
		ID     string `json:"id"`
		Number uint64 `json:"number"`
		Valid  bool   `json:"valid"`
	} `json:"frames"`
}

// Pulse is testdata/conformance/pulse/vectors.json: what bridges send.
type Pulse struct {
	Sources map[string]string `json:"sources"`
	Streams []struct {
		Encoding string   `json:"encoding"`
		Name     string   `json:"name"`
		Bytes    Hex      `json:"bytes"`
		Coins    []int    `json:"coins"`
		Text     []string `json:"text"`
	} `json:"streams"`
}
