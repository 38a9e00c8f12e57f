package eval

import (
	"errors"
	"go/ast"
	"go/token"
	"strings"
)

// Since Go 1.22 each iteration of a loop has its own loop variables, so a
// func literal or a pointer made in one iteration keeps that iteration's
// value. yaegi v0.16.1 stops at Go 1.21: one variable for the whole loop
// ("for i := 0; i < 3; i++ { fs = append(fs, func() { print(i) }) }" then
// printed 3 3 3). A variable declared inside the body is new at each
// iteration in yaegi too, so when the body captures a loop variable (a
// func literal names it, its address is taken, a defer statement names
// it), the shell gives each iteration its own copy:
//
//   - a range loop, or a three-clause loop whose body never assigns the
//     variable: "for ...; ... { i := i; { body } }";
//   - a three-clause loop whose body assigns it (or takes its address,
//     through which it may be assigned): the copy is written back to the
//     loop's variable before the post statement runs, at the end of the
//     body and at each continue of this loop, as Go 1.22 carries the
//     value over to the next iteration's variable:
//     "for ... { __p := &i; i := i; { body }; *__p = i }", a continue
//     becoming "{ *__p = i; continue }".

// errLoopVar refuses a loop the shell cannot give per-iteration variables.
var errLoopVar = errors.New("this loop both changes its variable and keeps it (in a func literal, a pointer or a defer) " +
	"inside a statement the shell already rewrites, which is not supported: " +
	"copy the variable at the start of the body (v := i) and use the copy")

// control rewrites s when it is a defer statement (lower_defer.go) or a
// loop whose body captures its variables, and says whether s was handled.
func (lw *lowerer) control(s ast.Stmt, label *ast.LabeledStmt, inFunc bool) bool {
	if !inFunc && lw.deadlock(s) { // lower_deadlock.go
		return true
	}
	switch s := s.(type) {
	case *ast.DeferStmt:
		lw.deferStmt(s, label, inFunc)
		return true
	case *ast.ForStmt:
		init, ok := s.Init.(*ast.AssignStmt)
		if !ok || init.Tok != token.DEFINE {
			return false
		}
		names := capturedVars(s.Body, init.Lhs)
		if len(names) == 0 {
			return false
		}
		if assigns(s.Body, names) {
			lw.carryOver(s, label, names)
		} else {
			lw.copyIn(s.Body, names)
		}
		return true
	case *ast.RangeStmt:
		if s.Tok != token.DEFINE {
			return false
		}
		// The range assigns the next values itself: a copy in suffices,
		// whatever the body does with it.
		names := capturedVars(s.Body, []ast.Expr{s.Key, s.Value})
		if len(names) == 0 {
			return false
		}
		lw.copyIn(s.Body, names)
		return true
	}
	return false
}

// copyIn makes body start with a copy of the loop variables names.
func (lw *lowerer) copyIn(body *ast.BlockStmt, names []string) {
	sn := lw.rw.sn
	inner := lw.rw.apply(sn.Off(body.Lbrace)+1, sn.Off(body.Rbrace))
	list := strings.Join(names, ", ")
	lw.replace(sn.Off(body.Lbrace), sn.Off(body.End()), "{ "+list+" := "+list+"; {"+inner+"} }")
}

// carryOver gives each iteration of f its own copy of names, written back
// to the loop's variables wherever the iteration goes on to the post
// statement.
func (lw *lowerer) carryOver(f *ast.ForStmt, label *ast.LabeledStmt, names []string) {
	sn := lw.rw.sn
	var ptrs, derefs []string
	for range names {
		p := lw.temp()
		ptrs = append(ptrs, p)
		derefs = append(derefs, "*"+p)
	}
	list := strings.Join(names, ", ")
	back := strings.Join(derefs, ", ") + " = " + list
	for _, c := range continues(f.Body, label) {
		start, end := sn.Off(c.Pos()), sn.Off(c.End())
		for _, e := range lw.rw.edits {
			if e.start < start && e.end >= end || e.start <= start && e.end > end {
				if lw.err == nil {
					lw.err = errLoopVar
				}
				return
			}
		}
		lw.replace(start, end, "{ "+back+"; "+sn.Src[start:end]+" }")
	}
	var refs []string
	for _, n := range names {
		refs = append(refs, "&"+n)
	}
	inner := lw.rw.apply(sn.Off(f.Body.Lbrace)+1, sn.Off(f.Body.Rbrace))
	text := "{ " + strings.Join(ptrs, ", ") + " := " + strings.Join(refs, ", ") + "; " +
		list + " := " + list + "; {" + inner + "}; " + back + " }"
	lw.replace(sn.Off(f.Body.Lbrace), sn.Off(f.Body.End()), text)
}

// continues returns the continue statements of body that go on with its
// loop: unlabeled ones outside inner loops, and those naming label.
func continues(body *ast.BlockStmt, label *ast.LabeledStmt) []*ast.BranchStmt {
	var out []*ast.BranchStmt
	var walk func(n ast.Node, inner bool)
	walk = func(n ast.Node, inner bool) {
		ast.Inspect(n, func(m ast.Node) bool {
			switch m := m.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ForStmt:
				if m != n {
					walk(m.Body, true)
					return false
				}
			case *ast.RangeStmt:
				if m != n {
					walk(m.Body, true)
					return false
				}
			case *ast.BranchStmt:
				if m.Tok != token.CONTINUE {
					return true
				}
				if m.Label == nil && !inner || m.Label != nil && label != nil && m.Label.Name == label.Label.Name {
					out = append(out, m)
				}
			}
			return true
		})
	}
	walk(body, false)
	return out
}

// capturedVars returns those of the loop variables vars that body
// captures: a func literal names it, its address is taken, or a defer
// statement names it (the deferred call runs after the iteration).
func capturedVars(body *ast.BlockStmt, vars []ast.Expr) []string {
	var out []string
	for _, v := range vars {
		id, ok := v.(*ast.Ident)
		if !ok || id.Name == "_" {
			continue
		}
		if captures(body, id.Name) {
			out = append(out, id.Name)
		}
	}
	return out
}

func captures(body ast.Node, name string) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			found = found || mentions(n, []string{name})
		case *ast.DeferStmt:
			found = found || mentions(n, []string{name})
		case *ast.UnaryExpr:
			found = found || n.Op == token.AND && rootIs(n.X, name)
		case *ast.SliceExpr:
			found = found || rootIs(n.X, name) // a slice of an array variable refers to it
		}
		return !found
	})
	return found
}

// assigns reports whether body may change one of names: an assignment or
// ++/-- (in func literals too: one called during the iteration changes
// it), or its address taken.
func assigns(body ast.Node, names []string) bool {
	found := false
	for _, name := range names {
		ast.Inspect(body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				if n.Tok != token.DEFINE {
					for _, l := range n.Lhs {
						found = found || rootIs(l, name)
					}
				}
			case *ast.IncDecStmt:
				found = found || rootIs(n.X, name)
			case *ast.UnaryExpr:
				found = found || n.Op == token.AND && rootIs(n.X, name)
			}
			return !found
		})
	}
	return found
}

// rootIs reports whether e is name, or a field or element of it.
func rootIs(e ast.Expr, name string) bool {
	for {
		switch x := ast.Unparen(e).(type) {
		case *ast.Ident:
			return x.Name == name
		case *ast.SelectorExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		default:
			return false
		}
	}
}
