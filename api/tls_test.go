package api_test

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
)

// TestCAFileIsTrustedAlone: with ca_file set, a server whose certificate
// the system roots trust is refused. The "system" CA is put in place with
// SSL_CERT_FILE, which Go reads once per process: the checks run in a child
// test process.
func TestCAFileIsTrustedAlone(t *testing.T) {
	if os.Getenv("MYQ_TLS_CHILD_URL") != "" {
		caFileAloneChild(t)
		return
	}
	trusted := myqfake.NewDemo(myqfake.Options{})
	run, err := trusted.Start(true)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	sysCA, err := run.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCAFileIsTrustedAlone$", "-test.v")
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+sysCA, "SSL_CERT_DIR=/nonexistent", "MYQ_TLS_CHILD_URL="+run.URL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}

func caFileAloneChild(t *testing.T) {
	sysURL := os.Getenv("MYQ_TLS_CHILD_URL")
	client := func(url, caFile string) *api.Client {
		c, err := api.New(api.Config{URL: url, ClientID: myqfake.DemoClientID, ClientSecret: myqfake.DemoClientSecret,
			CAFile: caFile, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.CloseIdleConnections)
		return c
	}
	// Without ca_file the system roots decide: the server is trusted, so
	// the environment really makes its CA a system one.
	if _, err := client(sysURL, "").FindUserByCard(ctx(t), "0008844356"); err != nil {
		t.Fatalf("system-trusted server refused without ca_file: %v", err)
	}
	own := setup(t, myqfake.Options{}, nil) // its own CA, through ca_file
	if _, err := own.c.FindUserByCard(ctx(t), "0008844356"); err != nil {
		t.Fatalf("server signed by the ca_file CA refused: %v", err)
	}
	ownCA, err := own.run.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, err = client(sysURL, ownCA).FindUserByCard(ctx(t), "0008844356")
	if err == nil {
		t.Fatal("with ca_file set, a server signed by a system-trusted CA was trusted")
	}
	if api.IsTransient(err) {
		t.Errorf("certificate error classified transient: %v", err)
	}
	t.Logf("refused as it should be: %v", err)
}
