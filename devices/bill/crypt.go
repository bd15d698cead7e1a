package bill

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/bits"
)

// STEX marks an encrypted eSSP payload inside a frame's data.
const STEX = 0x7E

// DefaultFixedKey is ITL's factory fixed key, 0123456701234567.
const DefaultFixedKey uint64 = 0x0123456701234567

// Encryption errors callers classify.
var (
	ErrNotEncrypted  = errors.New("essp: payload is not encrypted")
	ErrBadPayload    = errors.New("essp: malformed encrypted payload")
	ErrCounter       = errors.New("essp: encryption counter mismatch")
	ErrKeyExchange   = errors.New("essp: key exchange failed")
	errPayloadTooBig = errors.New("essp: data too long to encrypt")
)

// Cipher seals and opens eSSP payloads with AES-128-ECB. The key is the
// fixed key's 8 little-endian bytes followed by the negotiated key's.
type Cipher struct {
	block cipher.Block
	rand  io.Reader
}

// NewCipher builds the session cipher. randSrc fills the padding; nil means
// crypto/rand.
func NewCipher(fixed, negotiated uint64, randSrc io.Reader) (*Cipher, error) {
	var key [16]byte
	binary.LittleEndian.PutUint64(key[:8], fixed)
	binary.LittleEndian.PutUint64(key[8:], negotiated)
	b, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("essp: cipher: %w", err)
	}
	if randSrc == nil {
		randSrc = rand.Reader
	}
	return &Cipher{block: b, rand: randSrc}, nil
}

// Seal returns the frame data for an encrypted packet: STEX followed by
// eLEN | eCOUNT (uint32 LE) | data | random padding | CRC-16, encrypted block
// by block, the plain part a multiple of 16 bytes.
func (c *Cipher) Seal(data []byte, count uint32) ([]byte, error) {
	plain := 1 + 4 + len(data) + 2
	total := (plain + 15) / 16 * 16
	if total+1 > maxData || len(data) > 255 {
		return nil, errPayloadTooBig
	}
	buf := make([]byte, total)
	buf[0] = byte(len(data))
	binary.LittleEndian.PutUint32(buf[1:5], count)
	copy(buf[5:], data)
	if _, err := io.ReadFull(c.rand, buf[5+len(data):total-2]); err != nil {
		return nil, fmt.Errorf("essp: padding: %w", err)
	}
	crc := CRC16(buf[:total-2])
	buf[total-2], buf[total-1] = byte(crc), byte(crc>>8)
	for i := 0; i < total; i += 16 {
		c.block.Encrypt(buf[i:i+16], buf[i:i+16])
	}
	return append([]byte{STEX}, buf...), nil
}

// Open decrypts frame data produced by Seal and returns the inner data and
// its counter. Anything malformed (wrong size, bad CRC, a length that does
// not fit) is an error wrapping ErrBadPayload; the caller checks the counter.
func (c *Cipher) Open(payload []byte) ([]byte, uint32, error) {
	if len(payload) == 0 || payload[0] != STEX {
		return nil, 0, ErrNotEncrypted
	}
	enc := payload[1:]
	if len(enc) == 0 || len(enc)%16 != 0 {
		return nil, 0, fmt.Errorf("%w: %d encrypted bytes, not a multiple of 16", ErrBadPayload, len(enc))
	}
	buf := make([]byte, len(enc))
	for i := 0; i < len(enc); i += 16 {
		c.block.Decrypt(buf[i:i+16], enc[i:i+16])
	}
	n := int(buf[0])
	if 1+4+n+2 > len(buf) {
		return nil, 0, fmt.Errorf("%w: length %d does not fit %d bytes", ErrBadPayload, n, len(buf))
	}
	got := uint16(buf[len(buf)-2]) | uint16(buf[len(buf)-1])<<8
	if CRC16(buf[:len(buf)-2]) != got {
		return nil, 0, fmt.Errorf("%w: inner CRC", ErrBadPayload)
	}
	count := binary.LittleEndian.Uint32(buf[1:5])
	data := make([]byte, n)
	copy(data, buf[5:5+n])
	return data, count, nil
}

