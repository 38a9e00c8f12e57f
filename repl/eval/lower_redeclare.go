package eval

import (
	"context"
	"fmt"
	"go/ast"
	"go/token"
	"strings"

	"github.com/gonode/gonode/repl/syntax"
)

// At the prompt a variable may be declared again ("x := x + 1", as iex
// rebinds x = x + 1). yaegi makes the new variable, a zero one, when it
// compiles the input, before any of it runs: the value, the old
// variable's, was lost to everything in that input that read it, the
// redeclaration's own right-hand side included ("x := 1" then
// "x := x + 1" left x at 1; "fmt.Println(x); x := "s"" printed "").
// So such an input runs in two evaluations: first the statements before
// the redeclaration and its right-hand side, into temporaries; then the
// redeclaration from the temporaries and the rest of the input (which may
// be split again).

// splitRedeclaration returns the two inputs that src runs as when a
// top-level statement declares again a variable that the session or an
// earlier statement of the input declared, and that the input reads
// before or in that statement; ok is false when no statement does.
func (in *Interp) splitRedeclaration(sn *syntax.Snippet) (first, rest string, ok bool) {
	if onlyVarDecls(sn) {
		// "var z = z * 2": the same, read as statements (the shell runs
		// such input as statements anyway).
		var err error
		if sn, err = syntax.Analyze(";" + sn.Src); err != nil {
			return "", "", false
		}
	}
	if sn.Kind != syntax.Stmts {
		return "", "", false
	}
	earlier := map[string]bool{}
	stmts := sn.Statements()
	for k, s := range stmts {
		names, values, typ := redeclared(sn, s)
		var again []string
		for _, n := range names {
			if n != "_" && (earlier[n] || in.tab.isVar(n)) {
				again = append(again, n)
			}
		}
		for _, n := range names {
			earlier[n] = true
		}
		if len(again) == 0 {
			continue
		}
		read := false
		for _, prev := range stmts[:k] {
			read = read || mentions(prev, again)
		}
		for _, v := range values {
			read = read || mentions(v, again)
		}
		if !read {
			continue
		}
		start, end := sn.Off(s.Pos()), sn.Off(s.End())
		var temps, ptrs []string
		for range names {
			in.ntemps++
			t := fmt.Sprintf("%s%d", lowerTemp, in.ntemps)
			temps = append(temps, t)
			ptrs = append(ptrs, "&"+t)
		}
		list, tlist := strings.Join(names, ", "), strings.Join(temps, ", ")
		pre, decl := "", list+" := "+tlist
		switch {
		case len(values) == 0: // var x T: nothing to evaluate first
			pre, decl = "", sn.Text(s)
		case typ != "":
			pre = "var " + tlist + " " + typ + " = " + texts(sn, values)
			decl = "var " + list + " " + typ + " = " + tlist
		default:
			pre = tlist + " := " + texts(sn, values)
		}
		if pre != "" {
			decl += "; " + rtName + ".Zero(" + strings.Join(ptrs, ", ") + ")"
		}
		first = sn.Src[:start] + pre
		pad := strings.Repeat("\n", strings.Count(sn.Src[:start], "\n"))
		return first, pad + decl + sn.Src[end:], true
	}
	return "", "", false
}

// redeclared returns the variables a top-level statement declares, their
// values and the type written, if any.
func redeclared(sn *syntax.Snippet, s ast.Stmt) (names []string, values []ast.Expr, typ string) {
	switch s := s.(type) {
	case *ast.AssignStmt:
		if s.Tok != token.DEFINE {
			return nil, nil, ""
		}
		for _, l := range s.Lhs {
			id, ok := l.(*ast.Ident)
			if !ok {
				return nil, nil, ""
			}
			names = append(names, id.Name)
		}
		return names, s.Rhs, ""
	case *ast.DeclStmt:
		gd, ok := s.Decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR || len(gd.Specs) != 1 {
			return nil, nil, ""
		}
		vs := gd.Specs[0].(*ast.ValueSpec)
		for _, id := range vs.Names {
			names = append(names, id.Name)
		}
		if vs.Type != nil {
			typ = sn.Text(vs.Type)
		}
		return names, vs.Values, typ
	}
	return nil, nil, ""
}

func texts(sn *syntax.Snippet, es []ast.Expr) string {
	var out []string
	for _, e := range es {
		out = append(out, sn.Text(e))
	}
	return strings.Join(out, ", ")
}

// runSplit runs the two inputs of a split redeclaration, one after the
// other, as one: the declarations of both, the values of the second.
func (in *Interp) runSplit(ctx context.Context, first, rest string, commit bool) (Result, error) {
	res1, err := in.run(ctx, first, commit)
	if err != nil {
		return Result{}, err
	}
	res, err := in.run(ctx, rest, commit)
	if err != nil {
		return Result{}, err
	}
	res.Declared = append(res1.Declared, res.Declared...)
	res.stale = append(res1.stale, res.stale...)
	return res, nil
}
