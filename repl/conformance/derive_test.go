package conformance

import (
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// entry is what a form's compiled main is renamed to: all the forms are
// packages of one program (one link instead of one per form), which runs
// the form its argument names.
const entry = "ConformanceMain"

// stdPaths are the standard library packages a snippet may use without an
// import: the derived program imports those it names. The shell decides
// for itself which it knows; a form that uses one it does not know is
// refused there and compiled here, which is the comparison we want.
var stdPaths = map[string]string{
	"atomic": "sync/atomic", "big": "math/big", "bufio": "bufio", "bytes": "bytes",
	"cmp": "cmp", "cmplx": "math/cmplx", "context": "context", "errors": "errors",
	"fmt": "fmt", "image": "image", "io": "io", "iter": "iter", "json": "encoding/json", "maps": "maps",
	"math": "math", "os": "os", "rand": "math/rand", "reflect": "reflect",
	"regexp": "regexp", "runtime": "runtime", "slices": "slices", "sort": "sort",
	"strconv": "strconv", "strings": "strings", "sync": "sync", "time": "time",
	"unicode": "unicode", "utf8": "unicode/utf8",
}

// valueBuiltins are the builtins whose call is not a statement in Go: typed
// alone at the prompt, their value is shown, so the program prints it.
var valueBuiltins = map[string]bool{
	"len": true, "cap": true, "append": true, "make": true, "new": true, "min": true,
	"max": true, "complex": true, "real": true, "imag": true,
}

// goSource returns the compiled version of f as package f.pkg, whose
// main is named entry: f.goSrc when the form has one, else derived from
// the input (see derive).
func goSource(f *form) (string, error) {
	if f.goSrc == "" {
		return derive(f)
	}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, f.name+".go", f.goSrc, parser.ParseComments)
	if err != nil {
		return "", err
	}
	file.Name.Name = f.pkg
	found := false
	for _, d := range file.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "main" {
			fd.Name.Name, found = entry, true
		}
	}
	if !found {
		return "", fmt.Errorf("%s.go has no func main", f.name)
	}
	var b strings.Builder
	if err := format.Node(&b, fset, file); err != nil {
		return "", err
	}
	return b.String(), nil
}

// derive writes the program a Go programmer would write for the input:
// an input that parses as declarations goes to package level (imports
// first), any other input is statements of main, in order. Variables
// that main declares get a "_ = x", since the shell does not require them
// to be used, and an expression typed alone, which the shell shows, is
// printed with fmt.Println. What cannot be derived this way (a variable
// declared again, a function that uses a variable declared with :=) needs
// a program written by hand.
func derive(f *form) (string, error) {
	var imports, decls, body []string
	inMain := map[string]bool{} // variables main declares
	types := map[string]bool{}  // types the form declares
	for _, in := range inputs(f.input) {
		fset := token.NewFileSet()
		const fileHead = "package p\n"
		if file, err := parser.ParseFile(fset, "", fileHead+in, parser.ParseComments); err == nil {
			src := fileHead + in
			for _, d := range file.Decls {
				text := src[fset.Position(d.Pos()).Offset:fset.Position(d.End()).Offset]
				gd, _ := d.(*ast.GenDecl)
				switch {
				case gd != nil && gd.Tok == token.IMPORT:
					imports = append(imports, text)
				case gd != nil && gd.Tok == token.VAR && refers(gd, inMain):
					// var s = primes[1:4], with primes declared by :=:
					// a variable of main too.
					for _, sp := range gd.Specs {
						for _, n := range sp.(*ast.ValueSpec).Names {
							text += use(n)
							inMain[n.Name] = true
						}
					}
					body = append(body, text)
				default:
					if gd != nil && gd.Tok == token.TYPE {
						for _, sp := range gd.Specs {
							types[sp.(*ast.TypeSpec).Name.Name] = true
						}
					}
					decls = append(decls, text)
				}
			}
			continue
		}
		const funcHead = "package p\nfunc _() {\n"
		src := funcHead + in + "\n}"
		file, err := parser.ParseFile(fset, "", src, 0)
		if err != nil {
			return "", fmt.Errorf("input %q is neither declarations nor statements: %v (write the program in %s.go)", in, err, f.name)
		}
		for _, st := range file.Decls[0].(*ast.FuncDecl).Body.List {
			text := src[fset.Position(st.Pos()).Offset:fset.Position(st.End()).Offset]
			switch s := st.(type) {
			case *ast.ExprStmt:
				if shown(s.X, types) {
					text = "fmt.Println(" + text + ")"
				}
			case *ast.AssignStmt:
				if s.Tok == token.DEFINE {
					text += use(s.Lhs...)
					for _, n := range s.Lhs {
						inMain[n.(*ast.Ident).Name] = true
					}
				}
			case *ast.DeclStmt:
				if gd := s.Decl.(*ast.GenDecl); gd.Tok == token.VAR {
					for _, sp := range gd.Specs {
						for _, n := range sp.(*ast.ValueSpec).Names {
							text += use(n)
							inMain[n.Name] = true
						}
					}
				}
			}
			body = append(body, text)
		}
	}
	src := "package " + f.pkg + "\n\n" + strings.Join(imports, "\n") + "\n\n" +
		strings.Join(decls, "\n\n") + "\n\nfunc " + entry + "() {\n" + strings.Join(body, "\n") + "\n}\n"
	src, err := addImports(src)
	if err != nil {
		return "", fmt.Errorf("derived program does not parse: %v\n%s", err, src)
	}
	out, err := format.Source([]byte(src))
	if err != nil {
		return "", fmt.Errorf("derived program does not format: %v\n%s", err, src)
	}
	return string(out), nil
}