// KeyLimit bounds every number of the key exchange: ITL's host (Random.h
// MAX_PRIME_NUMBER and MAX_RANDOM_INTEGER) keeps generator, modulus and
// secrets below 2^31 and multiplies in 64 bits, so firmware built from the
// same code refuses or mis-computes anything larger.
const KeyLimit = 1 << 31

// KeyExchange is one side of eSSP's Diffie-Hellman. The host makes the
// generator and modulus; both sides pick a secret and swap g^secret mod p.
type KeyExchange struct {
	Generator, Modulus uint64
	secret             uint64
	// Inter is this side's public value, g^secret mod Modulus.
	Inter uint64
}

// NewHostKeyExchange picks two primes below KeyLimit and a secret from
// crypto/rand. Like ITL's host (InitiateSSPHostKeys) it sends the smaller
// prime as the generator and the larger as the modulus.
func NewHostKeyExchange() (*KeyExchange, error) {
	var g, p uint64
	for g == p {
		var err error
		if g, err = randPrime(); err != nil {
			return nil, err
		}
		if p, err = randPrime(); err != nil {
			return nil, err
		}
	}
	if g > p {
		g, p = p, g
	}
	secret, err := randBelow(KeyLimit)
	if err != nil {
		return nil, err
	}
	return newKeyExchange(g, p, secret+1)
}

func randPrime() (uint64, error) {
	// 31 bits with the top bit set: a prime in [2^30, 2^31).
	pr, err := rand.Prime(rand.Reader, 31)
	if err != nil {
		return 0, fmt.Errorf("%w: prime: %v", ErrKeyExchange, err)
	}
	return pr.Uint64(), nil
}

func randBelow(n uint64) (uint64, error) {
	v, err := rand.Int(rand.Reader, new(big.Int).SetUint64(n-1))
	if err != nil {
		return 0, fmt.Errorf("%w: secret: %v", ErrKeyExchange, err)
	}
	return v.Uint64(), nil
}

// NewKeyExchange picks a secret below KeyLimit for the given generator and
// modulus (the slave's side, once the host has sent them).
func NewKeyExchange(generator, modulus uint64) (*KeyExchange, error) {
	secret, err := randBelow(KeyLimit)
	if err != nil {
		return nil, err
	}
	return newKeyExchange(generator, modulus, secret+1)
}

func newKeyExchange(generator, modulus, secret uint64) (*KeyExchange, error) {
	if modulus < 3 || generator < 2 {
		return nil, fmt.Errorf("%w: generator %d, modulus %d", ErrKeyExchange, generator, modulus)
	}
	return &KeyExchange{Generator: generator, Modulus: modulus, secret: secret, Inter: powMod(generator, secret, modulus)}, nil
}

// Key combines the other side's public value into the shared key.
func (k *KeyExchange) Key(otherInter uint64) uint64 {
	return powMod(otherInter, k.secret, k.Modulus)
}

// powMod is x^y mod n without overflow for any 64-bit operands.
func powMod(x, y, n uint64) uint64 {
	mul := func(a, b uint64) uint64 {
		hi, lo := bits.Mul64(a, b)
		_, r := bits.Div64(hi%n, lo, n)
		return r
	}
	r, x := uint64(1)%n, x%n
	for ; y > 0; y >>= 1 {
		if y&1 == 1 {
			r = mul(r, x)
		}
		x = mul(x, x)
	}
	return r
}

// IsPrime reports whether n is prime (deterministic for 64-bit n): what a
// slave checks SET_GENERATOR and SET_MODULUS against.
func IsPrime(n uint64) bool { return new(big.Int).SetUint64(n).ProbablyPrime(0) }

// ParseKeyHex reads a fixed key written as 16 hex digits, e.g.
// "0123456701234567".
func ParseKeyHex(s string) (uint64, error) {
	if len(s) != 16 {
		// Never echo the key: it is a secret.
		return 0, fmt.Errorf("essp: key: want 16 hex digits, got %d characters", len(s))
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, fmt.Errorf("essp: key: character %d is not a hex digit", i+1)
		}
		v = v<<4 | uint64(d)
	}
	return v, nil
}
