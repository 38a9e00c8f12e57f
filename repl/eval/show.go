package eval

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"reflect"
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

// The shell's printer: the final expression's value goes to
// __gonode.Result as is (the Values), and to __gonode.Shown, which has the
// table's entry, for printing. yaegi wraps by the static type of an
// argument, and the wrapper's IValue is not the value for a struct type
// (it takes the struct for an emulated interface and keeps its last
// field), so the value is passed twice from a variable that has the
// expression's type, in a func literal called at once (parenthesized: see
// rewrite), evaluated once.
func showFinal(text string) string {
	return "(func() { __gonode_v := " + text + "; " + rtName + ".Result(__gonode_v); " + rtName + ".Shown(__gonode_v) })()"
}

// resultMapTypes gives __gonode.Shown and PrintArg (the function values rt
// holds) the table's entry.
func resultMapTypes(fns ...reflect.Value) interp.Exports {
	m := map[reflect.Value][]reflect.Type{}
	for _, f := range fns {
		m[f] = showTypes
	}
	return interp.Exports{".": {"MapTypes": reflect.ValueOf(m)}}
}

// setShown is __gonode.Shown.
func (in *Interp) setShown(v any) {
	in.resMu.Lock()
	in.shown = []any{v}
	in.resMu.Unlock()
}

// evalFinal evaluates prefix+text, text the final expression yielding n
// values, and returns them, with the values to print when one is a shell
// type's value with a String or Error method. showFinal is used only when
// the session declares such methods, and not for nil (which has no type
// for a variable); when yaegi cannot compile it, the expression is
// evaluated as it was (nothing ran: yaegi compiles the whole input first).
func (in *Interp) evalFinal(ctx context.Context, prefix, text string, n int, final ast.Expr) (vals, shown []any, err error) {
	if n == 1 && in.hasShowMethods() {
		if id, isNil := ast.Unparen(final).(*ast.Ident); !isNil || id.Name != "nil" {
			in.takeResult()
			in.takeShown()
			err := in.evalRaw(ctx, prefix+showFinal(text))
			var pe *PanicError
			if err == nil || errors.As(err, &pe) || ctx.Err() != nil || in.abandoned {
				vals, shown = in.takeResult(), in.takeShown()
				if len(shown) == 1 {
					if _, ok := unwrapShown(shown[0]); !ok {
						shown = nil
					}
				}
				return vals, shown, err
			}
		}
	}
	if n > 0 {
		text = rtName + ".Result(" + text + ")"
	}
	in.takeResult()
	err = in.evalRaw(ctx, prefix+text)
	return in.takeResult(), nil, err
}

func (in *Interp) takeShown() []any {
	in.resMu.Lock()
	defer in.resMu.Unlock()
	s := in.shown
	in.shown = nil
	return s
}

// hasShowMethods reports whether the session declares a String or Error
// method.
func (in *Interp) hasShowMethods() bool {
	all, _ := in.tab.all()
	for _, e := range all {
		if e.Kind == syntax.DeclMethod && (strings.HasSuffix(e.Key, ".String") || strings.HasSuffix(e.Key, ".Error")) {
			return true
		}
	}
	return false
}

// errorsAs is errors.As for targets of shell types: errors.As panics when
// the target's type does not implement error, which the host sees of no
// shell type, and yaegi's wrapper is not the value the target wants. It
// walks the chain as errors.As does, matching a wrapped value by its type.
func (in *Interp) errorsAs(err error, target any) bool {
	tv := reflect.ValueOf(target)
	if target == nil || tv.Kind() != reflect.Ptr || tv.IsNil() {
		panic("errors: target must be a non-nil pointer")
	}
	want := tv.Type().Elem()
	for err != nil {
		v := reflect.ValueOf(err)
		if w := v.Type(); w.Kind() == reflect.Struct && w.NumField() > 0 && w.Field(0).Name == "IValue" {
			v = v.Field(0).Elem() // a yaegi wrapper (ours or its own): the value
			if want.Kind() == reflect.Struct && want.Name() == "" && v.IsValid() && v.Type() != want {
				// The wrapper of a struct type holds one of its fields
				// (see showResult): whether it is a want is unknown.
				name := "T"
				if tt := in.types(); tt != nil && len(tt.structs[want]) == 1 {
					name = tt.structs[want][0]
				}
				Fail("errors.As cannot find a value of %s, a struct type declared in the shell, in an error chain: the interpreter keeps only part of such a value there. Give %s's Error method a pointer receiver and look for a pointer (var target *%s), or compare with errors.Is", name, name, name)
			}
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
				if in.errorsAs(e, target) {
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
