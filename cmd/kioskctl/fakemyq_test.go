package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
)

// syncBuffer lets the test read what the running command printed.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestFakeMyQServesUsersFileOverTLS(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users.toml")
	os.WriteFile(users, []byte(`
[[user]]
id = 42
username = "tester"
full_name = "Test Person"
cards = ["0000001234"]
balance = "3.25"
`), 0o644)
	ca := filepath.Join(dir, "ca.pem")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, &env{stdout: out, stderr: io.Discard, stdin: strings.NewReader("")},
			[]string{"fake-myq", "--listen", "127.0.0.1:0", "--users", users, "--tls", "--ca-out", ca})
	}()
	var url string
	deadline := time.Now().Add(10 * time.Second)
	for url == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no URL printed:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
		sc := bufio.NewScanner(strings.NewReader(out.String()))
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "fake MyQ X serving at "); ok && strings.Contains(out.String(), "Ctrl-C stops") {
				url = u
			}
		}
	}
	for _, want := range []string{"kiosk-demo", "Test Person", "tester", "0000001234", "3.25", ca,
		myqfake.DemoVoucherCode, myqfake.DemoUsedVoucherCode + "         5.00  already used"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	c, err := api.New(api.Config{URL: url, ClientID: "kiosk-demo", ClientSecret: "demo-secret-not-for-production", CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	u, err := c.FindUserByCard(ctx, "0000001234")
	if err != nil || u.ID != 42 || u.FullName != "Test Person" {
		t.Fatalf("user %+v, %v", u, err)
	}
	if bal, known, err := c.Balance(ctx, 42); err != nil || !known || bal != 325 {
		t.Errorf("balance %s %v %v", bal, known, err)
	}
	// A printed voucher code redeems once.
	p, err := c.CreateVoucherV2(ctx, "tester", myqfake.DemoVoucherCode, "K-demo-1")
	if err != nil || p.Amount != 500 {
		t.Fatalf("demo voucher: %+v %v", p, err)
	}
	if _, err := c.CommitVoucherV2(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateVoucherV2(ctx, "tester", myqfake.DemoUsedVoucherCode, "K-demo-2"); api.VoucherRefusal(err) != api.VoucherUsed {
		t.Errorf("used demo voucher: %v", err)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func TestFakeMyQBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"unknown flag", []string{"--nope"}, 2},
		{"ca-out without tls", []string{"--ca-out", "x"}, 2},
		{"missing file", []string{"--users", filepath.Join(dir, "none.toml")}, 1},
		{"unknown key", []string{"--users", write("a.toml", "[[user]]\nid=1\nusername=\"a\"\ncolour=\"red\"\n")}, 1},
		{"float balance", []string{"--users", write("b.toml", "[[user]]\nid=1\nusername=\"a\"\nbalance=1.5\n")}, 1},
		{"bad balance", []string{"--users", write("c.toml", "[[user]]\nid=1\nusername=\"a\"\nbalance=\"1.555\"\n")}, 1},
		{"duplicate card", []string{"--users", write("d.toml", "[[user]]\nid=1\nusername=\"a\"\ncards=[\"1\"]\n[[user]]\nid=2\nusername=\"b\"\ncards=[\"1\"]\n")}, 1},
		{"empty", []string{"--users", write("e.toml", "")}, 1},
	}
	for _, c := range cases {
		var errb bytes.Buffer
		code := run(context.Background(), &env{stdout: io.Discard, stderr: &errb, stdin: strings.NewReader("")}, append([]string{"fake-myq"}, c.args...))
		if code != c.code {
			t.Errorf("%s: exit %d, want %d (%s)", c.name, code, c.code, errb.String())
		}
	}
}
