package eval

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strconv"
	"strings"

	"github.com/gonode/gonode/repl/syntax"
)

// Bundle is code shipped to an interpreter of its own, on this node or
// another: the function, the session declarations it needs, and the values
// of the variables it uses. Decls and Func are plain Go source, so a Bundle
// is plain data, not modified after it is made, and may be shared;
// Session.Load evaluates it. The Captures' values must be encodable by
// whatever carries the Bundle between nodes.
type Bundle struct {
	// Decls holds imports and the session's functions, methods, types and
	// constants that Func uses, transitively, as Go source.
	Decls string
	// Func is a Go expression yielding the function: a func literal, or
	// the name of a function declared in Decls.
	Func string
	// Captures are the variables Func and Decls use, with their values at
	// the time of shipping. They become package-level variables of the
	// worker; assignments there change the worker's copy only.
	Captures []Capture
}

// Capture is one variable carried in a Bundle.
type Capture struct {
	Name string
	// Type is the Go type of the value when shipped, e.g. "int". A number
	// that arrives with another type (an int64 from the wire) is converted
	// back to a basic Type.
	Type  string
	Value any
}

// ErrNotShippable is wrapped by every *ShipError.
var ErrNotShippable = errors.New("cannot ship function")

// ShipError says why code cannot be shipped to an interpreter of its own.
// It is a value, not modified once returned.
type ShipError struct{ Msg string }

func (e *ShipError) Error() string { return ErrNotShippable.Error() + ": " + e.Msg }
func (e *ShipError) Unwrap() error { return ErrNotShippable }

func shipErrorf(format string, args ...any) *ShipError {
	return &ShipError{Msg: fmt.Sprintf(format, args...)}
}

// calleeName renders the callee of a call as written: f or pkg.F.
func calleeName(fun ast.Expr) string {
	switch f := ast.Unparen(fun).(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		if x, ok := f.X.(*ast.Ident); ok {
			return x.Name + "." + f.Sel.Name
		}
	}
	return ""
}

// rewriteShip rewrites the code argument of each ship call (Options.
// ShipCalls) into __gonode.Ship(source, captured names, captured values...).
// The captured variables are the free identifiers of the literal that are
// local to the surrounding code or package-level variables of the session:
// their values are taken at the call. The literal itself is not rewritten:
// the interpreter that receives it does that.
func (in *Interp) rewriteShip(rw *rewrite, snippetVars []string) error {
	calls, literals := in.env.opts.ShipCalls, in.env.opts.ShipLiterals
	if len(calls) == 0 && len(literals) == 0 {
		return nil
	}
	sn := rw.sn
	isVar := map[string]bool{}
	for _, v := range snippetVars {
		isVar[v] = true
	}
	isFunc := map[string]bool{}
	if sn.Kind == syntax.Decls {
		for _, d := range sn.Decls() {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
				isFunc[fd.Name.Name] = true
			}
		}
	}
	var err error
	r := syntax.NewResolver()
	r.OnCall = func(call *ast.CallExpr) int {
		name := calleeName(call.Fun)
		idx, ok := calls[name]
		literalOnly := false
		if !ok {
			idx, ok = literals[name]
			literalOnly = ok
		}
		if ok && idx < 0 {
			idx += len(call.Args) // counted from the end: -1 is the last argument
		}
		if !ok || idx < 0 || idx >= len(call.Args) || err != nil {
			return -1
		}
		arg := call.Args[idx]
		if _, lit := ast.Unparen(arg).(*ast.FuncLit); literalOnly && !lit {
			return -1 // a function's name, say: as written
		}
		var text string
		switch a := ast.Unparen(arg).(type) {
		case *ast.FuncLit:
			var caps []string
			for _, n := range syntax.FreeNames(a) {
				if r.Declared(n) || isVar[n] || in.tab.isVar(n) {
					caps = append(caps, n)
				}
			}
			text = rtName + ".Ship(" + strconv.Quote(sn.Text(a)) + ", " + strconv.Quote(strings.Join(caps, " "))
			for _, c := range caps {
				text += ", " + c
			}
			text += ")"
		case *ast.Ident:
			if e := in.tab.lookup(a.Name); !r.Declared(a.Name) && !isVar[a.Name] && (isFunc[a.Name] || e != nil && e.Kind == syntax.DeclFunc) {
				text = rtName + ".Ship(" + strconv.Quote(a.Name) + `, "")`
			}
		}
		if text == "" {
			err = fmt.Errorf("%s: %w", sn.At(arg.Pos()), shipErrorf("%s needs a func literal, %s(func() { ... }), or the name of a function declared in this shell: the code runs in an interpreter of its own, so a function value cannot be passed", name, name))
			return idx
		}
		rw.edits = append(rw.edits, edit{sn.Off(arg.Pos()), sn.Off(arg.End()), text})
		return idx
	}
	if sn.Kind == syntax.Stmts {
		r.Push()
	}
	for _, n := range sn.Roots() {
		r.Walk(n)
	}
	return err
}

