package eval

import (
	"go/ast"
	"go/parser"
	"go/token"
	"sort"

	"github.com/gonode/gonode/repl/syntax"
)

// yaegi v0.16.1 spreads a []any passed among the variadic arguments of an
// interpreted function whose last parameter is ...any: with
// "func f(a ...any) int { return len(a) }", f([]any{1, 2, 3}) gave 3 and
// f([]any{1, 2}, 4) gave 3 where Go gives 1 and 2 (so
// rpc(node, "Fn", []any{1, 2}) passed Fn two arguments, not one list). A
// call that spreads a slice literal is right in yaegi, so the shell passes
// a call's variadic arguments that way: f(x, y) becomes f([]any{x, y}...).
// It knows the functions the prelude, the session and the snippet declare
// by name; a method or a function held in a variable is called as typed.

// rewriteVariadic makes the edits, innermost calls first, so that an
// outer call's new text holds the inner ones' edits.
func (in *Interp) rewriteVariadic(rw *rewrite) {
	fixed := in.variadicAny(rw.sn)
	if len(fixed) == 0 {
		return
	}
	var calls []*ast.CallExpr
	for _, n := range rw.sn.Roots() {
		ast.Inspect(n, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok && c.Ellipsis == token.NoPos {
				if id, ok := c.Fun.(*ast.Ident); ok {
					if k, ok := fixed[id.Name]; ok && len(c.Args) > k {
						calls = append(calls, c)
					}
				}
			}
			return true
		})
	}
	sn := rw.sn
	for i := len(calls) - 1; i >= 0; i-- { // Inspect meets an outer call before its arguments
		c := calls[i]
		args := c.Args[fixed[c.Fun.(*ast.Ident).Name]:]
		start, end := sn.Off(args[0].Pos()), sn.Off(args[len(args)-1].End())
		if crosses(rw.edits, start, end) {
			continue // inside a rewritten part (a ship call's literal, lowered where it runs)
		}
		text := "[]any{" + rw.apply(start, end) + "}..."
		kept := rw.edits[:0]
		for _, e := range rw.edits {
			if e.start < start || e.end > end {
				kept = append(kept, e)
			}
		}
		rw.edits = append(kept, edit{start, end, text})
		sort.Slice(rw.edits, func(i, j int) bool { return rw.edits[i].start < rw.edits[j].start })
	}
}

// crosses reports whether an edit overlaps [start, end) without lying
// inside it.
func crosses(edits []edit, start, end int) bool {
	for _, e := range edits {
		if e.start < end && e.end > start && !(e.start >= start && e.end <= end) {
			return true
		}
	}
	return false
}

// variadicAny returns the interpreted functions whose last parameter is
// ...any (or ...interface{}), with their number of other parameters: the
// prelude's, the session's and the snippet's own, the latter overriding.
func (in *Interp) variadicAny(sn *syntax.Snippet) map[string]int {
	out := map[string]int{}
	add := func(fd *ast.FuncDecl) {
		if fd.Recv != nil {
			return
		}
		if k, ok := anyVariadic(fd.Type); ok {
			out[fd.Name.Name] = k
		} else {
			delete(out, fd.Name.Name)
		}
	}
	for _, t := range []*declTable{in.env.prelude, in.tab} {
		entries, _ := t.all()
		for _, e := range entries {
			if e.Kind != syntax.DeclFunc {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+e.Src, parser.SkipObjectResolution)
			if err != nil {
				continue
			}
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok {
					add(fd)
				}
			}
		}
	}
	for _, d := range sn.Decls() {
		if fd, ok := d.(*ast.FuncDecl); ok {
			add(fd)
		}
	}
	return out
}

// anyVariadic says whether ft's last parameter is ...any or
// ...interface{}, and how many parameters come before it.
func anyVariadic(ft *ast.FuncType) (int, bool) {
	ps := ft.Params.List
	if len(ps) == 0 {
		return 0, false
	}
	last := ps[len(ps)-1]
	el, ok := last.Type.(*ast.Ellipsis)
	if !ok {
		return 0, false
	}
	switch t := el.Elt.(type) {
	case *ast.Ident:
		if t.Name != "any" {
			return 0, false
		}
	case *ast.InterfaceType:
		if len(t.Methods.List) != 0 {
			return 0, false
		}
	default:
		return 0, false
	}
	n := 0
	for _, p := range ps {
		n += max(len(p.Names), 1)
	}
	return n - 1, true
}
