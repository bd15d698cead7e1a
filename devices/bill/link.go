package bill

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/printroom/voucherkiosk/devices"
)

// ErrTimeout means the device did not answer a command, retries included.
var ErrTimeout = errors.New("ssp: device did not answer")

// link is one open port's command/reply exchange: sequence flag, retries and
// (after a key exchange) encryption. It lives as long as the port session.
type link struct {
	p      devices.Port
	id     byte
	seq    bool // the flag of the next new command
	parser Parser
	cipher *Cipher
	// count is the eSSP packet counter. As in ITL's host (EncryptSSPPacket,
	// SSPSendCommand) it steps once when a command is sealed, and the
	// device's reply must carry the stepped value; the next command carries
	// it too. See testdata/conformance/essp "counter".
	count   uint32
	timeout time.Duration
	retries int
	buf     [256]byte
	log     func(msg string, args ...any)
}

// sync sends SYNC, which resets the device's sequence flag: SYNC carries the
// flag set and the next command goes out with it clear.
func (l *link) sync(ctx context.Context) error {
	l.cipher, l.count = nil, 0
	l.seq = true
	r, err := l.do(ctx, []byte{byte(CmdSync)})
	if err != nil {
		return fmt.Errorf("ssp: SYNC: %w", err)
	}
	if Response(r[0]) != RespOK {
		return fmt.Errorf("ssp: SYNC: device answered %s", Response(r[0]))
	}
	return nil
}

// do sends one command and returns the device's (decrypted) reply, never
// empty. A timeout resends the very same bytes (same sequence flag, same
// eSSP counter) so the device repeats its answer instead of acting twice.
func (l *link) do(ctx context.Context, cmd []byte) ([]byte, error) {
	payload := cmd
	if l.cipher != nil {
		var err error
		if payload, err = l.cipher.Seal(cmd, l.count); err != nil {
			return nil, err
		}
		l.count++
	}
	raw, err := Frame{Seq: l.seq, ID: l.id, Data: payload}.Encode()
	if err != nil {
		return nil, err
	}
	for attempt := 0; attempt <= l.retries; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if attempt > 0 {
			l.log("ssp: retrying command", "command", Command(cmd[0]), "attempt", attempt)
		}
		if _, err := l.p.Write(raw); err != nil {
			return nil, fmt.Errorf("ssp: write %s: %w", Command(cmd[0]), err)
		}
		f, err := l.read(ctx)
		if errors.Is(err, ErrTimeout) {
			continue
		}
		if err != nil {
			return nil, err
		}
		reply := f.Data
		if l.cipher != nil && len(reply) > 0 && reply[0] == STEX {
			d, n, err := l.cipher.Open(reply)
			if err != nil {
				return nil, fmt.Errorf("ssp: %s reply: %w", Command(cmd[0]), err)
			}
			if n != l.count {
				return nil, fmt.Errorf("ssp: %s reply: %w: got %d, want %d", Command(cmd[0]), ErrCounter, n, l.count)
			}
			reply = d
		}
		if len(reply) == 0 {
			return nil, fmt.Errorf("ssp: %s: empty reply", Command(cmd[0]))
		}
		l.seq = !l.seq
		return reply, nil
	}
	return nil, fmt.Errorf("%s: %w after %d attempts", Command(cmd[0]), ErrTimeout, l.retries+1)
}

// read waits up to the timeout for the reply to the command in flight:
// a frame from our slave id with the current sequence flag. Anything else
// (a stale repeat, noise) is skipped.
func (l *link) read(ctx context.Context) (Frame, error) {
	deadline := time.Now().Add(l.timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return Frame{}, ErrTimeout
		}
		if err := ctx.Err(); err != nil {
			return Frame{}, err
		}
		if err := l.p.SetReadTimeout(min(left, 100*time.Millisecond)); err != nil {
			return Frame{}, fmt.Errorf("ssp: set read timeout: %w", err)
		}
		n, err := l.p.Read(l.buf[:])
		if err != nil {
			return Frame{}, fmt.Errorf("ssp: read: %w", err)
		}
		for _, f := range l.parser.Feed(l.buf[:n]) {
			if f.ID == l.id && f.Seq == l.seq {
				return f, nil
			}
		}
	}
}

func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// keyExchange negotiates the eSSP key and switches the link to encryption.
func (l *link) keyExchange(ctx context.Context, fixed uint64) error {
	kx, err := NewHostKeyExchange()
	if err != nil {
		return err
	}
	steps := []struct {
		cmd Command
		v   uint64
	}{{CmdSetGenerator, kx.Generator}, {CmdSetModulus, kx.Modulus}, {CmdRequestKeyExchange, kx.Inter}}
	var r []byte
	for _, s := range steps {
		r, err = l.do(ctx, append([]byte{byte(s.cmd)}, le64(s.v)...))
		if err != nil {
			return fmt.Errorf("essp: %s: %w", s.cmd, err)
		}
		if Response(r[0]) != RespOK {
			return fmt.Errorf("%w: %s: device answered %s", ErrKeyExchange, s.cmd, Response(r[0]))
		}
	}
	if len(r) < 9 {
		return fmt.Errorf("%w: REQUEST_KEY_EXCHANGE reply has %d bytes, want 9", ErrKeyExchange, len(r))
	}
	key := kx.Key(binary.LittleEndian.Uint64(r[1:9]))
	c, err := NewCipher(fixed, key, nil)
	if err != nil {
		return err
	}
	l.cipher, l.count = c, 0
	return nil
}
