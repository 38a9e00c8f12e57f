package eval

import (
	"context"
	"fmt"
	"go/ast"
	"path"
	"reflect"
	"strings"

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

// Eval evaluates one snippet of shell input: declarations or statements.
// It records the declarations in the interpreter's table, so that code
// shipped from here can carry them along. Errors: syntax.ErrIncomplete,
// syntax.ErrGoStatement, syntax and compile errors, *PanicError, *ShipError,
// ctx.Err() (after which the Interp is abandoned) and ErrAbandoned.
func (in *Interp) Eval(ctx context.Context, src string) (Result, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.run(ctx, src, true)
}

func (in *Interp) run(ctx context.Context, src string, commit bool) (Result, error) {
	sn, err := syntax.Analyze(src)
	if err != nil || sn.Kind == syntax.Empty {
		return Result{}, err
	}
	if err := sn.CheckGo(); err != nil {
		return Result{}, err
	}
	if first, rest, ok := in.splitRedeclaration(sn); ok { // lower_redeclare.go
		return in.runSplit(ctx, first, rest, commit)
	}
	entries, vars := extract(sn)
	rw, err := in.rewrite(sn, vars)
	if err != nil {
		return Result{}, err
	}
	for _, imp := range rw.imports {
		if err := in.evalRaw(ctx, imp.Src); err != nil {
			return Result{}, err
		}
		in.imported[imp.Key] = true
	}
	var res Result
	if final := sn.Final(); final != nil {
		res, err = in.runFinal(ctx, sn, rw, final)
	} else if text := rw.apply(0, len(sn.Src)); strings.TrimSpace(text) != "" {
		err = in.evalRaw(ctx, text)
	}
	if err != nil {
		return Result{}, in.explainRuntime(ctx, sn, in.explainUndefined(sn, err))
	}
	if declaresType(entries) {
		in.keepTypeNames(ctx, entries) // show.go
	}
	if res.Show && hasUnnamedStruct(res.Values) {
		res.types = in.shellTypes(ctx, entries)
	}
	for _, e := range entries {
		if e.Kind == syntax.DeclImport {
			in.imported[e.Key] = true
		}
		if e.Kind == syntax.DeclMethod {
			res.Declared = append(res.Declared, e.Key)
		}
		res.Declared = append(res.Declared, e.Names...)
	}
	res.Declared = append(res.Declared, vars...)
	if commit {
		res.stale = in.tab.commit(entries, vars)
	}
	return res, nil
}

// runFinal evaluates a statement snippet whose last statement is an
// expression, wrapping that expression in __gonode.Result when it yields
// values. When the number of values is not known from the syntax, the
// statements before it run first, then the callee is evaluated (into a
// temporary if evaluating it has side effects) and its reflect type says.
func (in *Interp) runFinal(ctx context.Context, sn *syntax.Snippet, rw *rewrite, final ast.Expr) (Result, error) {
	start, end := sn.Off(final.Pos()), sn.Off(final.End())
	pad := strings.Repeat("\n", sn.Line(final.Pos())-1)
	prefix := rw.apply(0, start)
	n, err := in.finalCount(sn, final)
	if err != nil {
		return Result{}, err
	}
	if n < 0 {
		call := final.(*ast.CallExpr)
		if strings.TrimSpace(prefix) != "" {
			if err := in.evalRaw(ctx, prefix); err != nil {
				return Result{}, err
			}
		}
		prefix = pad
		callee := rw.apply(sn.Off(call.Fun.Pos()), sn.Off(call.Fun.End()))
		args := rw.apply(sn.Off(call.Fun.End()), end)
		if syntax.SideEffects(call.Fun) {
			if err := in.evalRaw(ctx, pad+"__gonode_callee := "+callee); err != nil {
				return Result{}, err
			}
			callee = "__gonode_callee"
		}
		if n, err = in.funcResults(ctx, pad+callee); err != nil {
			return Result{}, err
		}
		rw = &rewrite{sn: &syntax.Snippet{Src: callee + args}}
		start, end = 0, len(rw.sn.Src)
	}
	vals, shown, err := in.evalFinal(ctx, prefix, rw.apply(start, end), n, final) // show.go
	if err != nil {
		return Result{}, err
	}
	if n > 0 && len(vals) != n {
		return Result{}, fmt.Errorf("repl: expected %d values, got %d", n, len(vals))
	}
	res := Result{Values: vals, Show: n > 0, shown: shown}
	return res, nil
}

// funcResults evaluates a callee and returns how many results calling it
// yields: NumOut for a function, 1 for anything else (a conversion).
func (in *Interp) funcResults(ctx context.Context, callee string) (int, error) {
	in.takeResult()
	if err := in.evalRaw(ctx, rtName+".Result("+callee+")"); err != nil {
		return 0, err
	}
	vals := in.takeResult()
	if len(vals) == 1 {
		if v := reflect.ValueOf(vals[0]); v.Kind() == reflect.Func {
			return v.Type().NumOut(), nil
		}
	}
	return 1, nil
}

// finalCount returns how many values the final expression yields, -1 when
// only evaluating its callee can tell, and an error for a bare type name.
func (in *Interp) finalCount(sn *syntax.Snippet, final ast.Expr) (int, error) {
	nm := &snippetNamer{in: in, local: map[string]syntax.NameKind{}}
	for _, s := range sn.Statements()[:len(sn.Statements())-1] {
		es, vars := extract(sn.Part(s))
		for _, v := range vars {
			nm.local[v] = syntax.NameUnknown
		}
		for _, e := range es {
			k, _ := entryKind(e)
			for _, n := range e.Names {
				nm.local[n] = k
			}
		}
	}
	switch x := ast.Unparen(final).(type) {
	case *ast.CallExpr:
		return syntax.ResultCount(x, nm), nil
	case *ast.Ident:
		if k, _ := nm.Ident(x.Name); k == syntax.NameType || (k == syntax.NameUnknown && syntax.IsPredeclaredType(x.Name) && nm.unbound(x.Name)) {
			return 0, fmt.Errorf("%s (type) is not an expression", x.Name)
		}
	case *ast.SelectorExpr:
		if pkg, ok := x.X.(*ast.Ident); ok {
			if k, _ := nm.Member(pkg.Name, x.Sel.Name); k == syntax.NameType {
				return 0, fmt.Errorf("%s.%s (type) is not an expression", pkg.Name, x.Sel.Name)
			}
		}
	}
	return 1, nil
}

// snippetNamer answers what names mean for one snippet: names declared by
// its earlier statements first, then the interpreter's.
type snippetNamer struct {
	in    *Interp
	local map[string]syntax.NameKind
}

func (nm *snippetNamer) unbound(name string) bool {
	_, ok := nm.local[name]
	return !ok && nm.in.tab.lookup(name) == nil && !nm.in.tab.isVar(name)
}

func (nm *snippetNamer) Ident(name string) (syntax.NameKind, int) {
	if k, ok := nm.local[name]; ok {
		return k, 0
	}
	for _, t := range []*declTable{nm.in.tab, nm.in.env.prelude} {
		if t.isVar(name) {
			return syntax.NameUnknown, 0
		}
		if e := t.lookup(name); e != nil {
			return entryKind(e)
		}
	}
	for _, k := range nm.in.env.dots {
		if v, ok := nm.in.env.exportsOf(k)[name]; ok {
			return valueKind(v)
		}
	}
	return syntax.NameUnknown, 0
}

func (nm *snippetNamer) Member(pkg, name string) (syntax.NameKind, int) {
	if _, ok := nm.local[pkg]; ok || nm.in.tab.isVar(pkg) {
		return syntax.NameUnknown, 0
	}
	key := nm.in.env.pkgs[pkg]
	if e := nm.in.tab.lookup(pkg); e != nil {
		if e.Kind != syntax.DeclImport {
			return syntax.NameUnknown, 0
		}
		key = nm.in.env.keyOf(strings.Fields(e.Key)[2])
	}
	if key == "fmt/fmt" && quietPrints[name] {
		return syntax.NameFunc, 0
	}
	if n, ok := genericResults[path.Base(key)+"."+name]; ok && key != "" { // stdgeneric.go
		return syntax.NameFunc, n
	}
	if v, ok := nm.in.env.exportsOf(key)[name]; ok && key != "" {
		return valueKind(v)
	}
	return syntax.NameUnknown, 0
}

// quietPrints are the fmt functions whose results (bytes written, error) the
// shell does not print: like iex's IO.puts, printing is their point.
var quietPrints = map[string]bool{"Print": true, "Printf": true, "Println": true}

func entryKind(e *declEntry) (syntax.NameKind, int) {
	switch e.Kind {
	case syntax.DeclType:
		return syntax.NameType, 0
	case syntax.DeclFunc:
		return syntax.NameFunc, e.Results
	}
	return syntax.NameUnknown, 0
}

// valueKind classifies a yaegi export: a nil pointer stands for a type.
func valueKind(v reflect.Value) (syntax.NameKind, int) {
	switch {
	case v.Kind() == reflect.Ptr && v.IsNil():
		return syntax.NameType, 0
	case v.Kind() == reflect.Func:
		return syntax.NameFunc, v.Type().NumOut()
	}
	return syntax.NameUnknown, 0
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
