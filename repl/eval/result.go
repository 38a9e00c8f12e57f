package eval

import (
	"context"
	"reflect"

	"github.com/gonode/gonode/repl/format"
	"github.com/gonode/gonode/repl/syntax"
)

// Result is what evaluating one snippet produced: a value, not modified
// after Eval returns it.
type Result struct {
	// Values are the values of the final expression statement.
	Values []any
	// Show says the input ended with an expression that yields values: the
	// shell prints Values (see format.Value). It is false for declarations,
	// assignments, if/for and calls of functions without results.
	Show bool
	// Declared lists the names the input declared or redefined: functions,
	// types, constants, methods (as T.M) and package-level variables.
	Declared []string
	// Notice is something the shell should tell the user, such as the
	// interpreter having been rebuilt.
	Notice string

	// shown are the Values as printed: a value of a shell type with a
	// String or Error method wrapped with it (show.go); nil: Values.
	shown []any
	stale []string // redefinitions the shell interpreter cannot take in place
	// types names the struct types declared in the session, which reach
	// the host unnamed (see shellTypes); nil when no value needs it.
	types map[reflect.Type]string
}

// String renders the values to print, or "" when nothing is printed.
func (r Result) String() string {
	if !r.Show {
		return ""
	}
	return format.Named(r.types, r.printed()...)
}

func (r Result) printed() []any {
	if r.shown != nil {
		return r.shown
	}
	return r.Values
}

// IsError reports whether the printed value is an error: one error value,
// or several values of which the last is a non-nil error (format.Value then
// prints only "** (error) ...").
func (r Result) IsError() bool {
	vals := r.printed()
	if !r.Show || len(vals) == 0 {
		return false
	}
	err, ok := vals[len(vals)-1].(error)
	return ok && !format.IsNil(err)
}

// shellTypes maps the reflect types of the struct types declared in the
// session (and in entries, this snippet's declarations) to their names.
// yaegi hands a value of such a type to the host as an unnamed struct; its
// reflect type is the same for every value of the declared type, so the
// printer can name it as iex does (%P{...}). Two declared types with the
// same fields have one reflect type: neither is named; an unnamed struct
// with the fields of one declared type prints with its name. Types that cannot be
// instantiated without arguments (generic types) are skipped.
func (in *Interp) shellTypes(ctx context.Context, entries []*declEntry) map[reflect.Type]string {
	all, _ := in.tab.all()
	var names []string
	for _, e := range append(all, entries...) {
		if e.Kind == syntax.DeclType {
			names = append(names, e.Names...)
		}
	}
	types := map[reflect.Type]string{}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] || syntax.Reserved(n) {
			continue
		}
		seen[n] = true
		in.takeResult()
		if err := in.evalRaw(ctx, rtName+".Result(*new("+n+"))"); err != nil {
			continue
		}
		vals := in.takeResult()
		if len(vals) != 1 {
			continue
		}
		t := reflect.TypeOf(vals[0])
		if t == nil || t.Kind() != reflect.Struct || t.Name() != "" {
			continue
		}
		if _, dup := types[t]; dup {
			types[t] = "" // ambiguous
			continue
		}
		types[t] = n
	}
	return types
}

// hasUnnamedStruct reports whether printing vals may meet an unnamed
// struct type: one among their types, or inside them.
func hasUnnamedStruct(vals []any) bool {
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type) bool
	walk = func(t reflect.Type) bool {
		if t == nil || seen[t] {
			return false
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Struct:
			if t.Name() == "" {
				return true
			}
			for i := 0; i < t.NumField(); i++ {
				if walk(t.Field(i).Type) {
					return true
				}
			}
		case reflect.Ptr, reflect.Slice, reflect.Array, reflect.Chan:
			return walk(t.Elem())
		case reflect.Map:
			return walk(t.Key()) || walk(t.Elem())
		case reflect.Interface:
			return true // the dynamic value may be one
		}
		return false
	}
	for _, v := range vals {
		if walk(reflect.TypeOf(v)) {
			return true
		}
	}
	return false
}
