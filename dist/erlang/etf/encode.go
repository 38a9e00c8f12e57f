package etf

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"unicode/utf8"
)

// Encode returns v as term_to_binary would write it: VersionMagic, then
// the term. See the package doc for how each Go value maps to a term; a Go
// value with no term gives an error wrapping ErrUnsupported, never a
// panic. Data nested deeper than MaxDepth (a cycle) gives ErrLimit.
func Encode(v any) ([]byte, error) {
	return Append(make([]byte, 0, 64), v)
}

// Append appends the encoding of v (with its VersionMagic) to dst. On
// error it returns dst unchanged.
func Append(dst []byte, v any) ([]byte, error) {
	e := encoder{buf: append(dst, VersionMagic)}
	if err := e.term(v, 0); err != nil {
		return dst, err
	}
	return e.buf, nil
}

type encoder struct {
	buf []byte
}

func unsupported(v any, why string) error {
	return fmt.Errorf("%w: Go value of type %T: %s", ErrUnsupported, v, why)
}

func (e *encoder) u16(n int)    { e.buf = binary.BigEndian.AppendUint16(e.buf, uint16(n)) }
func (e *encoder) u32(n uint32) { e.buf = binary.BigEndian.AppendUint32(e.buf, n) }

// length writes a u32 count after its tag, refusing what does not fit.
func (e *encoder) length(tag byte, n int, v any) error {
	if uint64(n) > math.MaxUint32 {
		return unsupported(v, "longer than 2^32-1")
	}
	e.buf = append(e.buf, tag)
	e.u32(uint32(n))
	return nil
}

func (e *encoder) term(v any, depth int) error {
	if depth > MaxDepth {
		return fmt.Errorf("%w: Go value nested deeper than %d (a cycle?)", ErrLimit, MaxDepth)
	}
	switch x := v.(type) {
	case nil:
		return e.atom("nil")
	case bool:
		if x {
			return e.atom("true")
		}
		return e.atom("false")
	case Atom:
		return e.atom(string(x))
	case string:
		return e.binary(x, v)
	case []byte:
		return e.binary(string(x), v)
	case int:
		e.int(int64(x))
	case int64:
		e.int(x)
	case int32:
		e.int(int64(x))
	case int16:
		e.int(int64(x))
	case int8:
		e.int(int64(x))
	case uint8:
		e.int(int64(x))
	case uint16:
		e.int(int64(x))
	case uint32:
		e.int(int64(x))
	case uint:
		e.uint(uint64(x))
	case uint64:
		e.uint(x)
	case float64:
		return e.float(x, v)
	case float32:
		return e.float(float64(x), v)
	case *big.Int:
		if x == nil {
			return e.atom("nil")
		}
		return e.big(x, v)
	case Tuple:
		return e.tuple(x, depth)
	case []any:
		return e.list(x, nil, depth)
	case ImproperList:
		return e.improper(x, depth)
	case Charlist:
		return e.charlist(x, v)
	case map[any]any:
		if err := e.length(tagMap, len(x), v); err != nil {
			return err
		}
		for k, val := range x {
			if err := e.pair(k, val, depth); err != nil {
				return err
			}
		}
	case Map:
		if err := e.length(tagMap, len(x), v); err != nil {
			return err
		}
		for _, p := range x {
			if err := e.pair(p.Key, p.Value, depth); err != nil {
				return err
			}
		}
	case Struct:
		return e.structMap(x, depth)
	case map[Atom]any:
		if err := e.length(tagMap, len(x), v); err != nil {
			return err
		}
		for k, val := range x {
			if err := e.pair(k, val, depth); err != nil {
				return err
			}
		}
	case map[string]any:
		if err := e.length(tagMap, len(x), v); err != nil {
			return err
		}
		for k, val := range x {
			if err := e.pair(k, val, depth); err != nil {
				return err
			}
		}
	case Pid:
		return e.pid(x)
	case Ref:
		return e.ref(x)
	case Port:
		return e.port(x)
	case Export:
		return e.export(x)
	case Fun:
		return e.fun(x, depth)
	case BitString:
		return e.bitString(x)
	case *TermError:
		if s, ok := x.Reason.(Struct); ok {
			return e.structMap(s, depth)
		}
		return e.tuple(Tuple{Atom("error"), x.Reason}, depth)
	case error:
		// A Go error is {error, <<Message>>}: the failure value both
		// Erlang and Elixir code match on.
		return e.tuple(Tuple{Atom("error"), x.Error()}, depth)
	default:
		return e.reflectValue(v, depth)
	}
	return nil
}

func (e *encoder) pair(k, v any, depth int) error {
	if err := e.term(k, depth+1); err != nil {
		return err
	}
	return e.term(v, depth+1)
}

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

func (e *encoder) binary(s string, v any) error {
	if err := e.length(tagBinary, len(s), v); err != nil {
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
	} else if err := e.length(tagLargeTuple, len(t), t); err != nil {
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
	if err := e.length(tagList, len(elems), elems); err != nil {
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
	if err := e.length(tagMap, len(s.Fields)+1, s); err != nil {
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
