package config

import (
	"strings"
	"testing"
)

func TestGreetingAndBalance(t *testing.T) {
	c := mustParse(t, base)
	if c.Kiosk.Greeting != GreetingFirst || !c.Kiosk.ShowBalance {
		t.Errorf("defaults: greeting %q show_balance %v, want first and true", c.Kiosk.Greeting, c.Kiosk.ShowBalance)
	}
	c = mustParse(t, strings.Replace(base, `idle_finish = "20s"`, "idle_finish = \"20s\"\ngreeting = \"initials\"\nshow_balance = false", 1))
	if c.Kiosk.Greeting != GreetingInitials || c.Kiosk.ShowBalance {
		t.Errorf("greeting %q show_balance %v, want initials and false", c.Kiosk.Greeting, c.Kiosk.ShowBalance)
	}
	_, err := Parse([]byte(strings.Replace(base, `idle_finish = "20s"`, "idle_finish = \"20s\"\ngreeting = \"surname\"", 1)), "kioskd.toml")
	if err == nil || !strings.Contains(err.Error(), `kioskd.toml:8: [kiosk] greeting: "surname": want "full"`) {
		t.Errorf("bad greeting: %v", err)
	}
}

func TestMonitorRemoteNeedsAllowRemote(t *testing.T) {
	for _, tc := range []struct {
		listen, extra string
		ok            bool
	}{
		{`"127.0.0.1:9464"`, "", true},
		{`"[::1]:9464"`, "", true},
		{`"localhost:9464"`, "", true},
		{`"0.0.0.0:9464"`, "", false},
		{`":9464"`, "", false},
		{`"10.1.2.3:9464"`, "", false},
		{`"10.1.2.3:9464"`, "allow_remote = false", false},
		{`"10.1.2.3:9464"`, "allow_remote = true", true},
	} {
		src := base + "\n[monitor]\nlisten = " + tc.listen + "\n" + tc.extra + "\n"
		c, err := Parse([]byte(src), "kioskd.toml")
		if tc.ok {
			if err != nil || c.Monitor.Listen == "" {
				t.Errorf("listen %s %s: %v", tc.listen, tc.extra, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "allow_remote = true") {
			t.Errorf("listen %s %s: err %v, want a problem naming allow_remote", tc.listen, tc.extra, err)
		}
	}
}
