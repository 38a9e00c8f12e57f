package syntax

import (
	"go/ast"
	"go/token"
	"sort"
)

// Resolver finds the free identifiers of Go syntax: the names a piece of code
// uses without declaring them itself. It tracks Go's block scopes (function
// parameters, blocks, if/for/switch/select clauses, type switches, short
// variable declarations) syntactically, without type information.
//
// Two approximations, both on the safe side for shipping code: the key of a
// key: value element of a composite literal is counted as a use when it is an
// identifier (it is one in a map literal, a field name in a struct literal),
// and the field and method names of struct and interface types are never
// uses. A Resolver is used by one goroutine.
type Resolver struct {
	scopes []map[string]bool
	free   map[string]bool
	// OnCall, when set, is called for every call expression with the scopes
	// open at that point (Declared answers for them); the argument at the
	// index it returns (if any) is not walked. The evaluator rewrites the
	// code arguments of ship calls and help's argument this way.
	OnCall func(call *ast.CallExpr) (skipArg int)
}

// NewResolver returns a Resolver with no scope open: Walk then treats
// top-level declarations as the session's, not as local ones. Push opens
// the scope that statements run in.
func NewResolver() *Resolver {
	return &Resolver{free: map[string]bool{}}
}

// FreeNames returns the sorted free identifiers of n. A type or constant
// that n itself declares at top level is not free; a function's own name is
// (recursion).
func FreeNames(n ast.Node) []string {
	r := NewResolver()
	r.Push()
	r.Walk(n)
	return r.sorted()
}

