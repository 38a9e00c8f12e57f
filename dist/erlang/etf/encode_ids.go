package etf

import (
	"fmt"
	"math"
	"reflect"
)

func (e *encoder) pid(p Pid) error {
	e.buf = append(e.buf, tagNewPid)
	if err := e.atom(string(p.Node)); err != nil {
		return err
	}
	e.u32(p.ID)
	e.u32(p.Serial)
	e.u32(p.Creation)
	return nil
}

func (e *encoder) ref(r Ref) error {
	if r.Len > maxRefWords {
		return unsupported(r, fmt.Sprintf("reference of %d words, at most %d", r.Len, maxRefWords))
	}
	e.buf = append(e.buf, tagNewerReference)
	e.u16(int(r.Len))
	if err := e.atom(string(r.Node)); err != nil {
		return err
	}
	e.u32(r.Creation)
	for _, w := range r.ID[:r.Len] {
		e.u32(w)
	}
	return nil
}

// port writes NEW_PORT when the id fits 32 bits, as OTP 25 does, and
// V4_PORT otherwise.
func (e *encoder) port(p Port) error {
	tag := byte(tagNewPort)
	if p.ID > math.MaxUint32 {
		tag = tagV4Port
	}
	e.buf = append(e.buf, tag)
	if err := e.atom(string(p.Node)); err != nil {
		return err
	}
	if tag == tagV4Port {
		e.u32(uint32(p.ID >> 32))
	}
	e.u32(uint32(p.ID))
	e.u32(p.Creation)
	return nil
}

func (e *encoder) export(x Export) error {
	e.buf = append(e.buf, tagExport)
	if err := e.atom(string(x.Module)); err != nil {
		return err
	}
	if err := e.atom(string(x.Function)); err != nil {
		return err
	}
	e.buf = append(e.buf, tagSmallInteger, x.Arity)
	return nil
}

func (e *encoder) fun(f Fun, depth int) error {
	for _, n := range []int64{f.OldIndex, f.OldUniq} {
		if n < math.MinInt32 || n > math.MaxInt32 {
			return unsupported(f, "OldIndex and OldUniq are 32-bit integers")
		}
	}
	if uint64(len(f.Free)) > math.MaxUint32 {
		return unsupported(f, "too many free variables")
	}
	e.buf = append(e.buf, tagNewFun)
	at := len(e.buf)
	e.u32(0) // Size, filled in below
	e.buf = append(e.buf, f.Arity)
	e.buf = append(e.buf, f.Uniq[:]...)
	e.u32(f.Index)
	e.u32(uint32(len(f.Free)))
	if err := e.atom(string(f.Module)); err != nil {
		return err
	}
	e.int(f.OldIndex)
	e.int(f.OldUniq)
	if err := e.pid(f.Pid); err != nil {
		return err
	}
	for _, x := range f.Free {
		if err := e.term(x, depth+1); err != nil {
			return err
		}
	}
	size := len(e.buf) - at
	if uint64(size) > math.MaxUint32 {
		return unsupported(f, "fun larger than 4 GiB")
	}
	e.buf[at], e.buf[at+1], e.buf[at+2], e.buf[at+3] = byte(size>>24), byte(size>>16), byte(size>>8), byte(size)
	return nil
}

// bitString writes BIT_BINARY; TailBits 0 or 8 means whole bytes, a binary.
func (e *encoder) bitString(b BitString) error {
	if b.TailBits == 0 || b.TailBits == 8 {
		return e.binary(string(b.Bytes))
	}
	if b.TailBits > 8 || len(b.Bytes) == 0 {
		return unsupported(b, fmt.Sprintf("%d bytes with %d bits in the last", len(b.Bytes), b.TailBits))
	}
	if err := e.length(tagBitBinary, len(b.Bytes)); err != nil {
		return err
	}
	e.buf = append(e.buf, b.TailBits)
	e.buf = append(e.buf, b.Bytes...)
	e.buf[len(e.buf)-1] &= 0xff << (8 - b.TailBits) // unused bits are zero on the wire
	return nil
}

// reflectValue encodes the Go values the type switch does not list by
// their kind: named strings and numbers, other slices and maps, pointers.
// Structs, channels, funcs, complex numbers and unsafe pointers have no
// term.
func (e *encoder) reflectValue(v any, depth int) error {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		return e.term(rv.Bool(), depth)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.int(rv.Int())
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.uint(rv.Uint())
		return nil
	case reflect.Float32, reflect.Float64:
		return e.float(rv.Float(), v)
	case reflect.String:
		return e.binary(rv.String())
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return e.atom("nil")
		}
		return e.term(rv.Elem().Interface(), depth+1)
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return e.binary(string(rv.Bytes()))
		}
		fallthrough
	case reflect.Array:
		n := rv.Len()
		if n == 0 {
			e.buf = append(e.buf, tagNil)
			return nil
		}
		if err := e.length(tagList, n); err != nil {
			return err
		}
		for i := range n {
			if err := e.term(rv.Index(i).Interface(), depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, tagNil)
		return nil
	case reflect.Map:
		if err := e.length(tagMap, rv.Len()); err != nil {
			return err
		}
		it := rv.MapRange()
		for it.Next() {
			if err := e.pair(it.Key().Interface(), it.Value().Interface(), depth); err != nil {
				return err
			}
		}
		return nil
	case reflect.Struct:
		return unsupported(v, "a Go struct has no term: convert it to a map, a Tuple or a Struct")
	}
	return unsupported(v, "no term for its kind "+rv.Kind().String())
}
