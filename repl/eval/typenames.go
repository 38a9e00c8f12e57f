package eval

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"sort"
	"strings"

	"github.com/gonode/gonode/repl/syntax"
)

// %T and %#v of a type declared in the shell: yaegi hands fmt a value of
// the underlying type, "struct { X int; Y int }" where Go prints
// main.Point. The shell rewrites those arguments into
// __gonode.TypeString(x) and GoSyntax(x) (lower_fmt.go), which put the
// names of the session's struct types back: each has a reflect type of its
// own, found by evaluating *new(T) after the snippet that declared it. A
// type over anything else ("type F float64") arrives as its underlying
// type, which nothing tells apart from a plain float64: there %T refuses
// rather than print float64 for an F, as does a struct type whose fields
// another declared type repeats.

// typeTable is what the shell knows of its types' reflect types.
type typeTable struct {
	structs map[reflect.Type][]string // unnamed struct type -> the shell types of those fields
	others  map[reflect.Type][]string // underlying type -> the shell types over it
	// hidden are the unexported fields of the shell's struct types, under
	// the names yaegi gives them ("Xsecret"): the host sees them exported.
	hidden map[reflect.Type]map[string]bool
	// methods names the shell types with a String or Error method, by
	// their reflect types (a struct type, or a type over a basic type).
	methods map[reflect.Type][]string
	// plain says, per field of a shell struct type, whether its declared
	// type is certainly no shell type (a predeclared or a host type, or a
	// composite of those): printArg need not look into it.
	plain map[reflect.Type][]bool
}

// declaresType reports whether entries declare a type, or a String or
// Error method (which printArg looks for).
func declaresType(entries []*declEntry) bool {
	for _, e := range entries {
		if e.Kind == syntax.DeclType || e.Kind == syntax.DeclMethod && (strings.HasSuffix(e.Key, ".String") || strings.HasSuffix(e.Key, ".Error")) {
			return true
		}
	}
	return false
}

// keepTypeNames renews the table of the session's types after a snippet
// that declares types (entries) ran. Each type costs one evaluation.
func (in *Interp) keepTypeNames(ctx context.Context, entries []*declEntry) {
	all, _ := in.tab.all()
	tt := &typeTable{structs: map[reflect.Type][]string{}, others: map[reflect.Type][]string{}, hidden: map[reflect.Type]map[string]bool{}, methods: map[reflect.Type][]string{}, plain: map[reflect.Type][]bool{}}
	shown := map[string]bool{} // types with a String or Error method
	for _, e := range append(all, entries...) {
		if e.Kind == syntax.DeclMethod && (strings.HasSuffix(e.Key, ".String") || strings.HasSuffix(e.Key, ".Error")) {
			shown[e.Recv] = true
		}
	}
	seen := map[string]bool{}
	for _, e := range append(all, entries...) {
		if e.Kind != syntax.DeclType {
			continue
		}
		for _, ts := range namedTypes(e.Src) {
			n := ts.Name.Name
			if seen[n] || syntax.Reserved(n) {
				continue
			}
			seen[n] = true
			in.takeResult()
			if in.evalRaw(ctx, rtName+".Result(*new("+n+"))") != nil {
				continue
			}
			vals := in.takeResult()
			if len(vals) != 1 || vals[0] == nil {
				continue
			}
			t := reflect.TypeOf(vals[0])
			if shown[n] {
				tt.methods[t] = append(tt.methods[t], n)
			}
			if t.Kind() == reflect.Struct && t.Name() == "" {
				tt.structs[t] = append(tt.structs[t], n)
				if h := unexportedFields(ts); len(h) > 0 {
					tt.hidden[t] = h
				}
				if p := plainFields(ts); len(p) == t.NumField() {
					tt.plain[t] = p
				}
			} else {
				tt.others[t] = append(tt.others[t], n)
			}
		}
	}
	in.resMu.Lock()
	in.typeNames = tt
	in.resMu.Unlock()
}

// types returns the session's type table, nil before any type.
func (in *Interp) types() *typeTable {
	in.resMu.Lock()
	defer in.resMu.Unlock()
	return in.typeNames
}

// typeString is %T of x with the session's struct types named.
func (in *Interp) typeString(x any) string {
	tt := in.types()
	tt.check("%T", reflect.TypeOf(x), true)
	return tt.name(fmt.Sprintf("%T", x))
}

// goSyntax is %#v of x with the session's struct types named. A value of
// a type over a basic type prints as Go prints it (3.5, not main.F(3.5));
// inside a composite value its type is written out, and would be wrong.
func (in *Interp) goSyntax(x any) string {
	tt := in.types()
	t := reflect.TypeOf(x)
	tt.check("%#v", t, t != nil && t.Kind() != reflect.Struct && !isBasic(t))
	return tt.name(fmt.Sprintf("%#v", x))
}

func isBasic(t reflect.Type) bool {
	return t.Kind() <= reflect.Complex128 || t.Kind() == reflect.String
}

// check refuses (Fail) to print the type t for verb when it or a type it
// is made of could be a shell type the table cannot name; top says
// whether t itself counts, not only its parts.
func (tt *typeTable) check(verb string, t reflect.Type, top bool) {
	if tt == nil || t == nil {
		return
	}
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, top bool)
	walk = func(t reflect.Type, top bool) {
		if seen[t] {
			return
		}
		seen[t] = true
		if ns := tt.structs[t]; len(ns) > 1 {
			Fail("%s cannot name the type of this value: %s, declared in the shell, have the same fields, and the interpreter hands fmt a value of either as the unnamed %s. Print the name yourself, for example with a type switch", verb, strings.Join(ns, " and "), t)
		}
		if ns := tt.others[t]; len(ns) > 0 && top {
			Fail("%s cannot tell a %s from a value of %s, declared in the shell over %s: the interpreter hands fmt both as a plain %s. Print the name yourself, for example with a type switch", verb, t, strings.Join(ns, " or "), t, t)
		}
		switch t.Kind() {
		case reflect.Ptr, reflect.Slice, reflect.Array, reflect.Chan:
			walk(t.Elem(), true)
		case reflect.Map:
			walk(t.Key(), true)
			walk(t.Elem(), true)
		}
	}
	walk(t, top)
}

