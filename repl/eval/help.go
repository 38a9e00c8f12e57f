package eval

import (
	"go/ast"
	"strconv"

	"github.com/gonode/gonode/repl/syntax"
)

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
