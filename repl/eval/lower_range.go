package eval

import (
	"go/ast"
	"go/token"
	"reflect"

	"github.com/gonode/gonode/repl/syntax"
)

// Range over an integer (Go 1.22) is not in yaegi v0.16.1: it panics with
// "nil type", and a function containing one does not compile. The shell
// lowers "for i := range n {body}" into
//
//	for __n, __i := n, (n)-(n); __i < __n; __i++ { i := __i; _ = i; {body} }
//
// (n evaluated once, into a block of its own when it has side effects;
// i a fresh variable per iteration, of n's type, which the body may
// change without changing the iteration count), and "for range n" alike.
// Whether n is an integer is decided from the syntax and the session
// (rangeOverInt): an integer literal, len or cap, a conversion to an
// integer type, arithmetic on those, or a name declared as one of those,
// a parameter of an integer type, a session variable holding an integer.
// A range over another integer expression is left to yaegi.

// rangeInt lowers r when it ranges over an integer, and says whether it
// did.
func (lw *lowerer) rangeInt(r *ast.RangeStmt, label *ast.LabeledStmt, inFunc bool) bool {
	if r.Value != nil || (r.Key != nil && r.Tok != token.DEFINE) || !lw.isInt(r.X) {
		return false
	}
	key, _ := r.Key.(*ast.Ident)
	if r.Key != nil && key == nil {
		return false
	}
	sn := lw.rw.sn
	n, i := lw.temp(), lw.temp()
	x := lw.text(r.X)
	body := lw.text(r.Body)
	if key != nil && key.Name != "_" {
		if !inFunc && !changed(r.Body, key.Name) {
			// In the gonode shell a variable declared inside a top-level
			// block panics (index out of range [-1]): the loop's own
			// variable serves when the body neither changes nor captures it.
			i = key.Name
		} else {
			body = "{ " + key.Name + " := " + i + "; _ = " + key.Name + "; " + body + " }"
		}
	}
	start, end := sn.Off(r.Pos()), sn.Off(r.End())
	head := ""
	if label != nil {
		start = sn.Off(label.Pos())
		head = sn.Src[start:sn.Off(r.Pos())]
	}
	loop := "; " + i + " < " + n + "; " + i + "++ " + body
	if syntax.SideEffects(r.X) {
		lw.replace(start, end, "{ "+n+" := "+x+"; "+head+"for "+i+" := "+n+" - "+n+loop+" }")
		return true
	}
	lw.replace(start, end, head+"for "+n+", "+i+" := "+x+", ("+x+")-("+x+")"+loop)
	return true
}

// isInt reports whether e is an integer, as far as the syntax and the
// session tell.
func (lw *lowerer) isInt(e ast.Expr) bool {
	switch x := ast.Unparen(e).(type) {
	case *ast.BasicLit:
		return x.Kind == token.INT
	case *ast.Ident:
		return lw.ints[x.Name]
	case *ast.CallExpr:
		if id, ok := x.Fun.(*ast.Ident); ok && len(x.Args) == 1 {
			return id.Name == "len" || id.Name == "cap" || intTypes[id.Name]
		}
	case *ast.UnaryExpr:
		return (x.Op == token.SUB || x.Op == token.ADD || x.Op == token.XOR) && lw.isInt(x.X)
	case *ast.BinaryExpr:
		switch x.Op {
		case token.ADD, token.SUB, token.MUL, token.QUO, token.REM, token.AND, token.OR, token.XOR, token.AND_NOT:
			return lw.isInt(x.X) && lw.isInt(x.Y)
		case token.SHL, token.SHR:
			return lw.isInt(x.X)
		}
	}
	return false
}

var intTypes = map[string]bool{"int": true, "int8": true, "int16": true, "int32": true, "int64": true,
	"uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true, "uintptr": true, "byte": true, "rune": true}

// intNames returns the names that hold integers wherever the snippet
// declares them (a name it also declares otherwise is left out: the
// syntax alone does not say which declaration a use sees), and the
// session's variables holding integers that it does not declare.
func intNames(sn *syntax.Snippet, tab *declTable) map[string]bool {
	ints, other := map[string]bool{}, map[string]bool{}
	mark := func(id *ast.Ident, isInt bool) {
		if isInt {
			ints[id.Name] = true
		} else {
			other[id.Name] = true
		}
	}
	typed := func(t ast.Expr) bool {
		id, ok := t.(*ast.Ident)
		return ok && intTypes[id.Name]
	}
	probe := &lowerer{ints: ints}
	for _, root := range sn.Roots() {
		ast.Inspect(root, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Field:
				for _, id := range n.Names {
					mark(id, typed(n.Type))
				}
			case *ast.ValueSpec:
				for i, id := range n.Names {
					switch {
					case n.Type != nil:
						mark(id, typed(n.Type))
					case len(n.Values) == len(n.Names):
						mark(id, probe.isInt(n.Values[i]))
					default:
						mark(id, false)
					}
				}
			case *ast.AssignStmt:
				if n.Tok != token.DEFINE {
					return true
				}
				for i, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						mark(id, len(n.Rhs) == len(n.Lhs) && probe.isInt(n.Rhs[i]))
					}
				}
			case *ast.RangeStmt:
				for _, e := range []ast.Expr{n.Key, n.Value} {
					if id, ok := e.(*ast.Ident); ok && n.Tok == token.DEFINE {
						mark(id, false)
					}
				}
			}
			return true
		})
	}
	for name := range other {
		delete(ints, name)
	}
	tab.mu.RLock()
	defer tab.mu.RUnlock()
	for name, v := range tab.vars {
		if other[name] || ints[name] || !v.has {
			continue
		}
		switch reflect.ValueOf(v.val).Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			ints[name] = true
		}
	}
	return ints
}

// changed reports whether body may change name or let it outlive the
// iteration: an assignment, ++/--, its address taken, or a func literal
// using it.
func changed(body ast.Node, name string) bool {
	is := func(e ast.Expr) bool {
		id, ok := ast.Unparen(e).(*ast.Ident)
		return ok && id.Name == name
	}
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for _, l := range n.Lhs {
				found = found || is(l)
			}
		case *ast.IncDecStmt:
			found = found || is(n.X)
		case *ast.UnaryExpr:
			found = found || (n.Op == token.AND && is(n.X))
		case *ast.FuncLit:
			found = found || mentions(n, []string{name})
		}
		return !found
	})
	return found
}
