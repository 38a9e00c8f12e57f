package etf

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Decode reads one term written as by term_to_binary: VersionMagic, then
// the term (or a compressed term). It returns the term and the bytes after
// it, so that the two terms of a distribution packet are read in turn.
//
// Decode never panics and never trusts a length: each one is checked
// against the bytes left before anything is allocated for it, and the
// whole decode may build at most DecodeBudgetFactor bytes of heap per input
// byte. Errors wrap ErrMalformed, ErrLimit, ErrAtomCacheRef or
// ErrUnsupported.
func Decode(b []byte) (term any, rest []byte, err error) {
	if len(b) == 0 {
		return nil, nil, fmt.Errorf("%w: empty input", ErrMalformed)
	}
	if b[0] != VersionMagic {
		return nil, nil, fmt.Errorf("%w: version byte %d, want %d", ErrMalformed, b[0], VersionMagic)
	}
	if len(b) > 1 && b[1] == tagCompressed {
		return decodeCompressed(b)
	}
	d := decoder{b: b, i: 1, budget: DecodeBudgetFactor*len(b) + DecodeBudgetFloor}
	t, err := d.term()
	if err != nil {
		return nil, nil, err
	}
	return t, b[d.i:], nil
}

// decoder reads terms from b at i.
type decoder struct {
	b      []byte
	i      int
	depth  int
	budget int  // estimated bytes of heap the result may still take
	node   Atom // the last node name read, so pids and refs share it
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: offset %d: %s", ErrMalformed, d.i, fmt.Sprintf(format, args...))
}

func (d *decoder) limitf(format string, args ...any) error {
	return fmt.Errorf("%w: offset %d: %s", ErrLimit, d.i, fmt.Sprintf(format, args...))
}

func (d *decoder) left() int { return len(d.b) - d.i }

func (d *decoder) take(n int) ([]byte, error) {
	if n < 0 || n > d.left() {
		return nil, d.errorf("%d bytes announced, %d left", n, d.left())
	}
	p := d.b[d.i : d.i+n : d.i+n]
	d.i += n
	return p, nil
}

func (d *decoder) u8() (int, error) {
	if d.i >= len(d.b) {
		return 0, d.errorf("truncated")
	}
	d.i++
	return int(d.b[d.i-1]), nil
}

func (d *decoder) u16() (int, error) {
	p, err := d.take(2)
	if err != nil {
		return 0, err
	}
	return int(binary.BigEndian.Uint16(p)), nil
}

func (d *decoder) u32() (uint32, error) {
	p, err := d.take(4)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(p), nil
}

// count reads a u32 count of items that take at least per bytes each in
// the input, and refuses it unless that many bytes are left. This is what
// keeps the elements of a decode proportional to its input.
func (d *decoder) count(per int) (int, error) {
	n, err := d.u32()
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(per) > uint64(d.left()) {
		return 0, d.errorf("%d items announced, %d bytes left", n, d.left())
	}
	return int(n), nil
}

// charge accounts for n bytes of heap the result will hold.
func (d *decoder) charge(n int) error {
	d.budget -= n
	if d.budget < 0 {
		return d.limitf("decoded form would exceed %d bytes per input byte", DecodeBudgetFactor)
	}
	return nil
}

// emptyList is returned for every empty list: boxing a fresh empty slice
// would allocate, and nothing can be stored in a zero-length slice.
var emptyList any = []any{}

func (d *decoder) term() (any, error) {
	tag, err := d.u8()
	if err != nil {
		return nil, err
	}
	switch tag {
	case tagSmallInteger:
		c, err := d.u8()
		return int64(c), err // Go boxes values below 256 without allocating
	case tagInteger:
		v, err := d.u32()
		if err != nil {
			return nil, err
		}
		return int64(int32(v)), d.charge(8)
	case tagNewFloat:
		p, err := d.take(8)
		if err != nil {
			return nil, err
		}
		return d.float(math.Float64frombits(binary.BigEndian.Uint64(p)))
	case tagFloat:
		return d.oldFloat()
	case tagSmallBig:
		n, err := d.u8()
		if err != nil {
			return nil, err
		}
		return d.bigBody(uint32(n))
	case tagLargeBig:
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		return d.bigBody(n)
	case tagAtom, tagSmallAtom, tagAtomUTF8, tagSmallAtomUTF8:
		return d.atomTerm(tag)
	case tagSmallTuple:
		n, err := d.u8()
		if err != nil {
			return nil, err
		}
		return d.tuple(n)
	case tagLargeTuple:
		n, err := d.count(1)
		if err != nil {
			return nil, err
		}
		return d.tuple(n)
	case tagMap:
		return d.mapBody()
	case tagNil:
		return emptyList, nil
	case tagString:
		return d.stringBody()
	case tagList:
		return d.list()
	case tagBinary:
		n, err := d.count(1)
		if err != nil {
			return nil, err
		}
		if err := d.charge(n + 16); err != nil {
			return nil, err
		}
		p, _ := d.take(n)
		return string(p), nil
	case tagBitBinary:
		return d.bitBinary()
	case tagPid, tagNewPid:
		p, err := d.pidBody(tag)
		if err != nil {
			return nil, err
		}
		return p, d.charge(32)
	case tagPort, tagNewPort, tagV4Port:
		return d.portBody(tag)
	case tagReference, tagNewReference, tagNewerReference:
		return d.refBody(tag)
	case tagNewFun:
		return d.fun()
	case tagExport:
		return d.export()
	case tagAtomCacheRef:
		return nil, fmt.Errorf("%w (offset %d)", ErrAtomCacheRef, d.i-1)
	case tagLocal:
		return nil, fmt.Errorf("%w: LOCAL_EXT (121) at offset %d: a node-local encoding only its maker can read", ErrUnsupported, d.i-1)
	case tagCompressed:
		return nil, d.errorf("a compressed term is only valid right after the version byte")
	}
	return nil, d.errorf("unknown tag %d", tag)
}

// float refuses what Erlang has no float for: NaN and the infinities
// (binary_to_term raises badarg on them too).
func (d *decoder) float(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, d.errorf("float %v has no Erlang term", f)
	}
	return f, d.charge(8)
}

func (d *decoder) tuple(n int) (any, error) {
	if n > d.left() {
		return nil, d.errorf("tuple of %d announced, %d bytes left", n, d.left())
	}
	if err := d.enter(); err != nil {
		return nil, err
	}
	if err := d.charge(16*n + 24); err != nil {
		return nil, err
	}
	t := make(Tuple, n)
	for i := range t {
		var err error
		if t[i], err = d.term(); err != nil {
			return nil, err
		}
	}
	d.depth--
	return t, nil
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > MaxDepth {
		return d.limitf("nested deeper than %d", MaxDepth)
	}
	return nil
}
