package control

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCashupByRefused: a name with escape codes or longer than 64
// characters never reaches the backend (the journal), whether it comes from
// kioskctl or from anything else that can open the socket.
func TestCashupByRefused(t *testing.T) {
	dir := t.TempDir()
	b := &backend{}
	srv, err := Listen(dir, b, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	bad := map[string]string{
		"escape codes":  "J. Novak\x1b[2J\x1b[31mPWNED",
		"65 characters": strings.Repeat("é", 65),
		"716 KB":        strings.Repeat("A", 716<<10),
		"newline":       "anna\nbob",
		"not UTF-8":     "anna\xff",
	}
	// Straight to the socket, past the client's own check.
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", filepath.Join(dir, SocketName))
	}}}
	defer hc.CloseIdleConnections()
	for name, by := range bad {
		if len(by) < 4096 { // a 716 KB query is refused by the header limit already
			resp, err := hc.Post("http://kioskd/cashup?by="+url.QueryEscape(by), "", nil)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "--by") {
				t.Errorf("%s: server answered %s %s, want 400 naming --by", name, resp.Status, body)
			}
		}
		if _, err := Dial(dir).Cashup(context.Background(), by); err == nil || !strings.Contains(err.Error(), "--by") {
			t.Errorf("%s: client error %v, want one naming --by", name, err)
		}
	}
	if len(b.cashups) != 0 {
		t.Fatalf("journaled %q", b.cashups)
	}
	ok := strings.Repeat("ž", 64)
	if _, err := Dial(dir).Cashup(context.Background(), ok); err != nil || len(b.cashups) != 1 {
		t.Fatalf("64 printable characters refused: %v", err)
	}
}

// TestIdleConnectionClosed: a client that connects, asks once and then
// holds the connection open is dropped by the server.
func TestIdleConnectionClosed(t *testing.T) {
	dir := t.TempDir()
	to := timeouts{header: 200 * time.Millisecond, read: 200 * time.Millisecond, write: time.Second, idle: 200 * time.Millisecond}
	srv, err := listen(dir, &backend{}, slog.New(slog.DiscardHandler), to)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, ask := range []bool{true, false} {
		c, err := net.Dial("unix", filepath.Join(dir, SocketName))
		if err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(c)
		if ask {
			io.WriteString(c, "GET /status HTTP/1.1\r\nHost: kioskd\r\n\r\n")
			resp, err := http.ReadResponse(r, nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		} else {
			io.WriteString(c, "GET /status HTTP/1.1\r\n") // and never the rest
		}
		// The bound is far above the timeouts: only a server that never
		// closes fails it.
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, err = io.Copy(io.Discard, r)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("ask=%v: the server held an idle connection for 20 s", ask)
		}
		c.Close()
	}
}
