package eval

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/gonode/gonode/repl/syntax"
)

// yaegi hands a value of a type declared in the shell to host code as a
// value of its underlying type (an unnamed struct for a struct type),
// without its methods. For the arguments of fmt's print functions it
// makes an exception: an argument whose static type has a String method
// arrives wrapped in a host value that has one (its MapTypes table lists
// the interfaces to look for, per host function). That table knows
// neither Error (fmt.Println(MyErr{7}) printed {7}, %w of a shell error
// was %!w(...)) nor the shell's printer, and its Stringer wrapper is a
// struct that %d prints as one ({1 N} for an enum). So the shell gives
// yaegi its own table: for fmt's and log's print functions and for
// __gonode.Result, Error and String wrapped in the host types below, which
// format as fmt formats a value with those methods, and which keep the
// value itself (IValue) for the other verbs and for the shell's Values.

// shellError and shellStringer are the interfaces of the table; yaegi
// finds their wrappers by package path and "_" + name (see wrapperSymbols).
type (
	shellError    interface{ Error() string }
	shellStringer interface{ String() string }
)

// showTypes is the table's entry: the first interface a static type has
// decides (Error before String, as fmt prefers it; a Formatter of the
// shell's own first of all).
var showTypes = []reflect.Type{
	reflect.TypeOf((*fmt.Formatter)(nil)).Elem(),
	reflect.TypeOf((*shellError)(nil)).Elem(),
	reflect.TypeOf((*shellStringer)(nil)).Elem(),
}

// wrapError and wrapStringer are yaegi interface wrappers: the value first,
// then one func field per method, named with one extra leading letter.
type wrapError struct {
	IValue any
	WError func() string
}

type wrapStringer struct {
	IValue  any
	WString func() string
}

func (w wrapError) Error() string                    { return w.WError() }
func (w wrapStringer) String() string                { return w.WString() }
func (w wrapError) Format(f fmt.State, verb rune)    { formatShown(f, verb, w.IValue, w.WError) }
func (w wrapStringer) Format(f fmt.State, verb rune) { formatShown(f, verb, w.IValue, w.WString) }

// formatShown does what fmt does with a value v whose String or Error method is
// text: the method's text for %v, %s, %q, %x and %X, v for other verbs
// (%d of an enum) and for %#v.
func formatShown(f fmt.State, verb rune, v any, text func() string) {
	switch verb {
	case 'v', 's', 'q', 'x', 'X':
		if verb != 'v' || !f.Flag('#') {
			fmt.Fprintf(f, fmt.FormatString(f, verb), text())
			return
		}
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), v)
}

// unwrapShown returns the value a wrapper holds, and whether v is one.
func unwrapShown(v any) (any, bool) {
	switch w := v.(type) {
	case wrapError:
		return w.IValue, true
	case wrapStringer:
		return w.IValue, true
	}
	return v, false
}

// printFuncs are the host functions whose arguments get the wrappers.
var printFuncs = []any{
	fmt.Print, fmt.Println, fmt.Printf, fmt.Sprint, fmt.Sprintln, fmt.Sprintf,
	fmt.Fprint, fmt.Fprintln, fmt.Fprintf, fmt.Errorf, fmt.Append, fmt.Appendln, fmt.Appendf,
}

// stdlibMapTypes is yaegi's table with the print functions' entries
// replaced: it goes into stdlibFirst in place of yaegi's, so that yaegi
// copies the entries to the print functions it redirects to the
// interpreter's output when it loads fmt (and log: log's functions are
// replaced by methods of a logger of its own, which keep yaegi's entries).
func stdlibMapTypes() reflect.Value {
	m := map[reflect.Value][]reflect.Type{}
	for k, v := range stdlib.MapTypes {
		m[k] = v
	}
	for _, f := range printFuncs {
		m[reflect.ValueOf(f)] = showTypes
	}
	return reflect.ValueOf(m)
}

