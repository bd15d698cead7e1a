package monitor

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// idleClients is how many idle keep-alive connections the benchmark opens:
// issue 14 measured 3,000 descriptors and 60 MB with that many.
const idleClients = 3000

// BenchmarkIdleKeepAlive measures the monitor's descriptor and RSS ceiling
// while another process holds idleClients keep-alive connections to it
// (each asked for /status once, then left idle), on loopback. It prints
// figures; it asserts nothing about them.
//
//	go test -run '^$' -bench IdleKeepAlive -benchtime 1x ./kiosk/monitor/
func BenchmarkIdleKeepAlive(b *testing.B) {
	for _, c := range []struct {
		name  string
		limit int
	}{
		{"limit=16", DefaultMaxConns},
		{"unlimited", idleClients * 2}, // what the monitor was before the limit
	} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				fds, rss := idleCeiling(b, c.limit)
				b.ReportMetric(float64(fds), "fds")
				b.ReportMetric(float64(rss)/(1<<20), "MB-RSS-delta")
			}
		})
	}
}

// idleCeiling returns the descriptors and RSS the server process gained
// while the clients hold their connections.
func idleCeiling(b *testing.B, limit int) (fds int, rss int64) {
	be := &backend{}
	srv, err := Listen(Options{Addr: "127.0.0.1:0", MaxConns: limit, Metrics: New(be.Status), Backend: be})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	fd0, rss0 := openFDs(b), vmRSS(b)

	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleClientsHelper$")
	cmd.Env = append(os.Environ(), "MONITOR_IDLE_ADDR="+srv.Addr(), "MONITOR_IDLE_N="+strconv.Itoa(idleClients))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		b.Fatalf("client helper: %q, %v", line, err)
	}
	// The server takes what it will take: poll the descriptor count until it
	// reaches the limit (or every client) and stays there, bounded.
	want := fd0 + min(limit, idleClients)
	deadline := time.Now().Add(30 * time.Second)
	for openFDs(b) < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	fds, rss = openFDs(b)-fd0, vmRSS(b)-rss0
	fmt.Fprintf(os.Stderr, "monitor, %d idle keep-alive clients, MaxConns %d: +%d descriptors, +%.1f MB RSS (process RSS %.1f MB)\n",
		idleClients, limit, fds, float64(rss)/(1<<20), float64(vmRSS(b))/(1<<20))
	return fds, rss
}

// TestIdleClientsHelper is the benchmark's client process: it opens the
// connections, asks once on each, says ready and holds them until stdin
// closes. Without MONITOR_IDLE_ADDR it does nothing.
func TestIdleClientsHelper(t *testing.T) {
	addr := os.Getenv("MONITOR_IDLE_ADDR")
	if addr == "" {
		t.Skip("the benchmark's helper process")
	}
	n, _ := strconv.Atoi(os.Getenv("MONITOR_IDLE_N"))
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("after %d connections: %v", len(conns), err)
		}
		io.WriteString(c, "GET /status HTTP/1.1\r\nHost: kiosk\r\n\r\n")
		conns = append(conns, c)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}

func openFDs(tb testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		tb.Fatal(err)
	}
	return len(ents)
}

func vmRSS(tb testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	tb.Fatal("no VmRSS")
	return 0
}
