package eval

import (
	"go/ast"
	"go/token"
	"sort"
	"strconv"
	"strings"

	"github.com/gonode/gonode/repl/syntax"
)

// What the shell changes in a snippet before yaegi sees it: imports taken
// out (yaegi refuses one twice), ship calls' code arguments made Bundles,
// help's argument quoted, top-level func literal calls parenthesized, and
// forms yaegi cannot compile lowered into forms it can (lower.go).

// edit replaces Src[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// rewrite is a snippet with the edits the shell makes before evaluating it.
type rewrite struct {
	sn      *syntax.Snippet
	edits   []edit       // non-overlapping, sorted by start
	imports []*declEntry // evaluated one by one, before the rest
}

// apply returns Src[start:end] with the edits inside it applied.
func (rw *rewrite) apply(start, end int) string {
	var b strings.Builder
	at := start
	for _, e := range rw.edits {
		if e.start < start || e.end > end {
			continue
		}
		b.WriteString(rw.sn.Src[at:e.start])
		b.WriteString(e.text)
		at = e.end
	}
	b.WriteString(rw.sn.Src[at:end])
	return b.String()
}

// rewrite computes the edits: import declarations are taken out and
// evaluated one by one first, skipping those already evaluated here (yaegi
// refuses an import twice), and the code arguments of ship calls become
// __gonode.Ship calls (see rewriteShip).
func (in *Interp) rewrite(sn *syntax.Snippet, vars []string) (*rewrite, error) {
	rw := &rewrite{sn: sn}
	if sn.Kind == syntax.Decls {
		for _, d := range sn.Decls() {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.IMPORT {
				continue
			}
			for _, e := range extractImports(sn, gd) {
				if !in.imported[e.Key] {
					rw.imports = append(rw.imports, e)
				}
			}
			text := sn.Text(gd)
			rw.edits = append(rw.edits, edit{sn.Off(gd.Pos()), sn.Off(gd.End()), strings.Repeat("\n", strings.Count(text, "\n"))})
		}
	}
	if err := in.rewriteShip(rw, vars); err != nil {
		return nil, err
	}
	in.rewriteHelp(rw, vars)
	in.rewriteTypedCalls(rw) // typedcalls.go
	sort.Slice(rw.edits, func(i, j int) bool { return rw.edits[i].start < rw.edits[j].start })
	if err := in.rewriteMinMax(rw); err != nil { // lower_minmax.go: before the statement rewrites, which keep it
		return nil, err
	}
	in.rewriteMethodValues(rw) // lower_methodvalue.go: before the statement rewrites, which keep it
	if err := in.rewriteLower(rw); err != nil {
		return nil, err
	}
	in.rewriteShadowing(rw)
	if err := in.rewriteTypes(rw); err != nil { // last: it wraps what the others made (lower_methodexpr.go)
		return nil, err
	}
	in.rewriteVariadic(rw) // lower_variadic.go: around what the others made
	// yaegi runs a top-level func(){...}() again at every later evaluation
	// (not when the literal is parenthesized): add the parentheses.
	for _, s := range sn.Statements() {
		es, ok := s.(*ast.ExprStmt)
		if !ok {
			continue
		}
		if call, ok := es.X.(*ast.CallExpr); ok {
			if lit, ok := call.Fun.(*ast.FuncLit); ok {
				start, end := sn.Off(lit.Pos()), sn.Off(lit.End())
				text := "(" + rw.apply(start, end) + ")"
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
	}
	// yaegi takes input that starts with var, const or type for
	// declarations, as a file: statements that start with a declaration
	// ("var xs []int; xs[5]") get a leading semicolon, which makes it run
	// them as statements in the global scope.
	// A snippet of var declarations alone runs the same way: as a file,
	// yaegi fails on an initializer that names a variable of an earlier
	// snippet ("variable definition loop"); as a statement it does not.
	if sn.Kind == syntax.Stmts || onlyVarDecls(sn) {
		switch syntax.FirstToken(sn.Src) {
		case token.VAR, token.CONST, token.TYPE, token.IMPORT:
			rw.edits = append([]edit{{0, 0, ";"}}, rw.edits...)
		}
	}
	return rw, nil
}

func extractImports(sn *syntax.Snippet, gd *ast.GenDecl) []*declEntry {
	es, _ := extract(sn.Part(gd))
	return es
}

// help(spawn), iex's h, names a helper by an identifier; a function value
// reaching the host carries no name, so the argument is rewritten into a
// string before evaluation. The helpers' texts are the shell's, not the
// evaluator's.

// rewriteHelp turns help(name), name an identifier that is not a variable
// of the snippet or the session, into help("name"), unless the session
// declares a help of its own.
func (in *Interp) rewriteHelp(rw *rewrite, snippetVars []string) {
	if e := in.tab.lookup("help"); e != nil {
		return
	}
	sn := rw.sn
	isVar := map[string]bool{}
	for _, v := range snippetVars {
		isVar[v] = true
	}
	r := syntax.NewResolver()
	r.OnCall = func(call *ast.CallExpr) int {
		if calleeName(call.Fun) != "help" || len(call.Args) != 1 {
			return -1
		}
		arg := ast.Unparen(call.Args[0])
		id, ok := arg.(*ast.Ident)
		if sel, isSel := arg.(*ast.SelectorExpr); isSel {
			id, ok = sel.X.(*ast.Ident) // node.Spawn
		}
		if !ok || r.Declared(id.Name) || isVar[id.Name] || in.tab.isVar(id.Name) {
			return -1
		}
		rw.edits = append(rw.edits, edit{sn.Off(arg.Pos()), sn.Off(arg.End()), strconv.Quote(sn.Text(arg))})
		return 0
	}
	if sn.Kind == syntax.Stmts {
		r.Push()
	}
	for _, n := range sn.Roots() {
		r.Walk(n)
	}
}