// wrapperSymbols are what yaegi looks the wrappers up by: the interface's
// package path, "_" + its name. Loaded after ImportUsed, so that the
// package is no name in the shell.
func wrapperSymbols() interp.Exports {
	return interp.Exports{reflect.TypeOf((*shellError)(nil)).Elem().PkgPath() + "/eval": {
		"_shellError":    reflect.ValueOf((*wrapError)(nil)),
		"_shellStringer": reflect.ValueOf((*wrapStringer)(nil)),
	}}
}

// resultMapTypes gives __gonode.Result (the function value rt holds) the
// table's entry: the shell prints a value with its String or Error method.
func resultMapTypes(result reflect.Value) interp.Exports {
	return interp.Exports{".": {"MapTypes": reflect.ValueOf(map[reflect.Value][]reflect.Type{result: showTypes})}}
}

// %T and %#v of a struct type declared in the shell: fmt sees the unnamed
// struct, "struct { X int; Y int }", where Go prints main.Point. The
// shell rewrites those arguments into __gonode.TypeString(x) and
// GoSyntax(x) (lower_fmt.go), which put the names back from the session's
// table of struct types (Interp.typeNames, kept by run after each snippet
// that declares a type). Types of other kinds arrive as their underlying
// type, which nothing tells apart from a value of that type: %T of a
// shell type "F float64" still says float64.

// declaresType reports whether entries declare a type.
func declaresType(entries []*declEntry) bool {
	for _, e := range entries {
		if e.Kind == syntax.DeclType {
			return true
		}
	}
	return false
}

// keepTypeNames renews the table of the session's struct types, after a
// snippet that declares types (entries) ran.
func (in *Interp) keepTypeNames(ctx context.Context, entries []*declEntry) {
	names := in.shellTypes(ctx, entries)
	in.resMu.Lock()
	in.typeNames = names
	in.resMu.Unlock()
}

// typeString is %T of x with the session's struct types named.
func (in *Interp) typeString(x any) string { return in.nameTypes(fmt.Sprintf("%T", x)) }

// goSyntax is %#v of x with the session's struct types named.
func (in *Interp) goSyntax(x any) string { return in.nameTypes(fmt.Sprintf("%#v", x)) }

// nameTypes replaces, in s, the unnamed struct types that stand for the
// session's struct types by main.Name, the longest first (a struct type
// can hold another).
func (in *Interp) nameTypes(s string) string {
	in.resMu.Lock()
	names := in.typeNames
	in.resMu.Unlock()
	type pair struct{ from, to string }
	var ps []pair
	for t, n := range names {
		if n != "" {
			ps = append(ps, pair{t.String(), "main." + n})
		}
	}
	sort.Slice(ps, func(i, j int) bool { return len(ps[i].from) > len(ps[j].from) })
	for _, p := range ps {
		s = strings.ReplaceAll(s, p.from, p.to)
	}
	return s
}

// errorsAs is errors.As for targets of shell types: errors.As panics when
// the target's type does not implement error, which the host sees of no
// shell type, and yaegi's wrapper is not the value the target wants. It
// walks the chain as errors.As does, matching a wrapped value by its type.
func errorsAs(err error, target any) bool {
	tv := reflect.ValueOf(target)
	if target == nil || tv.Kind() != reflect.Ptr || tv.IsNil() {
		panic("errors: target must be a non-nil pointer")
	}
	want := tv.Type().Elem()
	for err != nil {
		v := reflect.ValueOf(err)
		if w := v.Type(); w.Kind() == reflect.Struct && w.NumField() > 0 && w.Field(0).Name == "IValue" {
			v = v.Field(0).Elem() // a yaegi wrapper (ours or its own): the value
		}
		if v.IsValid() && v.Type().AssignableTo(want) {
			tv.Elem().Set(v)
			return true
		}
		if x, ok := err.(interface{ As(any) bool }); ok && x.As(target) {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if errorsAs(e, target) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}
