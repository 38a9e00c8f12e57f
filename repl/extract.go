package repl

import (
	"go/ast"
	"go/token"
	"path"
	"strconv"
	"strings"
)

// extract returns the declarations and the package-level variables that a
// snippet introduces.
func extract(sn *Snippet) (entries []*declEntry, vars []string) {
	addVars := func(ids []*ast.Ident) {
		for _, id := range ids {
			if !reserved(id.Name) {
				vars = append(vars, id.Name)
			}
		}
	}
	genDecl := func(d *ast.GenDecl) {
		switch d.Tok {
		case token.VAR:
			for _, s := range d.Specs {
				addVars(s.(*ast.ValueSpec).Names)
			}
		case token.CONST:
			e := &declEntry{kind: declConst, src: sn.text(d), refs: freeNames(d)}
			for _, s := range d.Specs {
				for _, id := range s.(*ast.ValueSpec).Names {
					if !reserved(id.Name) {
						e.names = append(e.names, id.Name)
					}
				}
			}
			if len(e.names) > 0 {
				e.key = "const " + strings.Join(e.names, ",")
				entries = append(entries, e)
			}
		case token.TYPE:
			for _, s := range d.Specs {
				ts := s.(*ast.TypeSpec)
				if !reserved(ts.Name.Name) {
					entries = append(entries, &declEntry{key: ts.Name.Name, kind: declType, names: []string{ts.Name.Name},
						src: "type " + sn.text(ts), refs: freeNames(ts)})
				}
			}
		case token.IMPORT:
			for _, s := range d.Specs {
				is := s.(*ast.ImportSpec)
				p, _ := strconv.Unquote(is.Path.Value)
				name := path.Base(p)
				if is.Name != nil {
					name = is.Name.Name
				}
				if reserved(name) {
					continue
				}
				e := &declEntry{key: "import " + name + " " + p, kind: declImport, src: "import " + sn.text(is)}
				if name != "." {
					e.names = []string{name}
				}
				entries = append(entries, e)
			}
		}
	}
	for _, n := range sn.roots() {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if reserved(n.Name.Name) {
				continue
			}
			e := &declEntry{key: n.Name.Name, kind: declFunc, src: sn.text(n), refs: freeNames(n),
				results: fieldCount(n.Type.Results)}
			if n.Recv != nil && len(n.Recv.List) == 1 {
				e.kind, e.recv = declMethod, recvType(n.Recv.List[0].Type)
				e.key = e.recv + "." + n.Name.Name
			} else {
				e.names = []string{n.Name.Name}
			}
			entries = append(entries, e)
		case *ast.GenDecl:
			genDecl(n)
		case *ast.DeclStmt:
			genDecl(n.Decl.(*ast.GenDecl))
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for _, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						addVars([]*ast.Ident{id})
					}
				}
			}
		}
	}
	return entries, vars
}

// recvType returns the base type name of a method receiver: T for T, *T,
// T[K] and *T[K].
func recvType(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}
