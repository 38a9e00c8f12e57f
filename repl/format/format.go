// Package format renders Go values the way gonode's shell prints them, in
// iex's notation where Go has no literal of its own (see Value). It is a
// leaf: the standard library only, so that whatever prints a value (the
// evaluator, a remote shell's client, a log line) prints it the same way
// without pulling in an interpreter or a terminal.
package format

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Limits of Value.
const (
	MaxElems = 50 // elements of a slice, array or map shown before "..."
	maxDepth = 8  // nesting shown before "..."
)

// Value renders the values of an expression the way the shell prints them,
// in iex's notation where Go has no literal of its own:
//
//	nil                       nil (nil pointers, interfaces, errors)
//	"a\tb"                    strings, quoted
//	1, 2.5, 1.0, true         numbers and booleans; integral floats keep ".0"
//	[1, 2, 3, ...]            slices and arrays, cut after MaxElems elements
//	%{"a" => 1}               maps, keys sorted, cut after MaxElems entries
//	%main.T{Name: "x"}        structs of named types; %P{n: 1} for a type
//	                          declared in the shell (Named names it; Value
//	                          alone prints %{n: 1}: yaegi loses the name)
//	&%T{...}                  pointers
//	<node1@host.42.0>         anything with a String method uses it
//	** (error) boom           an error value at top level
//	#Error<boom>              an error inside another value
//	#Function<func(int) int>  functions; #Chan<chan int> channels
//	(1, nil)                  several results; when the last is a non-nil
//	                          error only "** (error) ..." is shown
func Value(vals ...any) string { return Named(nil, vals...) }

// Named is Value with names for the unnamed struct types that stand for
// struct types declared in the shell: yaegi hands their values to the host
// as unnamed structs, and only the evaluator knows which declaration each
// reflect type came from.
func Named(types map[reflect.Type]string, vals ...any) string {
	switch {
	case len(vals) == 0:
		return ""
	case len(vals) == 1:
		return top(types, vals[0])
	}
	if err, ok := vals[len(vals)-1].(error); ok && !IsNil(err) {
		return top(types, err)
	}
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = typed(types, v)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func top(types map[reflect.Type]string, v any) string {
	if err, ok := v.(error); ok && !IsNil(err) {
		return "** (error) " + safeString(err.Error)
	}
	return typed(types, v)
}

// Panic renders a recovered panic value: an error's or a string's text as
// is, anything else as Value prints it.
func Panic(v any) string {
	switch x := v.(type) {
	case error:
		return safeString(x.Error)
	case string:
		return x
	}
	return typed(nil, v)
}

func typed(types map[reflect.Type]string, v any) string {
	var b strings.Builder
	p := printer{b: &b, seen: map[uintptr]bool{}, types: types}
	p.value(reflect.ValueOf(v), 0)
	return b.String()
}

// IsNil reports whether v is nil or a nil pointer, interface, map, slice,
// func or channel: a typed nil error is no error to print.
func IsNil(v any) bool {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Invalid:
		return true
	case reflect.Ptr, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

// safeString calls a String or Error method, turning a panic into text.
func safeString(f func() string) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("#Panic<%v>", r)
		}
	}()
	return f()
}

type printer struct {
	b     *strings.Builder
	seen  map[uintptr]bool        // pointers being printed, against cycles
	types map[reflect.Type]string // names of shell-declared struct types
}

func (p *printer) str(s string) { p.b.WriteString(s) }

func (p *printer) value(v reflect.Value, depth int) {
	if !v.IsValid() {
		p.str("nil")
		return
	}
	if depth > maxDepth {
		p.str("...")
		return
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Ptr:
		if v.IsNil() {
			p.str("nil")
			return
		}
	}
	if v.CanInterface() {
		switch x := v.Interface().(type) {
		case error:
			p.str("#Error<" + safeString(x.Error) + ">")
			return
		case fmt.Stringer:
			p.str(safeString(x.String))
			return
		}
	}
	switch v.Kind() {
	case reflect.Interface:
		p.value(v.Elem(), depth)
	case reflect.Ptr:
		if p.seen[v.Pointer()] {
			p.str("&...")
			return
		}
		p.seen[v.Pointer()] = true
		p.str("&")
		p.value(v.Elem(), depth+1)
		delete(p.seen, v.Pointer())
	case reflect.String:
		p.str(strconv.Quote(v.String()))
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		s := strconv.FormatFloat(f, 'g', -1, v.Type().Bits())
		if f == math.Trunc(f) && !math.IsInf(f, 0) && !strings.ContainsAny(s, "e.") {
			s += ".0"
		}
		p.str(s)
	case reflect.Slice, reflect.Array:
		p.str("[")
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				p.str(", ")
			}
			if i == MaxElems {
				p.str("...")
				break
			}
			p.value(v.Index(i), depth+1)
		}
		p.str("]")
	case reflect.Map:
		p.mapValue(v, depth)
	case reflect.Struct:
		p.structValue(v, depth)
	case reflect.Func:
		p.str("#Function<" + v.Type().String() + ">")
	case reflect.Chan:
		p.str("#Chan<" + v.Type().String() + ">")
	default:
		p.str(fmt.Sprint(valueOf(v)))
	}
}

// valueOf reads a basic value, even from an unexported field.
func valueOf(v reflect.Value) any {
	switch {
	case v.CanInt():
		return v.Int()
	case v.CanUint():
		return v.Uint()
	case v.Kind() == reflect.Bool:
		return v.Bool()
	case v.CanComplex():
		return v.Complex()
	case v.CanInterface():
		return v.Interface()
	}
	return v.Type().String()
}

func (p *printer) mapValue(v reflect.Value, depth int) {
	type entry struct{ k, v string }
	var es []entry
	it := v.MapRange()
	for it.Next() {
		var kb, vb strings.Builder
		(&printer{b: &kb, seen: p.seen, types: p.types}).value(it.Key(), depth+1)
		(&printer{b: &vb, seen: p.seen, types: p.types}).value(it.Value(), depth+1)
		es = append(es, entry{kb.String(), vb.String()})
	}
	sort.Slice(es, func(i, j int) bool { return es[i].k < es[j].k })
	p.str("%{")
	for i, e := range es {
		if i > 0 {
			p.str(", ")
		}
		if i == MaxElems {
			p.str("...")
			break
		}
		p.str(e.k + " => " + e.v)
	}
	p.str("}")
}

func (p *printer) structValue(v reflect.Value, depth int) {
	t := v.Type()
	if n := p.types[t]; n != "" && t.Name() == "" {
		p.str("%" + n + "{")
	} else if t.Name() == "" {
		p.str("%{")
	} else {
		p.str("%" + t.String() + "{")
	}
	for i := 0; i < v.NumField(); i++ {
		if i > 0 {
			p.str(", ")
		}
		name := t.Field(i).Name
		if t.Name() == "" {
			name = unmangle(name)
		}
		p.str(name + ": ")
		p.value(v.Field(i), depth+1)
	}
	p.str("}")
}

// unmangle undoes yaegi's renaming of an unexported field f to Xf.
func unmangle(name string) string {
	if len(name) > 1 && name[0] == 'X' {
		if r := rune(name[1]); unicode.IsLower(r) || r == '_' {
			return name[1:]
		}
	}
	return name
}
