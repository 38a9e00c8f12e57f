package eval

import (
	"go/ast"
	"go/token"

	"github.com/gonode/gonode/repl/syntax"
)

// onlyVarDecls reports whether a declarations snippet holds var
// declarations and nothing else. yaegi evaluates such input as a file, in
// which an initializer that names a variable declared by an earlier
// snippet fails with "variable definition loop" ("x := 3", then
// "var f float64 = float64(x)"); evaluated as statements in the global
// scope, it declares the same package-level variables and works. Snippets
// with functions or types stay files: those cannot be statements.
func onlyVarDecls(sn *syntax.Snippet) bool {
	if sn.Kind != syntax.Decls || len(sn.Decls()) == 0 {
		return false
	}
	for _, d := range sn.Decls() {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			return false
		}
	}
	return true
}
