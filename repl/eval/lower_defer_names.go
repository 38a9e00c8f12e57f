package eval

import (
	"go/ast"
	"go/token"
	"go/types"
	"reflect"

	"github.com/gonode/gonode/repl/syntax"
)

// What the defer rewrite (lower_defer.go) needs to know about the names a
// deferred call uses, from the syntax and the session: which callees are
// variables, which arguments are constants, how many values a call yields.

// isVarCallee reports whether a callee named name may be a variable, whose
// value the defer statement must take: not a builtin, nor a function of
// the session, the prelude or this snippet (a generic one cannot be bound).
func (lw *lowerer) isVarCallee(name string) bool {
	if types.Universe.Lookup(name) != nil || syntax.Reserved(name) {
		return false
	}
	if lw.funcs == nil {
		lw.funcs = lw.in.globalFuncs()
		for _, d := range lw.rw.sn.Decls() {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
				lw.funcs[fd.Name.Name] = true
			}
		}
	}
	return !lw.funcs[name]
}

// isHostFunc reports whether name is a function of a package the prelude
// dot-imports (spawn, send ...), which the shell does not declare.
func (lw *lowerer) isHostFunc(name string) bool {
	for _, k := range lw.in.env.dots {
		if v, ok := lw.in.env.exportsOf(k)[name]; ok && v.Kind() == reflect.Func {
			return true
		}
	}
	return false
}

// valueCount returns how many values e yields: 1 unless it is a call, then
// what the syntax and the session say, -1 when unknown.
func (lw *lowerer) valueCount(e ast.Expr) int {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return 1
	}
	return syntax.ResultCount(call, &snippetNamer{in: lw.in, local: map[string]syntax.NameKind{}})
}

// isConst reports whether e is a constant as far as the syntax and the
// session tell: literals, nil, true, false, iota, constants the session or
// the snippet declares, a package's members (math.Pi), and operations on
// those. Binding a constant to a temporary would give it a default type.
func (lw *lowerer) isConst(e ast.Expr) bool {
	switch x := ast.Unparen(e).(type) {
	case *ast.BasicLit:
		return true
	case *ast.Ident:
		switch x.Name {
		case "nil", "true", "false", "iota":
			return true
		}
		if ent := lw.in.tab.lookup(x.Name); ent != nil && ent.Kind == syntax.DeclConst {
			return true
		}
		return lw.snippetConsts()[x.Name]
	case *ast.SelectorExpr:
		pkg, ok := x.X.(*ast.Ident)
		return ok && lw.isPackage(pkg.Name)
	case *ast.UnaryExpr:
		return x.Op != token.ARROW && x.Op != token.AND && lw.isConst(x.X)
	case *ast.BinaryExpr:
		return lw.isConst(x.X) && lw.isConst(x.Y)
	}
	return false
}

// isPackage reports whether name is a package the snippet can name, and
// not a variable of the snippet or the session.
func (lw *lowerer) isPackage(name string) bool {
	if lw.snippetVars()[name] || lw.in.tab.isVar(name) {
		return false
	}
	if _, ok := lw.in.env.pkgs[name]; ok {
		return true
	}
	e := lw.in.tab.lookup(name)
	return e != nil && e.Kind == syntax.DeclImport
}

// snippetConsts names the constants the snippet declares anywhere.
func (lw *lowerer) snippetConsts() map[string]bool {
	if lw.consts == nil {
		lw.consts, lw.vars = map[string]bool{}, map[string]bool{}
		for _, root := range lw.rw.sn.Roots() {
			ast.Inspect(root, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.GenDecl:
					for _, s := range n.Specs {
						if vs, ok := s.(*ast.ValueSpec); ok {
							for _, id := range vs.Names {
								if n.Tok == token.CONST {
									lw.consts[id.Name] = true
								} else {
									lw.vars[id.Name] = true
								}
							}
						}
					}
				case *ast.AssignStmt:
					if n.Tok == token.DEFINE {
						for _, l := range n.Lhs {
							if id, ok := l.(*ast.Ident); ok {
								lw.vars[id.Name] = true
							}
						}
					}
				case *ast.Field:
					for _, id := range n.Names {
						lw.vars[id.Name] = true
					}
				case *ast.RangeStmt:
					for _, e := range []ast.Expr{n.Key, n.Value} {
						if id, ok := e.(*ast.Ident); ok {
							lw.vars[id.Name] = true
						}
					}
				}
				return true
			})
		}
		for n := range lw.vars {
			delete(lw.consts, n) // declared both ways: not known to be a constant
		}
	}
	return lw.consts
}

// snippetVars names the variables the snippet declares anywhere.
func (lw *lowerer) snippetVars() map[string]bool {
	lw.snippetConsts()
	return lw.vars
}