// predeclaredTypes are the types a conversion typed alone may name.
var predeclaredTypes = map[string]bool{
	"bool": true, "byte": true, "complex64": true, "complex128": true, "float32": true,
	"float64": true, "int": true, "int8": true, "int16": true, "int32": true, "int64": true,
	"rune": true, "string": true, "uint": true, "uint8": true, "uint16": true, "uint32": true,
	"uint64": true, "uintptr": true, "any": true, "error": true,
}

// shown reports whether the shell would show x's value, typed alone: any
// expression but a call, or a call of a value builtin or a conversion to
// a type of types (declared in the form) or a predeclared one.
func shown(x ast.Expr, types map[string]bool) bool {
	call, ok := ast.Unparen(x).(*ast.CallExpr)
	if !ok {
		return true
	}
	id, ok := call.Fun.(*ast.Ident)
	return ok && (valueBuiltins[id.Name] || types[id.Name] || predeclaredTypes[id.Name])
}

// refers reports whether n names one of names.
func refers(n ast.Node, names map[string]bool) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && names[id.Name] {
			found = true
		}
		return !found
	})
	return found
}

func use(names ...ast.Expr) string {
	var b strings.Builder
	for _, n := range names {
		if id, ok := n.(*ast.Ident); ok && id.Name != "_" {
			b.WriteString("; _ = " + id.Name)
		}
	}
	return b.String()
}

// addImports adds an import for each standard package that src names as
// pkg.X without declaring pkg.
func addImports(src string) (string, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "", src, parser.ParseComments)
	if err != nil {
		return "", err
	}
	have := map[string]bool{}
	for _, im := range file.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		name := p[strings.LastIndex(p, "/")+1:]
		if im.Name != nil {
			name = im.Name.Name
		}
		have[name] = true
	}
	need := map[string]bool{}
	ast.Inspect(file, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			// The parser's resolution (Obj) tells a package name from a variable.
			if id, ok := sel.X.(*ast.Ident); ok && id.Obj == nil && stdPaths[id.Name] != "" && !have[id.Name] {
				need[id.Name] = true
			}
		}
		return true
	})
	if len(need) == 0 {
		return src, nil
	}
	var names []string
	for n := range need {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("import (\n")
	for _, n := range names {
		fmt.Fprintf(&b, "\t%q\n", stdPaths[n])
	}
	b.WriteString(")\n")
	at := fset.Position(file.Name.End()).Offset
	return src[:at] + "\n\n" + b.String() + src[at:], nil
}

func TestDerive(t *testing.T) {
	f := &form{name: "t/derive", pkg: "form001", input: `type P struct{ X int }
primes := []int{2, 3, 5}
var s = primes[1:]
func (p P) Double() int { return 2 * p.X }
m := map[string]int{"a": 1}
v, ok := m["a"]
len(s)
P(P{2}).Double()
fmt.Println(v, ok, rand.Intn(1) == 0)
`}
	src, err := derive(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"package form001",
		"\"fmt\"\n\t\"math/rand\"\n",             // imports for the packages named
		"type P struct{ X int }",                 // declarations at package level
		"func " + entry + "() {",                 // statements in main
		"primes := []int{2, 3, 5}\n\t_ = primes", // variables need no use
		"var s = primes[1:]\n\t_ = s",            // a var using one of main's moves in
		"v, ok := m[\"a\"]\n\t_ = v\n\t_ = ok",
		"fmt.Println(len(s))", // a value typed alone is printed
		"P(P{2}).Double()\n",  // a call's results are not
	} {
		if !strings.Contains(src, want) {
			t.Errorf("derived program lacks %q:\n%s", want, src)
		}
	}
}
