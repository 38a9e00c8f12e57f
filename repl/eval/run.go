package eval

import (
	"context"
	"fmt"
	"go/ast"
	"reflect"
	"strings"

	"github.com/gonode/gonode/repl/syntax"
)

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
