package configs_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/printroom/voucherkiosk/configs"
	"github.com/printroom/voucherkiosk/kiosk/config"
)

// Every config shipped in this directory must parse: a broken example is a
// broken install.
func TestEveryConfigParses(t *testing.T) {
	files, err := filepath.Glob("*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no configs found: %v", err)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c, err := config.Parse(data, f)
			if err != nil {
				t.Fatalf("%v", err)
			}
			if len(c.Acceptors) == 0 || c.Kiosk.MaxTopup == 0 {
				t.Errorf("%s parsed to an empty kiosk: %+v", f, c)
			}
		})
	}
}

func TestEmbeddedMatchDisk(t *testing.T) {
	for name, b := range map[string][]byte{"demo.toml": configs.Demo, "kioskd.toml": configs.Example} {
		disk, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if string(disk) != string(b) {
			t.Errorf("embedded %s differs from the file", name)
		}
	}
	c, err := config.Parse(configs.Demo, "demo.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Kiosk.ID != "demo-kiosk" || c.MyQ.URL != "http://127.0.0.1:8090" {
		t.Errorf("demo config: id %q url %q", c.Kiosk.ID, c.MyQ.URL)
	}
}
