package handshake

import (
	"encoding/binary"
	"fmt"
)

// decoder reads the fields of one message body. After the first error
// every read returns zero values and the error sticks.
type decoder struct {
	b    []byte
	what string
	err  error
}

func (p *decoder) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("%w: %s: %s", ErrProtocol, p.what, fmt.Sprintf(format, args...))
	}
}

func (p *decoder) bytes(n int) []byte {
	if p.err != nil {
		return nil
	}
	if len(p.b) < n {
		p.fail("truncated")
		return nil
	}
	v := p.b[:n]
	p.b = p.b[n:]
	return v
}

func (p *decoder) tag(want byte) {
	if t := p.u8(); p.err == nil && t != want {
		p.fail("message tag %q, want %q", t, want)
	}
}

// badTag reports the unexpected first byte of body.
func (p *decoder) badTag(body []byte) {
	if len(body) > 0 {
		p.fail("unexpected message tag %q", body[0])
	}
}

func (p *decoder) u8() uint8 {
	if b := p.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (p *decoder) u16() uint16 {
	if b := p.bytes(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (p *decoder) u32() uint32 {
	if b := p.bytes(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (p *decoder) u64() uint64 {
	if b := p.bytes(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

// str reads NLen:u16 Name, refusing names over MaxNameLen.
func (p *decoder) str() string {
	n := int(p.u16())
	if n > MaxNameLen {
		p.fail("name of %d bytes", n)
		return ""
	}
	return string(p.bytes(n))
}

func (p *decoder) end() error {
	if p.err == nil && len(p.b) != 0 {
		p.fail("%d trailing bytes", len(p.b))
	}
	return p.err
}

func cutPrefix(b []byte, prefix string) ([]byte, bool) {
	if len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix {
		return b[len(prefix):], true
	}
	return b, false
}

// truncate shortens a peer's text for an error message.
func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
