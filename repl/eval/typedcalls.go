package eval

import (
	"go/ast"
	"go/token"

	"github.com/gonode/gonode/repl/syntax"
)

// yaegi v0.16.1 cannot declare a package-level variable from a call of a
// generic function without a type: "n := as[int](v)" at the prompt fails
// with "constant definition loop" (its first pass types the variable
// before it has instantiated the function), while "var n int =
// as[int](v)" compiles, as does the call inside a function. For the
// helpers of Options.TypedCalls, whose result is their type argument, the
// shell writes the type in: a top-level x := as[T](e) becomes
// ;var x T = as[T](e) (the semicolon makes yaegi take it as a statement, as
// rewrite does for a snippet that starts with var).

// rewriteTypedCalls adds those edits to rw (and var x = as[T](e) gets
// its T).
func (in *Interp) rewriteTypedCalls(rw *rewrite) {
	calls := in.env.opts.TypedCalls
	if len(calls) == 0 {
		return
	}
	sn := rw.sn
	// typeArg returns the type argument of a call of a helper of calls.
	typeArg := func(e ast.Expr) (ast.Expr, bool) {
		call, ok := e.(*ast.CallExpr)
		if !ok {
			return nil, false
		}
		ix, ok := call.Fun.(*ast.IndexExpr)
		if !ok {
			return nil, false
		}
		fn, ok := ix.X.(*ast.Ident)
		if !ok || !calls[fn.Name] || in.tab.lookup(fn.Name) != nil || declares(sn, fn.Name) {
			return nil, false // the session's own as, not the helper
		}
		return ix.Index, true
	}
	for _, n := range sn.Roots() {
		var gd *ast.GenDecl
		switch n := n.(type) {
		case *ast.GenDecl:
			gd = n
		case *ast.DeclStmt:
			gd, _ = n.Decl.(*ast.GenDecl)
		}
		if gd == nil || gd.Tok != token.VAR {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			if vs.Type != nil || len(vs.Names) != 1 || len(vs.Values) != 1 {
				continue
			}
			if t, ok := typeArg(vs.Values[0]); ok {
				at := sn.Off(vs.Names[0].End())
				rw.edits = append(rw.edits, edit{at, at, " " + sn.Text(t)})
			}
		}
	}
	for _, s := range sn.Statements() {
		as, ok := s.(*ast.AssignStmt)
		if !ok || as.Tok != token.DEFINE || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
			continue
		}
		id, ok := as.Lhs[0].(*ast.Ident)
		if !ok || id.Name == "_" {
			continue
		}
		t, ok := typeArg(as.Rhs[0])
		if !ok {
			continue
		}
		text := ";var " + id.Name + " " + sn.Text(t) + " = "
		rw.edits = append(rw.edits, edit{sn.Off(as.Pos()), sn.Off(as.Rhs[0].Pos()), text})
	}
}

// declares reports whether snippet sn declares name at top level.
func declares(sn *syntax.Snippet, name string) bool {
	for _, n := range sn.Roots() {
		if fd, ok := n.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == name {
			return true
		}
	}
	return false
}
