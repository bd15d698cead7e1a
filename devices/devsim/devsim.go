// Package devsim owns simulators of the kiosk's serial devices (RDM6300 and
// line card readers, a coin pulse bridge, a ccTalk coin acceptor) on real
// ptys, for tests, the demo and `kioskctl simulate`.
// See docs/ARCHITECTURE.md for its place among the packages.
//
// Each simulator serves the device side of a pty and publishes a stable path:
// a symlink to the current pty slave. Disconnect removes the pty (the driver
// sees its port vanish, as with a pulled USB cable); Reconnect makes a new pty
// appear at the same path. Simulators implement the device side on their own,
// without the drivers' code, so a test compares two independent readings of
// the protocol.
package devsim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// ErrClosed is returned by simulator methods after Close.
var ErrClosed = errors.New("devsim: simulator closed")

// port is the pty plumbing shared by every simulator.
type port struct {
	link   string
	tmpDir string // removed on Close when the simulator made it

	mu     sync.Mutex
	master *os.File
	slave  *os.File // held open so the master never sees EIO between opens
	closed bool
	wg     sync.WaitGroup // the current pty's reader goroutine

	// onData gets what the host wrote; it runs on the reader goroutine.
	onData func(p []byte)
}

func newPort(dir, name string, onData func([]byte)) (*port, error) {
	p := &port{onData: onData}
	if dir == "" {
		d, err := os.MkdirTemp("", "devsim-")
		if err != nil {
			return nil, fmt.Errorf("devsim: temp dir: %w", err)
		}
		dir, p.tmpDir = d, d
	}
	p.link = filepath.Join(dir, name)
	return p, nil
}

// start plugs the first pty; a simulator calls it once its own fields are
// set, since onData may run at once.
func (p *port) start() error {
	if err := p.plug(); err != nil {
		if p.tmpDir != "" {
			os.RemoveAll(p.tmpDir)
		}
		return err
	}
	return nil
}

// Path is the stable path a driver opens: a symlink to the current pty.
func (p *port) Path() string { return p.link }

// plug creates a new pty and points the symlink at it. Callers hold no lock.
func (p *port) plug() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if p.master != nil {
		return nil // already plugged
	}
	m0, s, err := pty.Open()
	if err != nil {
		return fmt.Errorf("devsim: open pty: %w", err)
	}
	m, err := pollable(m0)
	if err != nil {
		s.Close()
		return err
	}
	// Raw mode: no echo, no line editing, no CR/LF translation, so the
	// bytes arrive exactly as a UART would deliver them.
	if err := makeRaw(s); err != nil {
		m.Close()
		s.Close()
		return fmt.Errorf("devsim: raw mode on %s: %w", s.Name(), err)
	}
	// Replace the symlink atomically so a driver never sees a half state.
	tmp := p.link + ".new"
	os.Remove(tmp)
	if err := os.Symlink(s.Name(), tmp); err != nil {
		m.Close()
		s.Close()
		return fmt.Errorf("devsim: link %s: %w", p.link, err)
	}
	if err := os.Rename(tmp, p.link); err != nil {
		os.Remove(tmp)
		m.Close()
		s.Close()
		return fmt.Errorf("devsim: link %s: %w", p.link, err)
	}
	p.master, p.slave = m, s
	p.wg.Add(1)
	go p.readLoop(m)
	return nil
}

func (p *port) readLoop(m *os.File) {
	defer p.wg.Done()
	buf := make([]byte, 512)
	for {
		n, err := m.Read(buf)
		if n > 0 && p.onData != nil {
			p.onData(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// unplug removes the symlink and the pty: the driver's port vanishes.
func (p *port) unplug() {
	p.mu.Lock()
	m, s := p.master, p.slave
	p.master, p.slave = nil, nil
	if m != nil {
		os.Remove(p.link)
	}
	p.mu.Unlock()
	if m == nil {
		return
	}
	m.Close()
	s.Close()
	p.wg.Wait()
}

// Disconnect makes the device vanish, like a pulled USB cable.
func (p *port) Disconnect() { p.unplug() }

// Reconnect makes a new pty appear at Path.
func (p *port) Reconnect() error { return p.plug() }

// Close removes the pty and the link and stops every goroutine.
func (p *port) Close() error {
	p.unplug()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	if p.tmpDir != "" {
		return os.RemoveAll(p.tmpDir)
	}
	return nil
}

// write sends bytes to the host. While unplugged the bytes are lost, as they
// would be on a cable that is not there.
func (p *port) write(b []byte) error {
	p.mu.Lock()
	m := p.master
	p.mu.Unlock()
	if m == nil {
		return nil
	}
	if _, err := m.Write(b); err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("devsim: write: %w", err)
	}
	return nil
}

// Garbage sends raw bytes, e.g. line noise or a wrong baud rate.
func (p *port) Garbage(b []byte) { p.write(b) }

// makeRaw is cfmakeraw(3) on the slave side.
func makeRaw(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var opErr error
	err = rc.Control(func(fd uintptr) {
		t, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
		if err != nil {
			opErr = err
			return
		}
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Cflag &^= unix.CSIZE | unix.PARENB
		t.Cflag |= unix.CS8
		t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
		opErr = unix.IoctlSetTermios(int(fd), unix.TCSETS, t)
	})
	if err != nil {
		return err
	}
	return opErr
}

// pollable re-wraps the pty master as a non-blocking file in Go's poller, so
// Close wakes a goroutine blocked in Read (pty.Open leaves it blocking).
func pollable(m *os.File) (*os.File, error) {
	defer m.Close()
	rc, err := m.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("devsim: pty master: %w", err)
	}
	var fd int
	var opErr error
	if err := rc.Control(func(raw uintptr) { fd, opErr = unix.Dup(int(raw)) }); err != nil {
		return nil, fmt.Errorf("devsim: pty master: %w", err)
	}
	if opErr != nil {
		return nil, fmt.Errorf("devsim: dup pty master: %w", opErr)
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("devsim: pty master non-blocking: %w", err)
	}
	return os.NewFile(uintptr(fd), m.Name()), nil
}