// name replaces, in s, the unnamed struct types that stand for the
// session's struct types by main.Name, the longest first (a struct type
// can hold another).
func (tt *typeTable) name(s string) string {
	if tt == nil {
		return s
	}
	type pair struct{ from, to string }
	var ps []pair
	for t, ns := range tt.structs {
		if len(ns) == 1 {
			ps = append(ps, pair{t.String(), "main." + ns[0]})
		}
	}
	sort.Slice(ps, func(i, j int) bool { return len(ps[i].from) > len(ps[j].from) })
	for _, p := range ps {
		s = strings.ReplaceAll(s, p.from, p.to)
	}
	return s
}

// namedTypes returns the types a type declaration declares that have a
// reflect type of their own to find: not interfaces, aliases or generic
// types (a generic type has none without its arguments).
func namedTypes(src string) []*ast.TypeSpec {
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+src, parser.SkipObjectResolution)
	if err != nil {
		return nil
	}
	var out []*ast.TypeSpec
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, s := range gd.Specs {
			ts := s.(*ast.TypeSpec)
			if _, iface := ts.Type.(*ast.InterfaceType); iface || ts.Assign.IsValid() || ts.TypeParams != nil {
				continue
			}
			out = append(out, ts)
		}
	}
	return out
}

// unexportedFields returns the unexported fields a struct type declares,
// embedded ones aside (their exported fields are promoted), under the
// names yaegi gives them.
func unexportedFields(ts *ast.TypeSpec) map[string]bool {
	st, ok := ts.Type.(*ast.StructType)
	if !ok {
		return nil
	}
	h := map[string]bool{}
	for _, f := range st.Fields.List {
		for _, n := range f.Names {
			if !ast.IsExported(n.Name) && n.Name != "_" {
				h["X"+n.Name] = true
			}
		}
	}
	return h
}

// printArg is __gonode.PrintArg: x as fmt receives it, or a refusal when x
// holds, inside a slice, array, map or struct (or, for a struct type,
// itself), a value of a shell type with a String or Error method: the
// interpreter hands such a value over without its methods, so fmt would
// print its fields or number instead. A value whose static type has the
// method arrives wrapped with it (show.go) and is returned as is.
func (in *Interp) printArg(x any) any {
	if _, ok := unwrapShown(x); ok || x == nil {
		return x
	}
	tt := in.types()
	if tt == nil || len(tt.methods) == 0 {
		return x
	}
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, inside string)
	walk = func(t reflect.Type, inside string) {
		if seen[t] {
			return
		}
		seen[t] = true
		if ns := tt.methods[t]; len(ns) > 0 && (inside != "" || t.Kind() == reflect.Struct) {
			where := "here"
			if inside != "" {
				where = "inside a " + inside
			}
			if t.Kind() != reflect.Struct {
				Fail("fmt cannot tell the %s values %s from values of %s, declared in the shell over %s with a String or Error method: the interpreter hands both to fmt as plain %s, without the method. Print such values one by one, each as an argument of its own", t, where, strings.Join(ns, " or "), t, t)
			}
			instead := "Print such values one by one, each as an argument of its own"
			if inside == "" {
				instead = "Give it its type back, as in v.(" + ns[0] + "), or call its method yourself"
			}
			Fail("fmt cannot print this value as Go would: a value of %s, declared in the shell with a String or Error method, reaches fmt %s without its methods (the interpreter hands it over as an unnamed struct). %s", strings.Join(ns, " or "), where, instead)
		}
		switch t.Kind() {
		case reflect.Ptr:
			walk(t.Elem(), inside)
		case reflect.Slice, reflect.Array:
			walk(t.Elem(), t.Kind().String())
		case reflect.Map:
			walk(t.Key(), "map")
			walk(t.Elem(), "map")
		case reflect.Struct:
			plain := tt.plain[t]
			for i := 0; i < t.NumField(); i++ {
				if i >= len(plain) || !plain[i] {
					walk(t.Field(i).Type, "struct")
				}
			}
		}
	}
	walk(reflect.TypeOf(x), "")
	return x
}

// plainFields says, per field a struct type declares (a name each), whether
// its declared type is certainly not a shell type.
func plainFields(ts *ast.TypeSpec) []bool {
	st, ok := ts.Type.(*ast.StructType)
	if !ok {
		return nil
	}
	var out []bool
	for _, f := range st.Fields.List {
		n := max(len(f.Names), 1)
		for k := 0; k < n; k++ {
			out = append(out, plainType(f.Type))
		}
	}
	return out
}

// plainType reports whether a type expression certainly names no shell
// type: a predeclared type, a package's type, or a composite of those.
func plainType(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return syntax.IsPredeclaredType(e.Name) && e.Name != "any" && e.Name != "error"
	case *ast.SelectorExpr:
		return true
	case *ast.StarExpr:
		return plainType(e.X)
	case *ast.ArrayType:
		return plainType(e.Elt)
	case *ast.MapType:
		return plainType(e.Key) && plainType(e.Value)
	case *ast.ChanType:
		return true // printed as an address
	case *ast.FuncType:
		return true
	}
	return false
}
