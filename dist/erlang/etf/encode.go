package etf

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
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
// It takes no value to name in its error: boxing one would allocate on
// every call.
func (e *encoder) length(tag byte, n int) error {
	if uint64(n) > math.MaxUint32 {
		return fmt.Errorf("%w: a term of tag %d with %d elements, more than 2^32-1", ErrUnsupported, tag, n)
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
		return e.binary(x)
	case []byte:
		if err := e.length(tagBinary, len(x)); err != nil {
			return err
		}
		e.buf = append(e.buf, x...) // not through a string: that would copy
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
		if err := e.length(tagMap, len(x)); err != nil {
			return err
		}
		for k, val := range x {
			if err := e.pair(k, val, depth); err != nil {
				return err
			}
		}
	case Map:
		if err := e.length(tagMap, len(x)); err != nil {
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
		if err := e.length(tagMap, len(x)); err != nil {
			return err
		}
		for k, val := range x {
			if err := e.pair(k, val, depth); err != nil {
				return err
			}
		}
	case map[string]any:
		if err := e.length(tagMap, len(x)); err != nil {
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