// ship is __gonode.Ship, called by rewritten code when the ship call runs.
// A refusal panics with a *ShipError, which evaluation turns into the
// snippet's error.
func (in *Interp) ship(src, names string, vals ...any) Bundle {
	b, err := in.tab.bundle(src, strings.Fields(names), vals)
	if err != nil {
		panic(err)
	}
	return b
}

// bundle makes the Bundle of the function expression src whose captured
// variables names have the values vals. Variables that only the session
// declarations use are taken from the last snapshot.
func (t *declTable) bundle(src string, names []string, vals []any) (Bundle, error) {
	var expr ast.Expr = ast.NewIdent(src) // a session function's name (rpc): no parse
	if !token.IsIdentifier(src) {
		var err error
		if expr, err = parser.ParseExpr(src); err != nil {
			return Bundle{}, shipErrorf("%v", err)
		}
	}
	if len(names) != len(vals) {
		return Bundle{}, shipErrorf("%d captured names for %d values", len(names), len(vals))
	}
	b := Bundle{Func: src}
	direct := map[string]bool{}
	for i, n := range names {
		direct[n] = true
		c, err := capture(n, vals[i])
		if err != nil {
			return Bundle{}, err
		}
		b.Captures = append(b.Captures, c)
	}
	var free []string
	for _, n := range syntax.FreeNames(expr) {
		if !direct[n] {
			free = append(free, n)
		}
	}
	entries, vars := t.closure(free, nil)
	for _, e := range entries {
		for _, n := range e.Names {
			if direct[n] {
				return Bundle{}, shipErrorf("%s is both a variable the function captures and a declaration it uses; rename the variable", n)
			}
		}
	}
	for _, v := range vars {
		if direct[v] {
			continue
		}
		val, ok := t.value(v)
		if !ok {
			return Bundle{}, shipErrorf("the function uses %s, which has no value yet", v)
		}
		c, err := capture(v, val)
		if err != nil {
			return Bundle{}, err
		}
		b.Captures = append(b.Captures, c)
	}
	b.Decls = source(entries)
	return b, nil
}

func capture(name string, v any) (Capture, error) {
	if err := syncCopy(name, v); err != nil { // ship_sync.go
		return Capture{}, err
	}
	if err := portable(reflect.ValueOf(v), map[uintptr]bool{}); err != "" {
		return Capture{}, shipErrorf("the function captures %s, which holds %s: only values of basic and host types can be copied to another interpreter; pass what it needs as plain values", name, err)
	}
	c := Capture{Name: name, Value: v}
	if v != nil {
		c.Type = reflect.TypeOf(v).String()
	}
	return c, nil
}

// portable says what in v cannot be copied into another interpreter, or "".
// Functions are bound to their interpreter; an unnamed struct type is what
// a type declared in the shell looks like from the host (its methods are
// lost in transit). Channels pass: they work between interpreters of one
// node, and the distribution layer refuses them on the wire.
func portable(v reflect.Value, seen map[uintptr]bool) string {
	if !v.IsValid() {
		return ""
	}
	switch v.Kind() {
	case reflect.Func:
		return "a function"
	case reflect.UnsafePointer:
		return "an unsafe pointer"
	case reflect.Interface:
		return portable(v.Elem(), seen)
	case reflect.Ptr:
		if v.IsNil() || seen[v.Pointer()] {
			return ""
		}
		seen[v.Pointer()] = true
		return portable(v.Elem(), seen)
	case reflect.Struct:
		if v.Type().Name() == "" {
			return "a value of a type declared in the shell (" + v.Type().String() + ")"
		}
		for i := 0; i < v.NumField(); i++ {
			if err := portable(v.Field(i), seen); err != "" {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if basicKind(v.Type().Elem().Kind()) {
			return ""
		}
		for i := 0; i < v.Len(); i++ {
			if err := portable(v.Index(i), seen); err != "" {
				return err
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if err := portable(it.Key(), seen); err != "" {
				return err
			}
			if err := portable(it.Value(), seen); err != "" {
				return err
			}
		}
	}
	return ""
}

func basicKind(k reflect.Kind) bool {
	return k >= reflect.Bool && k <= reflect.Complex128 || k == reflect.String
}
