package eval

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"

	"github.com/gonode/gonode/repl/syntax"
)

// A method value x.M binds a copy of x when it is evaluated, for a method
// with a value receiver: "h := g.Hello; g.Name = "bob"; h()" still greets
// the old name. yaegi binds the variable instead, so h saw the change. For
// a method of a type declared in the shell whose receiver is a value, the
// shell writes the method value with the copy Go makes:
//
//	g.Hello  ->  (func() func() string { __gonode_r := g; return __gonode_r.Hello })()
//
// The signature comes from the method's declaration. The rewrite is made
// only when the name can mean nothing else: every shell type declaring a
// method M takes a value receiver and has the same signature, and no
// shell struct type has a field M; x is not a package or a type (T.M is a
// method expression, lower_methodexpr.go). A pointer receiver needs no
// copy: the method value binds the pointer, in yaegi as in Go.

// rewriteMethodValues rewrites the method values of the snippet (see
// above), before the statement rewrites, which take the edits along.
func (in *Interp) rewriteMethodValues(rw *rewrite) {
	sn := rw.sn
	called := map[ast.Expr]bool{}
	var sels []*ast.SelectorExpr
	for _, root := range sn.Roots() {
		ast.Inspect(root, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				called[ast.Unparen(n.Fun)] = true
			case *ast.SelectorExpr:
				sels = append(sels, n)
			}
			return true
		})
	}
	var sigs map[string]string // method name -> signature, "" when not rewritable
	own, _ := extract(sn)
	for _, sel := range sels {
		if called[sel] {
			continue
		}
		if id, ok := ast.Unparen(sel.X).(*ast.Ident); ok {
			if _, pkg := in.env.pkgs[id.Name]; (pkg && !in.tab.isVar(id.Name)) || in.isShellType(id.Name, own) {
				continue
			}
			if e := in.tab.lookup(id.Name); e != nil && e.Kind == syntax.DeclImport {
				continue
			}
		}
		if sigs == nil {
			sigs = in.valueMethodSigs(own)
		}
		sig := sigs[sel.Sel.Name]
		start, end := sn.Off(sel.Pos()), sn.Off(sel.End())
		if sig == "" || !rw.freeRange(start, end) {
			continue
		}
		x := rw.apply(sn.Off(sel.X.Pos()), sn.Off(sel.X.End()))
		rw.replace(start, end, "(func() "+sig+" { __gonode_r := "+x+"; return __gonode_r."+sel.Sel.Name+" })()")
	}
}

// valueMethodSigs maps the names of the methods of the session's (and the
// snippet's) types to the func type of their method values, when every
// declaration of that name has a value receiver and the same signature
// and no struct type of the shell has a field of that name.
func (in *Interp) valueMethodSigs(own []*declEntry) map[string]string {
	out := map[string]string{}
	bad := map[string]bool{}
	for _, fd := range in.methodDecls(own) {
		name := fd.Name.Name
		recv := fd.Recv.List[0].Type
		_, ptr := recv.(*ast.StarExpr)
		_, generic := recv.(*ast.IndexExpr)
		sig := exprString(&ast.FuncType{Params: fd.Type.Params, Results: fd.Type.Results})
		if ptr || generic || fd.Type.TypeParams != nil || (out[name] != "" && out[name] != sig) {
			bad[name] = true
		}
		out[name] = sig
	}
	all, _ := in.tab.all()
	for _, e := range append(all, own...) {
		if e.Kind != syntax.DeclType {
			continue
		}
		for _, f := range structFields(e.Src) {
			bad[f] = true
		}
	}
	for n := range bad {
		delete(out, n)
	}
	return out
}

// structFields names the fields of the struct types a type declaration
// declares, embedded ones by their type's name.
func structFields(src string) []string {
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+src, parser.SkipObjectResolution)
	if err != nil {
		return nil
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		st, ok := n.(*ast.StructType)
		if !ok {
			return true
		}
		for _, fld := range st.Fields.List {
			for _, id := range fld.Names {
				out = append(out, id.Name)
			}
			if len(fld.Names) == 0 {
				t := exprString(fld.Type)
				out = append(out, t[strings.LastIndexAny(t, "*.")+1:])
			}
		}
		return true
	})
	return out
}
