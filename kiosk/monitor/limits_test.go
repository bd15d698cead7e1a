package monitor

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRemoteBindNeedsAllowRemote(t *testing.T) {
	b := &backend{}
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		srv, err := Listen(Options{Addr: addr, Metrics: New(b.Status), Backend: b})
		if err == nil {
			srv.Close()
			t.Errorf("%s: listened without allow_remote", addr)
		} else if !strings.Contains(err.Error(), "allow_remote") {
			t.Errorf("%s: error %v does not name allow_remote", addr, err)
		}
	}
	// With allow_remote the address is tried (and logged). The tests stay
	// off the network: 192.0.2.1 (TEST-NET-1) is no address of this
	// machine, so the bind itself fails.
	var logs strings.Builder
	srv, err := Listen(Options{Addr: "192.0.2.1:0", AllowRemote: true, Metrics: New(b.Status), Backend: b,
		Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err == nil {
		srv.Close()
		t.Fatal("bound 192.0.2.1")
	}
	if strings.Contains(err.Error(), "allow_remote") {
		t.Errorf("refused with allow_remote: %v", err)
	}
	if !strings.Contains(logs.String(), "allow_remote = true") {
		t.Errorf("a remote bind is not logged: %q", logs.String())
	}
}

func TestLockdownCounters(t *testing.T) {
	b := &backend{}
	m := New(b.Status)
	m.CardPause()
	m.CardIgnored()
	srv, err := Listen(Options{Addr: "127.0.0.1:0", Metrics: m, Backend: b})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	body := get(t, "http://"+srv.Addr()+"/metrics")
	for _, want := range []string{"kiosk_card_reader_pauses_total 1", "kiosk_card_reads_ignored_total 1"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestConnectionsBounded: idle and stalled connections are closed by the
// server, and no more than MaxConns are served at once: the one above the
// limit gets its answer only when a slot frees.
func TestConnectionsBounded(t *testing.T) {
	b := &backend{}
	to := timeouts{header: 300 * time.Millisecond, read: 300 * time.Millisecond, write: time.Second, idle: 300 * time.Millisecond}
	srv, err := listen(Options{Addr: "127.0.0.1:0", MaxConns: 2, Metrics: New(b.Status), Backend: b}, to)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ask := func(c net.Conn) error {
		io.WriteString(c, "GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	var conns []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := ask(c); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	// The third waits: its request is not read while two are held.
	third, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	third.SetDeadline(time.Now().Add(20 * time.Second))
	if err := ask(third); err != nil {
		t.Fatalf("third connection never served: %v", err)
	}
	// By now the idle timeout closed the first two.
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("connection %d held idle for 20 s", i)
		}
	}
}
