package etf

import (
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"
)

// list reads LIST_EXT. A tail that is itself a list is flattened, as the
// BEAM does ([1 | [2]] is [1, 2]), so ImproperList.Tail is never a list
// and a decoded value has one form only.
func (d *decoder) list() (any, error) {
	n, err := d.count(1)
	if err != nil {
		return nil, err
	}
	if n >= d.left() { // the tail takes a byte too
		return nil, d.errorf("list of %d announced, %d bytes left", n, d.left())
	}
	if err := d.enter(); err != nil {
		return nil, err
	}
	if err := d.charge(16*n + 24); err != nil {
		return nil, err
	}
	elems := make([]any, n)
	for i := range elems {
		if elems[i], err = d.term(); err != nil {
			return nil, err
		}
	}
	tail, err := d.term()
	if err != nil {
		return nil, err
	}
	d.depth--
	if n == 0 {
		return tail, nil // [ | T] is T
	}
	switch t := tail.(type) {
	case []any:
		if len(t) == 0 {
			return elems, nil
		}
		if err := d.appendCharged(&elems, t); err != nil {
			return nil, err
		}
		return elems, nil
	case ImproperList:
		if err := d.appendCharged(&elems, t.Elems); err != nil {
			return nil, err
		}
		return ImproperList{Elems: elems, Tail: t.Tail}, nil
	case Charlist:
		codes := make([]any, 0, len(t))
		for _, r := range t {
			codes = append(codes, int64(r))
		}
		if err := d.appendCharged(&elems, codes); err != nil {
			return nil, err
		}
		return elems, nil
	}
	return ImproperList{Elems: elems, Tail: tail}, nil
}

func (d *decoder) appendCharged(elems *[]any, more []any) error {
	if err := d.charge(16 * (len(*elems) + len(more))); err != nil {
		return err
	}
	*elems = append(*elems, more...)
	return nil
}

// stringBody reads STRING_EXT, a list of byte-sized codes, as a Charlist.
func (d *decoder) stringBody() (any, error) {
	n, err := d.u16()
	if err != nil {
		return nil, err
	}
	p, err := d.take(n)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return emptyList, nil
	}
	if err := d.charge(2*n + 16); err != nil {
		return nil, err
	}
	return Charlist(latin1(p)), nil
}

// latin1 converts Latin-1 bytes (each a code point below 256) to UTF-8.
func latin1(p []byte) string {
	ascii := true
	for _, c := range p {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return string(p)
	}
	out := make([]byte, 0, 2*len(p))
	for _, c := range p {
		out = utf8.AppendRune(out, rune(c))
	}
	return string(out)
}

func (d *decoder) bitBinary() (any, error) {
	n, err := d.count(1)
	if err != nil {
		return nil, err
	}
	bits, err := d.u8()
	if err != nil {
		return nil, err
	}
	if bits > 8 || (n == 0) != (bits == 0) {
		return nil, d.errorf("bit binary of %d bytes with %d bits in the last", n, bits)
	}
	p, err := d.take(n)
	if err != nil {
		return nil, err
	}
	if err := d.charge(n + 32); err != nil {
		return nil, err
	}
	if bits == 8 || n == 0 { // whole bytes: an ordinary binary
		return string(p), nil
	}
	b := append([]byte(nil), p...)
	b[n-1] &= 0xff << (8 - bits) // the unused bits are not part of the value
	return BitString{Bytes: b, TailBits: uint8(bits)}, nil
}

// bigBody reads the sign and the little-endian magnitude of a big integer.
// Values that fit int64 come back as int64, as every integer does.
func (d *decoder) bigBody(n uint32) (any, error) {
	if n > MaxBigBytes {
		return nil, d.limitf("big integer of %d bytes, the limit is %d", n, MaxBigBytes)
	}
	sign, err := d.u8()
	if err != nil {
		return nil, err
	}
	p, err := d.take(int(n))
	if err != nil {
		return nil, err
	}
	neg := sign != 0 // binary_to_term reads any non-zero sign as negative
	top := len(p)
	for top > 0 && p[top-1] == 0 {
		top--
	}
	if top <= 8 {
		var m uint64
		for i := top - 1; i >= 0; i-- {
			m = m<<8 | uint64(p[i])
		}
		switch {
		case !neg && m <= math.MaxInt64:
			return int64(m), d.charge(8)
		case neg && m <= 1<<63:
			return int64(-m), d.charge(8) // -(1<<63) wraps to MinInt64, as wanted
		}
	}
	if err := d.charge(2*top + 64); err != nil {
		return nil, err
	}
	be := make([]byte, top)
	for i := range be {
		be[i] = p[top-1-i]
	}
	v := new(big.Int).SetBytes(be)
	if neg {
		v.Neg(v)
	}
	return v, nil
}

// oldFloat reads FLOAT_EXT: 31 bytes of "%.20e" text, NUL padded.
func (d *decoder) oldFloat() (any, error) {
	p, err := d.take(31)
	if err != nil {
		return nil, err
	}
	end := 0
	for end < len(p) && p[end] != 0 {
		end++
	}
	f, err := strconv.ParseFloat(string(p[:end]), 64)
	if err != nil {
		return nil, d.errorf("float text %q: %v", p[:end], err)
	}
	return d.float(f)
}
