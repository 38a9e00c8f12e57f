package etf

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"unicode/utf8"
)

// atom writes SMALL_ATOM_UTF8, or ATOM_UTF8 for more than 255 bytes.
func (e *encoder) atom(s string) error {
	if !utf8.ValidString(s) {
		return unsupported(Atom(s), fmt.Sprintf("atom %q is not UTF-8", s))
	}
	if n := utf8.RuneCountInString(s); n > MaxAtomChars {
		return unsupported(Atom(s), fmt.Sprintf("atom of %d characters, Erlang's limit is %d", n, MaxAtomChars))
	}
	if len(s) <= 255 {
		e.buf = append(e.buf, tagSmallAtomUTF8, byte(len(s)))
	} else {
		e.buf = append(e.buf, tagAtomUTF8)
		e.u16(len(s))
	}
	e.buf = append(e.buf, s...)
	return nil
}

func (e *encoder) binary(s string) error {
	if err := e.length(tagBinary, len(s)); err != nil {
		return err
	}
	e.buf = append(e.buf, s...)
	return nil
}

// int writes the smallest form, as the BEAM does: SMALL_INTEGER for
// 0..255, INTEGER for 32 bits, SMALL_BIG beyond.
func (e *encoder) int(n int64) {
	switch {
	case n >= 0 && n <= 255:
		e.buf = append(e.buf, tagSmallInteger, byte(n))
	case n >= math.MinInt32 && n <= math.MaxInt32:
		e.buf = append(e.buf, tagInteger)
		e.u32(uint32(int32(n)))
	case n < 0:
		e.smallBig(uint64(-n), 1) // -MinInt64 wraps to 1<<63, its magnitude
	default:
		e.smallBig(uint64(n), 0)
	}
}

func (e *encoder) uint(n uint64) {
	if n <= math.MaxInt64 {
		e.int(int64(n))
		return
	}
	e.smallBig(n, 0)
}

func (e *encoder) smallBig(mag uint64, sign byte) {
	at := len(e.buf)
	e.buf = append(e.buf, tagSmallBig, 0, sign)
	for ; mag > 0; mag >>= 8 {
		e.buf = append(e.buf, byte(mag))
	}
	e.buf[at+1] = byte(len(e.buf) - at - 3)
}

func (e *encoder) big(x *big.Int, v any) error {
	if x.IsInt64() {
		e.int(x.Int64())
		return nil
	}
	if x.Sign() > 0 && x.IsUint64() {
		e.uint(x.Uint64())
		return nil
	}
	mag := x.Bytes() // big-endian magnitude
	if len(mag) > MaxBigBytes {
		return unsupported(v, fmt.Sprintf("integer of %d bytes, more than this package decodes (%d)", len(mag), MaxBigBytes))
	}
	if len(mag) <= 255 {
		e.buf = append(e.buf, tagSmallBig, byte(len(mag)))
	} else {
		e.buf = append(e.buf, tagLargeBig)
		e.u32(uint32(len(mag)))
	}
	e.buf = append(e.buf, byte(max(0, -x.Sign())))
	for i := len(mag) - 1; i >= 0; i-- {
		e.buf = append(e.buf, mag[i])
	}
	return nil
}

func (e *encoder) float(f float64, v any) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return unsupported(v, fmt.Sprintf("%v has no Erlang float", f))
	}
	e.buf = append(e.buf, tagNewFloat)
	e.buf = binary.BigEndian.AppendUint64(e.buf, math.Float64bits(f))
	return nil
}

func (e *encoder) tuple(t Tuple, depth int) error {
	if len(t) <= 255 {
		e.buf = append(e.buf, tagSmallTuple, byte(len(t)))
	} else if err := e.length(tagLargeTuple, len(t)); err != nil {
		return err
	}
	for _, x := range t {
		if err := e.term(x, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// list writes elems with the given tail; a nil tail is the empty list.
func (e *encoder) list(elems []any, tail any, depth int) error {
	if len(elems) == 0 {
		if tail == nil {
			e.buf = append(e.buf, tagNil)
			return nil
		}
		return e.term(tail, depth) // [ | T] is T
	}
	if err := e.length(tagList, len(elems)); err != nil {
		return err
	}
	for _, x := range elems {
		if err := e.term(x, depth+1); err != nil {
			return err
		}
	}
	if tail == nil {
		e.buf = append(e.buf, tagNil)
		return nil
	}
	return e.term(tail, depth+1)
}

func (e *encoder) improper(l ImproperList, depth int) error {
	switch l.Tail.(type) {
	case []any, ImproperList, Charlist:
		return unsupported(l, "the tail is a list: append its elements instead")
	case nil:
		// Go nil is the atom nil: [X | nil] is improper.
		return e.list(l.Elems, Atom("nil"), depth)
	}
	return e.list(l.Elems, l.Tail, depth)
}

// charlist writes STRING_EXT when every code fits a byte (as the BEAM
// does), else a list of integers.
func (e *encoder) charlist(s Charlist, v any) error {
	if !utf8.ValidString(string(s)) {
		return unsupported(v, "charlist is not UTF-8")
	}
	n, small := 0, true
	for _, r := range s {
		n++
		small = small && r <= 255
	}
	switch {
	case n == 0:
		e.buf = append(e.buf, tagNil)
	case small && n <= math.MaxUint16:
		e.buf = append(e.buf, tagString)
		e.u16(n)
		for _, r := range s {
			e.buf = append(e.buf, byte(r))
		}
	default:
		e.buf = append(e.buf, tagList)
		e.u32(uint32(n))
		for _, r := range s {
			e.int(int64(r))
		}
		e.buf = append(e.buf, tagNil)
	}
	return nil
}

func (e *encoder) structMap(s Struct, depth int) error {
	if _, ok := s.Fields[structKey]; ok {
		return unsupported(s, "Fields holds __struct__: it goes in Name")
	}
	if err := e.length(tagMap, len(s.Fields)+1); err != nil {
		return err
	}
	if err := e.pair(structKey, s.Name, depth); err != nil {
		return err
	}
	for k, v := range s.Fields {
		if err := e.pair(k, v, depth); err != nil {
			return err
		}
	}
	return nil
}
