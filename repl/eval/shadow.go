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
// and `for k := 0; k < 3; k++ { i := k * 2 }` failed so. And in such a
// block a variable declared under the name of a package-level variable
// (a session variable) or of a variable of an enclosing block is not a new
// one: yaegi assigns the outer one ("x := 1" then "if true { x := 2 }"
// left x at 2; "{ k := k }" in a loop over k looped for ever). The same
// code in a function body works, so such a statement runs as a function
// literal called at once; the variables it declares were local to it
// anyway, and a defer in it still runs when the input ends (lower_defer.go).
// A loop whose variables get a copy per iteration (lower_loopvar.go)
// declares its variable twice, so it is wrapped too. So is a type switch
// that binds a variable (switch x := v.(type)): at top level yaegi
// panicked with "index out of range [1] with length 1".

// rewriteShadowing wraps each top-level compound statement that declares
// a name of a package-level function or variable, or a name twice, into
// (func() { ... })().
func (in *Interp) rewriteShadowing(rw *rewrite) {
	var globals map[string]bool
	for _, s := range rw.sn.Statements() {
		inner := s
		if l, ok := s.(*ast.LabeledStmt); ok {
			inner = l.Stmt // the label goes into the function literal with its statement
		}
		switch inner.(type) {
		case *ast.BlockStmt, *ast.ForStmt, *ast.RangeStmt, *ast.IfStmt,
			*ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
		default:
			if globals != nil {
				for _, n := range topLevelVars(s) {
					globals[n] = true
				}
			}
			continue
		}
		if globals == nil {
			globals = in.globalFuncs()
			for _, t := range []*declTable{in.env.prelude, in.tab} {
				for _, n := range t.varNames() {
					globals[n] = true
				}
			}
			for _, prev := range rw.sn.Statements() {
				if prev == s {
					break
				}
				for _, n := range topLevelVars(prev) {
					globals[n] = true
				}
			}
		}
		if !declaresAny(s, globals) && !declaresTwice(s) && !copiesLoopVars(s) && !bindsTypeSwitch(inner) {
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

// topLevelVars names the variables a top-level statement declares.
func topLevelVars(s ast.Stmt) []string {
	var out []string
	switch s := s.(type) {
	case *ast.AssignStmt:
		if s.Tok == token.DEFINE {
			for _, l := range s.Lhs {
				if id, ok := l.(*ast.Ident); ok {
					out = append(out, id.Name)
				}
			}
		}
	case *ast.DeclStmt:
		if gd, ok := s.Decl.(*ast.GenDecl); ok && gd.Tok == token.VAR {
			for _, sp := range gd.Specs {
				for _, id := range sp.(*ast.ValueSpec).Names {
					out = append(out, id.Name)
				}
			}
		}
	}
	return out
}

// declaresTwice reports whether s declares some variable name more than
// once outside the function literals it holds (in nested blocks or not:
// the syntax alone makes that the cheap, safe test).
func declaresTwice(s ast.Stmt) bool {
	seen := map[string]bool{}
	twice := false
	ast.Inspect(s, func(n ast.Node) bool {
		if _, ok := n.(*ast.FuncLit); ok || twice {
			return false
		}
		for _, id := range declaredIdents(n) {
			if id.Name != "_" {
				twice = twice || seen[id.Name]
				seen[id.Name] = true
			}
		}
		return true
	})
	return twice
}

// copiesLoopVars reports whether s holds, outside function literals, a
// loop whose variables get a copy per iteration (lower_loopvar.go).
func copiesLoopVars(s ast.Stmt) bool {
	found := false
	ast.Inspect(s, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ForStmt:
			if init, ok := n.Init.(*ast.AssignStmt); ok && init.Tok == token.DEFINE {
				found = found || len(capturedVars(n.Body, init.Lhs)) > 0
			}
		case *ast.RangeStmt:
			found = found || n.Tok == token.DEFINE && len(capturedVars(n.Body, []ast.Expr{n.Key, n.Value})) > 0
		}
		return !found
	})
	return found
}

// declaredIdents returns the variables n itself declares.
func declaredIdents(n ast.Node) []*ast.Ident {
	var out []*ast.Ident
	add := func(e ast.Expr) {
		if id, ok := e.(*ast.Ident); ok {
			out = append(out, id)
		}
	}
	switch n := n.(type) {
	case *ast.AssignStmt:
		if n.Tok == token.DEFINE {
			for _, l := range n.Lhs {
				add(l)
			}
		}
	case *ast.RangeStmt:
		if n.Tok == token.DEFINE {
			add(n.Key)
			add(n.Value)
		}
	case *ast.ValueSpec:
		out = append(out, n.Names...)
	}
	return out
}

// varNames names the package-level variables recorded in t.
func (t *declTable) varNames() []string {
	if t == nil {
		return nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]string, 0, len(t.vars))
	for n := range t.vars {
		out = append(out, n)
	}
	return out
}

// bindsTypeSwitch reports whether s is a type switch binding a variable.
func bindsTypeSwitch(s ast.Stmt) bool {
	ts, ok := s.(*ast.TypeSwitchStmt)
	if !ok {
		return false
	}
	_, binds := ts.Assign.(*ast.AssignStmt)
	return binds
}
