package myqfake

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Running is a started fake: its URL, the CA that signed its certificate
// (TLS only), and Close.
type Running struct {
	URL   string
	CAPEM []byte // nil without TLS

	s        *Server
	srv      *http.Server
	ln       net.Listener
	ctx      context.Context
	cancel   context.CancelFunc
	served   chan struct{}
	handlers sync.WaitGroup

	connMu sync.Mutex
	conns  map[net.Conn]struct{}
	once   sync.Once
	err    error
}

// Start listens on Options.Addr (default 127.0.0.1:0) and serves until
// Close. With tls, it generates a fresh CA (ECDSA P-256) and a server
// certificate for 127.0.0.1, ::1 and localhost; give clients CAPEM.
func (s *Server) Start(useTLS bool) (*Running, error) {
	ln, err := net.Listen("tcp", s.opt.Addr)
	if err != nil {
		return nil, fmt.Errorf("myqfake: listen %s: %w", s.opt.Addr, err)
	}
	r := &Running{s: s, served: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	scheme := "http"
	var l net.Listener = &refusingListener{Listener: ln, s: s}
	if useTLS {
		caPEM, cert, err := makeCerts()
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("myqfake: certificates: %w", err)
		}
		r.CAPEM = caPEM
		// HTTP/1.1 only: dropping an answer needs a hijackable connection.
		l = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	r.ln = l
	r.URL = scheme + "://" + ln.Addr().String()
	r.srv = &http.Server{
		Handler:           http.HandlerFunc(r.serve),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		ConnState:         r.track,
	}
	r.srv.SetKeepAlivesEnabled(true)
	s.runMu.Lock()
	s.running[r] = struct{}{}
	s.runMu.Unlock()
	go func() {
		defer close(r.served)
		r.srv.Serve(l)
	}()
	return r, nil
}

func (r *Running) serve(w http.ResponseWriter, req *http.Request) {
	r.handlers.Add(1)
	defer r.handlers.Done()
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	stop := context.AfterFunc(r.ctx, cancel) // Close ends latency waits
	defer stop()
	r.s.ServeHTTP(w, req.WithContext(ctx))
}

func (r *Running) track(c net.Conn, st http.ConnState) {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	switch st {
	case http.StateNew:
		r.conns[c] = struct{}{}
	case http.StateClosed, http.StateHijacked:
		delete(r.conns, c)
	}
}

func (r *Running) closeConns() {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	for c := range r.conns {
		c.Close()
	}
}

// Close stops serving, closes every connection and waits for the handlers
// and the serve loop to end.
func (r *Running) Close() error {
	r.once.Do(func() {
		r.s.runMu.Lock()
		delete(r.s.running, r)
		r.s.runMu.Unlock()
		r.cancel()
		err := r.srv.Close()
		<-r.served
		r.handlers.Wait()
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.err = err
		}
	})
	return r.err
}

// WriteCAFile writes CAPEM to dir/myqfake-ca.pem and returns the path.
func (r *Running) WriteCAFile(dir string) (string, error) {
	if r.CAPEM == nil {
		return "", errors.New("myqfake: not started with TLS: no CA")
	}
	p := filepath.Join(dir, "myqfake-ca.pem")
	if err := os.WriteFile(p, r.CAPEM, 0o644); err != nil {
		return "", fmt.Errorf("myqfake: write CA: %w", err)
	}
	return p, nil
}

// refusingListener closes connections at once while the server refuses.
type refusingListener struct {
	net.Listener
	s *Server
}

func (l *refusingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.s.mu.Lock()
		refuse := l.s.refuse
		l.s.mu.Unlock()
		if !refuse {
			return c, nil
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // RST, like a refused port
		}
		c.Close()
	}
}

// makeCerts creates a CA and a server certificate signed by it.
func makeCerts() (caPEM []byte, server tls.Certificate, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, server, err
	}
	now := time.Now()
	serial := func() *big.Int {
		n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
		return n
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "MyQ Fake Certificate Authority"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, server, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, server, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, server, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, server, err
	}
	caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return caPEM, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
