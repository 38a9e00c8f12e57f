package dist

import (
	"encoding/binary"
	"fmt"
	"math"
)

// decoder reads one frame. end is the end of the innermost extension body
// being read (or of the frame); every length is checked against it.
type decoder struct {
	b     []byte
	i     int
	end   int
	depth int
	nodes [4]string // node names already read from this frame, to share their memory
	nn    int
	// budget is what the decoded message may still take, in estimated
	// bytes of heap.
	budget int
	types  StructTypes // rebuilds extStruct values; nil: they arrive as maps
	pids   *pidCache   // the connection's, or nil
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: offset %d: %s", ErrMalformed, d.i, fmt.Sprintf(format, args...))
}

func (d *decoder) left() int { return d.end - d.i }

func (d *decoder) take(n uint64) ([]byte, error) {
	if n > uint64(d.left()) {
		return nil, errBeyondEnd
	}
	p := d.b[d.i : d.i+int(n)]
	d.i += int(n)
	return p, nil
}

// errTruncated and errBeyondEnd are the errors of byte1, take and be:
// fixed values rather than errorf's, which keeps those three small enough
// to inline (they run for every value of a stream).
var (
	errTruncated = fmt.Errorf("%w: truncated", ErrMalformed)
	errBeyondEnd = fmt.Errorf("%w: a length beyond the end of its frame or extension", ErrMalformed)
)

func (d *decoder) byte1() (byte, error) {
	if d.i >= d.end {
		return 0, errTruncated
	}
	c := d.b[d.i]
	d.i++
	return c, nil
}

// be reads an n-byte big-endian unsigned number (n is 1, 2, 4 or 8).
func (d *decoder) be(n int) (uint64, error) {
	if n > d.left() {
		return 0, errBeyondEnd
	}
	p := d.b[d.i : d.i+n]
	d.i += n
	switch n {
	case 1:
		return uint64(p[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(p)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(p)), nil
	}
	return binary.BigEndian.Uint64(p), nil
}

// charge accounts for n bytes of heap that the decoded message will hold.
func (d *decoder) charge(n int) error {
	d.budget -= n
	if d.budget < 0 {
		return d.errorf("decoded form would exceed %d bytes per frame byte", DecodeBudgetFactor)
	}
	return nil
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > MaxDepth {
		return d.errorf("nested deeper than %d", MaxDepth)
	}
	return nil
}

func (d *decoder) message(m *Message) error {
	c, err := d.byte1()
	if err != nil {
		return err
	}
	n, ok, err := d.mapLen(c)
	if err != nil {
		return err
	}
	if !ok {
		return d.errorf("message is not a map")
	}
	var seen uint64
	for range n {
		f, err := d.uint(math.MaxUint64)
		if err != nil {
			return err
		}
		if f < 64 {
			if seen&(1<<f) != 0 {
				return d.errorf("field %d twice", f)
			}
			seen |= 1 << f
		}
		switch f {
		case fieldKind:
			var k uint64
			k, err = d.uint(math.MaxUint8)
			m.Kind = Kind(k)
		case fieldFrom:
			m.From, err = d.pidValue()
		case fieldTo:
			m.To, err = d.pidValue()
		case fieldToName:
			m.ToName, err = d.str()
		case fieldRef:
			m.Ref, err = d.refValue()
		case fieldPayload:
			m.Payload, err = d.value()
		case fieldFn:
			m.Fn, err = d.str()
		case fieldArgs:
			var v any
			if v, err = d.value(); err == nil {
				var ok bool
				if m.Args, ok = v.([]any); !ok {
					err = d.errorf("args are %T, not an array", v)
				}
			}
		case fieldSource:
			m.Source, err = d.str()
		case fieldOpts:
			var opts uint64
			opts, err = d.uint(math.MaxUint64)
			m.Link, m.Monitor, m.Supervised = opts&1 != 0, opts&2 != 0, opts&4 != 0
		case fieldErr:
			var v any
			if v, err = d.value(); err == nil {
				var ok bool
				if m.Err, ok = v.(*RemoteError); !ok && v != nil {
					err = d.errorf("err is %T, not a RemoteError", v)
				}
			}
		default:
			_, err = d.value() // a field of a later version
		}
		if err != nil {
			return err
		}
	}
	if d.i != d.end {
		return d.errorf("%d trailing bytes", d.end-d.i)
	}
	if !m.Kind.Valid() {
		return fmt.Errorf("%w: unknown kind %d", ErrMalformed, m.Kind)
	}
	return nil
}

// strBytes reads a str and returns its bytes, still in the frame.
func (d *decoder) strBytes() ([]byte, error) {
	c, err := d.byte1()
	if err != nil {
		return nil, err
	}
	var n uint64
	switch {
	case c&0xe0 == 0xa0:
		n = uint64(c & 0x1f)
	case c >= 0xd9 && c <= 0xdb:
		if n, err = d.be(1 << (c - 0xd9)); err != nil {
			return nil, err
		}
	default:
		return nil, d.errorf("code 0x%02x where a string was expected", c)
	}
	return d.take(n)
}

func (d *decoder) str() (string, error) {
	p, err := d.strBytes()
	if err != nil {
		return "", err
	}
	if err := d.charge(len(p)); err != nil {
		return "", err
	}
	return string(p), nil
}

// node reads a node name, sharing the memory of names already read from
// this frame.
func (d *decoder) node() (string, error) {
	p, err := d.strBytes()
	if err != nil {
		return "", err
	}
	for _, s := range d.nodes[:d.nn] {
		if s == string(p) {
			return s, nil
		}
	}
	if err := d.charge(len(p)); err != nil {
		return "", err
	}
	s := internNode(p)
	if d.nn < len(d.nodes) {
		d.nodes[d.nn] = s
		d.nn++
	}
	return s, nil
}

// uint reads a non-negative integer no greater than max, in any of
// MessagePack's integer encodings.
func (d *decoder) uint(max uint64) (uint64, error) {
	c, err := d.byte1()
	if err != nil {
		return 0, err
	}
	var v uint64
	switch {
	case c <= 0x7f:
		v = uint64(c)
	case c >= 0xcc && c <= 0xcf:
		if v, err = d.be(1 << (c - 0xcc)); err != nil {
			return 0, err
		}
	case c >= 0xd0 && c <= 0xd3:
		n := 1 << (c - 0xd0)
		u, err := d.be(n)
		if err != nil {
			return 0, err
		}
		if u>>(8*n-1)&1 != 0 {
			return 0, d.errorf("negative number where an unsigned one was expected")
		}
		v = u
	default:
		return 0, d.errorf("code 0x%02x where an unsigned number was expected", c)
	}
	if v > max {
		return 0, d.errorf("%d out of range (max %d)", v, max)
	}
	return v, nil
}

// mapLen reads a map header; ok is false if c opens something else. Every
// entry takes at least two bytes.
func (d *decoder) mapLen(c byte) (n int, ok bool, err error) {
	var v uint64
	switch {
	case c&0xf0 == 0x80:
		v = uint64(c & 0x0f)
	case c == 0xde || c == 0xdf:
		if v, err = d.be(2 << (c - 0xde)); err != nil {
			return 0, false, err
		}
	default:
		return 0, false, nil
	}
	if v > uint64(d.left()/2) {
		return 0, false, d.errorf("map of %d entries, %d bytes left", v, d.left())
	}
	return int(v), true, nil
}
