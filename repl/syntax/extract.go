package syntax

import (
	"go/ast"
	"go/token"
	"path"
	"strconv"
	"strings"
)

// DeclKind says what a top-level declaration declares.
type DeclKind uint8

const (
	DeclFunc DeclKind = iota + 1
	DeclMethod
	DeclType
	DeclConst
	DeclImport
)

// Decl is one top-level declaration of a snippet, kept as source so that
// a fresh interpreter can evaluate it again.
type Decl struct {
	Key     string   // "f", "T", "T.M", "const A,B", "import rand math/rand"
	Kind    DeclKind //
	Names   []string // identifiers it declares; methods declare none
	Recv    string   // methods: the receiver's base type
	Src     string   // Go source, valid at top level
	Refs    []string // free identifiers of the declaration
	Results int      // funcs: number of results
}

// Reserved reports whether a name belongs to the shell's own plumbing
// ("__gonode...", "_"): such names are never recorded as the session's.
func Reserved(name string) bool { return strings.HasPrefix(name, "__") || name == "_" }

// Extract returns the declarations and the package-level variables that a
// snippet introduces, leaving out reserved names.
func Extract(sn *Snippet) (decls []*Decl, vars []string) {
	addVars := func(ids []*ast.Ident) {
		for _, id := range ids {
			if !Reserved(id.Name) {
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
			e := &Decl{Kind: DeclConst, Src: sn.Text(d), Refs: FreeNames(d)}
			for _, s := range d.Specs {
				for _, id := range s.(*ast.ValueSpec).Names {
					if !Reserved(id.Name) {
						e.Names = append(e.Names, id.Name)
					}
				}
			}
			if len(e.Names) > 0 {
				e.Key = "const " + strings.Join(e.Names, ",")
				decls = append(decls, e)
			}
		case token.TYPE:
			for _, s := range d.Specs {
				ts := s.(*ast.TypeSpec)
				if !Reserved(ts.Name.Name) {
					decls = append(decls, &Decl{Key: ts.Name.Name, Kind: DeclType, Names: []string{ts.Name.Name},
						Src: "type " + sn.Text(ts), Refs: FreeNames(ts)})
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
				if Reserved(name) {
					continue
				}
				e := &Decl{Key: "import " + name + " " + p, Kind: DeclImport, Src: "import " + sn.Text(is)}
				if name != "." {
					e.Names = []string{name}
				}
				decls = append(decls, e)
			}
		}
	}
	for _, n := range sn.Roots() {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if Reserved(n.Name.Name) {
				continue
			}
			e := &Decl{Key: n.Name.Name, Kind: DeclFunc, Src: sn.Text(n), Refs: FreeNames(n),
				Results: fieldCount(n.Type.Results)}
			if n.Recv != nil && len(n.Recv.List) == 1 {
				e.Kind, e.Recv = DeclMethod, recvType(n.Recv.List[0].Type)
				e.Key = e.Recv + "." + n.Name.Name
			} else {
				e.Names = []string{n.Name.Name}
			}
			decls = append(decls, e)
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
	return decls, vars
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
