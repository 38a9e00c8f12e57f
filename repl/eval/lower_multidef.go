package eval

import (
	"go/ast"
	"go/token"
)

// yaegi fails with "undefined: n" on a declaration of several variables
// from one call inside a block typed at the prompt, the Tour's
//
//	for {
//		n, err := r.Read(b)
//		fmt.Printf("n = %v err = %v\n", n, err)
//		...
//	}
//
// (the body of a for, if, switch or a bare block; an init clause is fine),
// while the same code in a function body works. So such a statement runs
// as a function literal called at once, as rewriteShadowing does for its
// case: the variables it declares were local to it anyway. One that
// defers a call is left alone, since its deferred calls would then run at
// its end rather than at the input's.

// rewriteMultiDefines wraps each top-level compound statement that
// declares several variables from a call into (func() { ... })(). It runs
// last of the rewrites: the statement's text holds the others' edits.
func (in *Interp) rewriteMultiDefines(rw *rewrite) {
	for _, s := range rw.sn.Statements() {
		inner := s
		if l, ok := s.(*ast.LabeledStmt); ok {
			inner = l.Stmt
		}
		switch inner.(type) {
		case *ast.BlockStmt, *ast.ForStmt, *ast.RangeStmt, *ast.IfStmt,
			*ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
		default:
			continue
		}
		if !multiDefine(s) {
			continue
		}
		start, end := rw.sn.Off(s.Pos()), rw.sn.Off(s.End())
		if rw.freeRange(start, end) {
			rw.replace(start, end, "(func() {"+rw.apply(start, end)+"})()")
		}
	}
}

// multiDefine reports whether s declares, outside the function literals
// it holds, several variables from one call, and defers nothing and has
// no goto (which could leave the literal).
func multiDefine(s ast.Stmt) bool {
	found, blocked := false, false
	ast.Inspect(s, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.DeferStmt:
			blocked = true
		case *ast.BranchStmt:
			blocked = blocked || n.Tok == token.GOTO
		case *ast.AssignStmt:
			if _, call := singleCall(n.Rhs); call && n.Tok == token.DEFINE && len(n.Lhs) > 1 {
				found = true
			}
		case *ast.ValueSpec:
			if _, call := singleCall(n.Values); call && len(n.Names) > 1 {
				found = true
			}
		}
		return true
	})
	return found && !blocked
}

// singleCall returns the call that is the only expression of es.
func singleCall(es []ast.Expr) (*ast.CallExpr, bool) {
	if len(es) != 1 {
		return nil, false
	}
	c, ok := ast.Unparen(es[0]).(*ast.CallExpr)
	return c, ok
}
