package eval

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"strconv"
	"strings"

	"github.com/gonode/gonode/repl/syntax"
)

// A method expression of a type declared in the shell, (*Counter).Inc or
// V.Double, is a function whose first parameter is the receiver. yaegi
// makes it a function that takes the receiver already ("reflect: Call
// with too many input arguments" when it is called), so the shell writes
// it as the func literal Go defines it to be, from the method's
// declaration:
//
//	(*Counter).Inc  ->  func(__gonode_r *Counter) { __gonode_r.Inc() }
//	V.Scale         ->  func(__gonode_r V, p0 float64) V { return __gonode_r.Scale(p0) }

// rewriteTypes makes the rewrites that concern the shell's types and the
// standard library: Go 1.21's builtins and generic functions
// (stdgeneric.go), method expressions, then the print and errors calls
// (lower_fmt.go), which may hold them; and the statements yaegi compiles
// only in a function (lower_multidef.go). It runs after the other
// rewrites.
func (in *Interp) rewriteTypes(rw *rewrite) error {
	if err := in.rewriteGenerics(rw); err != nil { // stdgeneric.go
		return err
	}
	if err := in.rewriteMethodExprs(rw); err != nil {
		return err
	}
	in.rewriteFmt(rw)
	in.rewriteMultiDefines(rw) // lower_multidef.go: last, it wraps whole statements
	return nil
}

// rewriteMethodExprs rewrites the method expressions of the session's (and
// the snippet's) types into func literals. T.M of a method with a pointer
// receiver is an error, as in Go (yaegi would take it).
func (in *Interp) rewriteMethodExprs(rw *rewrite) error {
	var err error
	sn := rw.sn
	var methods map[string]*ast.FuncDecl // "T.M" -> declaration, built on first need
	own, _ := extract(sn)
	for _, root := range sn.Roots() {
		ast.Inspect(root, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			typ, ptr := methodExprType(sel.X)
			if typ == "" || !in.isShellType(typ, own) {
				return true
			}
			if methods == nil {
				methods = in.methodDecls(own)
			}
			fd := methods[typ+"."+sel.Sel.Name]
			if fd == nil {
				return true
			}
			if _, ptrRecv := fd.Recv.List[0].Type.(*ast.StarExpr); ptrRecv && !ptr && err == nil {
				err = fmt.Errorf("%sinvalid method expression %s.%s (needs pointer receiver (*%s).%s)", lineOf(sn, sel.Pos()), typ, sel.Sel.Name, typ, sel.Sel.Name)
			}
			start, end := sn.Off(sel.Pos()), sn.Off(sel.End())
			if lit := methodLiteral(fd, typ, ptr); lit != "" && rw.freeRange(start, end) {
				rw.replace(start, end, lit)
			}
			return false
		})
	}
	return err
}

// lineOf is "line N: " for a position of a snippet of several lines, as
// the shell reports errors (cleanErr), else "".
func lineOf(sn *syntax.Snippet, p token.Pos) string {
	if !strings.Contains(strings.TrimSpace(sn.Src), "\n") {
		return ""
	}
	return "line " + strconv.Itoa(sn.Line(p)) + ": "
}

// methodExprType returns the type name x denotes when it can be the type of
// a method expression (T, (T), (*T)), and whether it is a pointer.
func methodExprType(x ast.Expr) (string, bool) {
	x = ast.Unparen(x)
	ptr := false
	if st, ok := x.(*ast.StarExpr); ok {
		x, ptr = ast.Unparen(st.X), true
	}
	id, ok := x.(*ast.Ident)
	if !ok {
		return "", false
	}
	return id.Name, ptr
}

// isShellType reports whether name is a type declared in the session or
// by the snippet (own), and nothing else there.
func (in *Interp) isShellType(name string, own []*declEntry) bool {
	for _, e := range own {
		for _, n := range e.Names {
			if n == name {
				return e.Kind == syntax.DeclType
			}
		}
	}
	if in.tab.isVar(name) {
		return false
	}
	e := in.tab.lookup(name)
	return e != nil && e.Kind == syntax.DeclType
}

// methodDecls parses the method declarations of the session and of the
// snippet (whose own declarations win), by "T.M".
func (in *Interp) methodDecls(own []*declEntry) map[string]*ast.FuncDecl {
	all, _ := in.tab.all()
	out := map[string]*ast.FuncDecl{}
	for _, e := range append(all, own...) {
		if e.Kind != syntax.DeclMethod {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+e.Src, parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv != nil && len(fd.Recv.List) == 1 {
				if typ, _ := methodExprType(fd.Recv.List[0].Type); typ != "" {
					out[typ+"."+fd.Name.Name] = fd
				}
			}
		}
	}
	return out
}

// methodLiteral writes the func literal of the method expression T.M
// ((*T).M when ptr) for the method fd, or "" when Go has no such method
// expression (T.M of a pointer method) or the method is generic.
func methodLiteral(fd *ast.FuncDecl, typ string, ptr bool) string {
	if _, ptrRecv := fd.Recv.List[0].Type.(*ast.StarExpr); ptrRecv && !ptr {
		return "" // Go refuses it too: yaegi says so
	}
	if fd.Type.TypeParams != nil {
		return ""
	}
	if _, generic := fd.Recv.List[0].Type.(*ast.IndexExpr); generic {
		return ""
	}
	recv := typ
	if ptr {
		recv = "*" + typ
	}
	params := []string{"__gonode_r " + recv}
	var args []string
	variadic := false
	i := 0
	for _, f := range fd.Type.Params.List {
		t := exprString(f.Type)
		if ell, ok := f.Type.(*ast.Ellipsis); ok {
			variadic = true
			t = "..." + exprString(ell.Elt)
		}
		n := len(f.Names)
		if n == 0 {
			n = 1
		}
		for k := 0; k < n; k++ {
			p := "__gonode_p" + strconv.Itoa(i)
			i++
			params = append(params, p+" "+t)
			args = append(args, p)
		}
	}
	call := "__gonode_r." + fd.Name.Name + "(" + strings.Join(args, ", ")
	if variadic {
		call += "..."
	}
	call += ")"
	results := ""
	if fd.Type.Results != nil && len(fd.Type.Results.List) > 0 {
		var rs []string
		for _, f := range fd.Type.Results.List {
			n := max(len(f.Names), 1)
			for k := 0; k < n; k++ {
				rs = append(rs, exprString(f.Type))
			}
		}
		results = " (" + strings.Join(rs, ", ") + ")"
		call = "return " + call
	}
	return "func(" + strings.Join(params, ", ") + ")" + results + " { " + call + " }"
}

// exprString writes a type expression of a declaration as Go source.
func exprString(x ast.Expr) string { return types.ExprString(x) }
