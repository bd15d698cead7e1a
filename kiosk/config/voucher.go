package config

import (
	"regexp"
	"slices"
)

// Voucher is the [voucher] table: MyQ credit vouchers at the kiosk.
type Voucher struct {
	Enabled bool
	// API is "auto" (v3 when MyQ lists the voucher provider, else v2),
	// "v3" or "v2".
	API string
	// Provider is the v3 recharge provider reference; default "voucher".
	Provider string
	// CodeParam overrides the code parameter MyQ's provider list names.
	CodeParam string
	// Pattern: which scanned or typed strings are codes (a regular
	// expression matched against the whole code). Empty: 4 to 64 printable
	// characters.
	Pattern string
}

// VoucherReader is the [voucher_reader] table: a serial barcode scanner
// that sends one line per code. Absent: Port is empty (keyboard-wedge
// scanners and the keypad need no table).
type VoucherReader struct {
	Port string
	Baud int
	// Pattern is a regular expression with one group around the code in
	// the line; empty: the whole line.
	Pattern string
}

var (
	voucherKeys       = []string{"enabled", "api", "provider", "code_param", "pattern"}
	voucherReaderKeys = []string{"port", "baud", "pattern"}
)

func (p *parser) voucher(m map[string]any, v *Voucher) {
	const t = "voucher"
	v.API, v.Provider = "auto", "voucher"
	if m == nil {
		return
	}
	if b, ok := p.boolean(m, t, "enabled"); ok {
		v.Enabled = b
	}
	if s, ok := p.str(m, t, "api", `"auto"`, false); ok {
		if !slices.Contains([]string{"auto", "v3", "v2"}, s) {
			p.add(t+".api", "%q is not a voucher API; write api = \"auto\" (v3 when MyQ lists a voucher provider, else v2), \"v3\" or \"v2\"", s)
		} else {
			v.API = s
		}
	}
	if s, ok := p.str(m, t, "provider", `"voucher"`, false); ok {
		if !validReference(s) {
			p.add(t+".provider", "%q is not a provider reference (letters, digits, . _ -); write e.g. provider = \"voucher\"", s)
		} else {
			v.Provider = s
		}
	}
	if s, ok := p.str(m, t, "code_param", `"code"`, false); ok {
		if !validReference(s) {
			p.add(t+".code_param", "%q is not a parameter name (letters, digits, . _ -); write e.g. code_param = \"code\"", s)
		} else {
			v.CodeParam = s
		}
	}
	if s, ok := p.str(m, t, "pattern", `"^[A-Z0-9-]{8,32}$"`, false); ok {
		if _, err := regexp.Compile(s); err != nil {
			p.add(t+".pattern", "%q is not a regular expression (%v); write e.g. pattern = \"^[A-Z0-9-]{8,32}$\"", s, err)
		} else {
			v.Pattern = s
		}
	}
}

func (p *parser) voucherReader(m map[string]any, r *VoucherReader) {
	const t = "voucher_reader"
	if m == nil {
		return
	}
	r.Port = p.port(m, t)
	r.Baud = p.baud(m, t)
	if s, ok := p.str(m, t, "pattern", `"^V:(.+)$"`, false); ok {
		if re, err := regexp.Compile(s); err != nil {
			p.add(t+".pattern", "%q is not a regular expression (%v); write e.g. pattern = \"^V:(.+)$\"", s, err)
		} else if re.NumSubexp() != 1 {
			p.add(t+".pattern", "%q has %d groups; it needs exactly one, around the code: e.g. pattern = \"^V:(.+)$\"", s, re.NumSubexp())
		} else {
			r.Pattern = s
		}
	}
}

func validReference(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// VoucherPattern compiles Voucher.Pattern anchored to the whole code (nil
// when empty).
func (v Voucher) VoucherPattern() *regexp.Regexp {
	if v.Pattern == "" {
		return nil
	}
	return regexp.MustCompile(`^(?:` + v.Pattern + `)$`)
}
