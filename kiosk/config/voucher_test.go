package config

import (
	"errors"
	"strings"
	"testing"
)

func TestVoucherTables(t *testing.T) {
	c := mustParse(t, base)
	if c.Voucher.Enabled || c.Voucher.API != "auto" || c.Voucher.Provider != "voucher" || c.VoucherReader.Port != "" {
		t.Errorf("defaults: %+v %+v", c.Voucher, c.VoucherReader)
	}
	c = mustParse(t, base+`
[voucher]
enabled = true
api = "v2"
provider = "vouchers"
code_param = "voucherCode"
pattern = "[A-Z0-9]{4}(-[A-Z0-9]{4}){2}"

[voucher_reader]
port = "/dev/ttyACM0"
baud = 115200
pattern = "^V:(.+)$"
`)
	v := c.Voucher
	if !v.Enabled || v.API != "v2" || v.Provider != "vouchers" || v.CodeParam != "voucherCode" {
		t.Errorf("voucher = %+v", v)
	}
	re := v.VoucherPattern()
	if !re.MatchString("MYQ5-7Q3K-4821") || re.MatchString("xMYQ5-7Q3K-4821") {
		t.Error("pattern is not anchored to the whole code")
	}
	if r := c.VoucherReader; r.Port != "/dev/ttyACM0" || r.Baud != 115200 || r.Pattern != "^V:(.+)$" {
		t.Errorf("reader = %+v", r)
	}
	for src, want := range map[string]string{
		"[voucher]\napi = \"v4\"":                                     "[voucher] api",
		"[voucher]\npattern = \"[\"":                                  "[voucher] pattern",
		"[voucher]\nprovider = \"a/b\"":                               "[voucher] provider",
		"[voucher]\nsecret = 1":                                       "secret",
		"[voucher_reader]\nport = \"ttyACM0\"":                        "[voucher_reader] port",
		"[voucher_reader]\nport = \"/dev/x\"\npattern = \"^(a)(b)$\"": "[voucher_reader] pattern",
	} {
		_, err := Parse([]byte(base+"\n"+src+"\n"), "k.toml")
		var ps Problems
		if !errors.As(err, &ps) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want a problem naming %s", src, err, want)
		}
	}
}
