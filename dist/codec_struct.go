package dist

import (
	"fmt"
	"math"
	"reflect"
)

// StructTypes lets a program that declares struct types while it runs (the
// shell, whose types Go sees as unnamed struct types built with
// reflect.StructOf) send their values with their type's name, and get them
// back as that type on a node that declares the same type. dist knows
// nothing of declarations: the program decides which types have names and
// what "the same declaration" means, through a fingerprint it computes
// (the shell hashes the Go struct type: field names, types and order).
//
// Implementations must be safe for concurrent use: every connection's
// writer calls StructName and every reader MakeStruct, and both are on the
// path of each message, so they should answer from memory.
type StructTypes interface {
	// StructName returns the name and fingerprint values of struct type t
	// are sent with, or ok false to send them as maps keyed by field name,
	// as any other struct.
	StructName(t reflect.Type) (name string, layout uint64, ok bool)
	// MakeStruct returns the value of the struct type named name with
	// fingerprint layout, built from fields (as decoded: integers as int,
	// slices as []any, ...), or ok false when this node has no such type:
	// the value then arrives as the fields map.
	MakeStruct(name string, layout uint64, fields map[string]any) (v any, ok bool)
}

// Limits of an extStruct on the wire. A type name is a Go identifier; the
// bound keeps a hostile name out of the program's tables.
const maxStructName = 255

// structType reports whether values of type t go through StructTypes: a
// struct it names, or a pointer, slice, array or map holding one. Other
// values keep the msgpack/v5 path, which encodes them as it always did.
func (e *encoder) structType(t reflect.Type) bool {
	for depth := 0; depth < MaxDepth; depth++ {
		switch t.Kind() {
		case reflect.Struct:
			_, _, ok := e.types.StructName(t)
			return ok
		case reflect.Pointer, reflect.Slice, reflect.Array:
			if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
				return false // []byte stays binary
			}
			t = t.Elem()
		case reflect.Map:
			if e.structType(t.Key()) {
				return true
			}
			t = t.Elem()
		default:
			return false
		}
	}
	return false
}

// typed appends v, whose type structType accepted: a named struct as an
// extStruct, the containers around one element by element (as []any and
// maps arrive anyway), so that the structs inside keep their names.
func (e *encoder) typed(v reflect.Value) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer func() { e.depth-- }()
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			e.b = append(e.b, 0xc0)
			return nil
		}
		return e.value(v.Elem().Interface())
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			e.b = append(e.b, 0xc0)
			return nil
		}
		e.b = appendArrayHeader(e.b, v.Len())
		for i := range v.Len() {
			if err := e.value(v.Index(i).Interface()); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		e.b = appendMapHeader(e.b, v.Len())
		it := v.MapRange()
		for it.Next() {
			if err := e.value(it.Key().Interface()); err != nil {
				return err
			}
			if err := e.value(it.Value().Interface()); err != nil {
				return err
			}
		}
		return nil
	}
	name, layout, _ := e.types.StructName(v.Type())
	start := e.beginExt(extStruct)
	e.b = appendStr(e.b, name)
	e.b = appendUint(e.b, layout)
	t := v.Type()
	n := 0
	for i := range t.NumField() {
		if t.Field(i).IsExported() {
			n++
		}
	}
	e.b = appendMapHeader(e.b, n)
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue // as msgpack/v5 does: only exported fields travel
		}
		e.b = appendStr(e.b, f.Name)
		if err := e.value(v.Field(i).Interface()); err != nil {
			return fmt.Errorf("field %s of %s: %w", f.Name, name, err)
		}
	}
	e.endExt(start)
	return nil
}

// structBody reads an extStruct body: the type's name, its fingerprint and
// a map of the fields. Without StructTypes, or when the program has no such
// type, the value is the fields map, as an unnamed struct arrives.
func (d *decoder) structBody() (any, error) {
	p, err := d.strBytes()
	if err != nil {
		return nil, err
	}
	if len(p) == 0 || len(p) > maxStructName {
		return nil, d.errorf("struct type name of %d bytes", len(p))
	}
	layout, err := d.uint(math.MaxUint64)
	if err != nil {
		return nil, err
	}
	c, err := d.byte1()
	if err != nil {
		return nil, err
	}
	n, ok, err := d.mapLen(c)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, d.errorf("struct fields are not a map")
	}
	if err := d.charge(len(p)); err != nil {
		return nil, err
	}
	name := string(p)
	v, err := d.mapBody(n)
	if err != nil {
		return nil, err
	}
	fields, ok := v.(map[string]any)
	if !ok {
		return nil, d.errorf("struct %s has a field name that is not a string", name)
	}
	if d.types != nil {
		if v, ok := d.types.MakeStruct(name, layout, fields); ok {
			return v, nil
		}
	}
	return fields, nil
}