func (r *Resolver) sorted() []string {
	out := make([]string, 0, len(r.free))
	for name := range r.free {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Push opens a scope; Walk opens and closes the scopes of what it walks.
func (r *Resolver) Push()     { r.scopes = append(r.scopes, map[string]bool{}) }
func (r *Resolver) pop()      { r.scopes = r.scopes[:len(r.scopes)-1] }
func (r *Resolver) top() bool { return len(r.scopes) == 0 }

func (r *Resolver) declare(id *ast.Ident) {
	if id == nil || id.Name == "_" || len(r.scopes) == 0 {
		return
	}
	r.scopes[len(r.scopes)-1][id.Name] = true
}

// Declared reports whether name is declared in one of the open scopes.
func (r *Resolver) Declared(name string) bool {
	for i := len(r.scopes) - 1; i >= 0; i-- {
		if r.scopes[i][name] {
			return true
		}
	}
	return false
}

func (r *Resolver) use(id *ast.Ident) {
	if id.Name != "_" && !r.Declared(id.Name) {
		r.free[id.Name] = true
	}
}

// children calls f for each direct child of n.
func children(n ast.Node, f func(ast.Node)) {
	first := true
	ast.Inspect(n, func(c ast.Node) bool {
		if first {
			first = false
			return true
		}
		if c != nil {
			f(c)
		}
		return false
	})
}

func (r *Resolver) walkAll(list any) {
	switch l := list.(type) {
	case []ast.Stmt:
		for _, s := range l {
			r.Walk(s)
		}
	case []ast.Expr:
		for _, e := range l {
			r.Walk(e)
		}
	}
}

// fields walks the types of a field list and, when decl is set, declares
// its names in the current scope.
func (r *Resolver) fields(fl *ast.FieldList, decl bool) {
	if fl == nil {
		return
	}
	for _, f := range fl.List {
		r.Walk(f.Type)
		if decl {
			for _, n := range f.Names {
				r.declare(n)
			}
		}
	}
}

// Walk records the declarations and uses of n and everything under it.
func (r *Resolver) Walk(n ast.Node) {
	if n == nil {
		return
	}
	switch n := n.(type) {
	case *ast.Ident:
		r.use(n)
	case *ast.SelectorExpr:
		r.Walk(n.X)
	case *ast.FuncDecl:
		r.Push()
		r.fields(n.Recv, true)
		r.fields(n.Type.TypeParams, true)
		r.fields(n.Type.Params, true)
		r.fields(n.Type.Results, true)
		if n.Body != nil {
			r.walkAll(n.Body.List)
		}
		r.pop()
	case *ast.FuncLit:
		r.Push()
		r.fields(n.Type.Params, true)
		r.fields(n.Type.Results, true)
		r.walkAll(n.Body.List)
		r.pop()
	case *ast.FuncType:
		r.fields(n.TypeParams, false)
		r.fields(n.Params, false)
		r.fields(n.Results, false)
	case *ast.StructType:
		r.fields(n.Fields, false)
	case *ast.InterfaceType:
		r.fields(n.Methods, false)
	case *ast.BlockStmt:
		r.Push()
		r.walkAll(n.List)
		r.pop()
	case *ast.IfStmt:
		r.Push()
		r.Walk(n.Init)
		r.Walk(n.Cond)
		r.Walk(n.Body)
		r.Walk(n.Else)
		r.pop()
	case *ast.ForStmt:
		r.Push()
		r.Walk(n.Init)
		r.Walk(n.Cond)
		r.Walk(n.Post)
		r.Walk(n.Body)
		r.pop()
	case *ast.RangeStmt:
		r.Walk(n.X)
		r.Push()
		if n.Tok == token.DEFINE {
			for _, e := range []ast.Expr{n.Key, n.Value} {
				if id, ok := e.(*ast.Ident); ok {
					r.declare(id)
				}
			}
		} else {
			r.Walk(n.Key)
			r.Walk(n.Value)
		}
		r.Walk(n.Body)
		r.pop()
	case *ast.SwitchStmt:
		r.Push()
		r.Walk(n.Init)
		r.Walk(n.Tag)
		r.Walk(n.Body)
		r.pop()
	case *ast.TypeSwitchStmt:
		r.Push()
		r.Walk(n.Init)
		var bound *ast.Ident
		switch a := n.Assign.(type) {
		case *ast.AssignStmt:
			r.walkAll(a.Rhs)
			if len(a.Lhs) == 1 {
				bound, _ = a.Lhs[0].(*ast.Ident)
			}
		default:
			r.Walk(a)
		}
		for _, c := range n.Body.List {
			cc := c.(*ast.CaseClause)
			r.Push()
			r.walkAll(cc.List)
			r.declare(bound)
			r.walkAll(cc.Body)
			r.pop()
		}
		r.pop()
	case *ast.CaseClause:
		r.Push()
		r.walkAll(n.List)
		r.walkAll(n.Body)
		r.pop()
	case *ast.CommClause:
		r.Push()
		r.Walk(n.Comm)
		r.walkAll(n.Body)
		r.pop()
	case *ast.AssignStmt:
		r.walkAll(n.Rhs)
		for _, l := range n.Lhs {
			if id, ok := l.(*ast.Ident); ok && n.Tok == token.DEFINE {
				r.declare(id)
			} else {
				r.Walk(l)
			}
		}
	case *ast.GenDecl:
		for _, s := range n.Specs {
			r.Walk(s)
		}
	case *ast.ValueSpec:
		r.Walk(n.Type)
		r.walkAll(n.Values)
		for _, id := range n.Names {
			r.declare(id)
		}
	case *ast.TypeSpec:
		r.declare(n.Name)
		r.Push()
		r.fields(n.TypeParams, true)
		r.Walk(n.Type)
		r.pop()
	case *ast.LabeledStmt:
		r.Walk(n.Stmt)
	case *ast.BranchStmt, *ast.ImportSpec, *ast.BasicLit, *ast.BadExpr, *ast.BadStmt, *ast.BadDecl:
	case *ast.CallExpr:
		skip := -1
		if r.OnCall != nil {
			skip = r.OnCall(n)
		}
		r.Walk(n.Fun)
		for i, a := range n.Args {
			if i != skip {
				r.Walk(a)
			}
		}
	default:
		children(n, r.Walk)
	}
}
