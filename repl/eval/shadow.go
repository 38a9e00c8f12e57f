package eval

import (
	"go/ast"
	"go/token"
	"sort"

	"github.com/gonode/gonode/repl/syntax"
)

// yaegi panics with "index out of range [-1]" on a variable declared in a
// block at top level (a block, or the body of a for, if, switch or select
// typed at the prompt) whose name is a package-level function: the
// prelude's v and i, or a function declared in the session. `{ v := 1 }`
// and `for k := 0; k < 3; k++ { i := k * 2 }` failed so. The same code in
// a function body works, so such a statement runs as a function literal
// called at once; the variables it declares were local to it anyway.
// (What changes: a defer in it runs at its end, not at the snippet's.)

// rewriteShadowing wraps each top-level compound statement that declares
// a name of a package-level function into (func() { ... })().
func (in *Interp) rewriteShadowing(rw *rewrite) {
	var funcs map[string]bool
	for _, s := range rw.sn.Statements() {
		switch s.(type) {
		case *ast.BlockStmt, *ast.ForStmt, *ast.RangeStmt, *ast.IfStmt,
			*ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
		default:
			continue
		}
		if funcs == nil {
			funcs = in.globalFuncs()
		}
		if !declaresAny(s, funcs) {
			continue
		}
		start, end := rw.sn.Off(s.Pos()), rw.sn.Off(s.End())
		kept := rw.edits[:0:0]
		overlaps := false
		for _, e := range rw.edits {
			inside := e.start >= start && e.end <= end
			outside := e.end <= start || e.start >= end
			if !inside && !outside {
				overlaps = true // a rewrite around it (a lowered statement): leave it
			}
			if !inside {
				kept = append(kept, e)
			}
		}
		if overlaps {
			continue
		}
		text := "(func() {" + rw.apply(start, end) + "})()"
		rw.edits = append(kept, edit{start, end, text})
		sort.Slice(rw.edits, func(i, j int) bool { return rw.edits[i].start < rw.edits[j].start })
	}
}

// globalFuncs names the package-level functions of the interpreter: the
// prelude's and the session's.
func (in *Interp) globalFuncs() map[string]bool {
	out := map[string]bool{}
	for _, t := range []*declTable{in.env.prelude, in.tab} {
		if t == nil {
			continue
		}
		for _, e := range t.entries {
			if e.Kind == syntax.DeclFunc {
				out[e.Key] = true
			}
		}
	}
	return out
}

// declaresAny reports whether s declares, outside the function literals
// it holds, a variable named in names.
func declaresAny(s ast.Stmt, names map[string]bool) bool {
	found := false
	hit := func(e ast.Expr) {
		if id, ok := e.(*ast.Ident); ok && names[id.Name] {
			found = true
		}
	}
	ast.Inspect(s, func(n ast.Node) bool {
		if found {
			return false
		}
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for _, l := range n.Lhs {
					hit(l)
				}
			}
		case *ast.RangeStmt:
			if n.Tok == token.DEFINE {
				hit(n.Key)
				if n.Value != nil {
					hit(n.Value)
				}
			}
		case *ast.ValueSpec:
			for _, id := range n.Names {
				hit(id)
			}
		}
		return true
	})
	return found
}
