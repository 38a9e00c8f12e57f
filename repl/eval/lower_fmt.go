package eval

import (
	"go/ast"
	"go/token"
	"sort"
	"strconv"
	"strings"

	"github.com/gonode/gonode/repl/syntax"
)

// Rewrites that let the standard library see the shell's types (show.go
// says why):
//
//	fmt.Printf("%T %#v\n", p, p)  ->  fmt.Printf("%s %s\n", __gonode.TypeString(p), __gonode.GoSyntax(p))
//	errors.As(err, &nf)           ->  __gonode.ErrorsAs(err, &nf)
//	reflect.TypeOf(p)             ->  __gonode.TypeOf(p)
//	json.Marshal(u)               ->  json.Marshal(__gonode.JSONValue(u))
//	var err error = MyErr{7}      ->  var err error = func() error { return MyErr{7} }()
//
// The last because yaegi stores a value assigned to a variable of type
// error as the bare value, which then prints as a struct; a value
// returned as an error is wrapped with its Error method.

// formatFuncs are the fmt and log functions with a format: the index of
// the format, the arguments following it.
var formatFuncs = map[string]int{
	"fmt.Printf": 0, "fmt.Sprintf": 0, "fmt.Errorf": 0, "fmt.Fprintf": 1, "fmt.Appendf": 1,
	"log.Printf": 0, "log.Fatalf": 0, "log.Panicf": 0,
}

// rewriteFmt makes the rewrites above. It runs after the other rewrites:
// a range holding their edits is replaced as a whole, one that overlaps an
// edit is left alone.
func (in *Interp) rewriteFmt(rw *rewrite) {
	sn := rw.sn
	var calls []*ast.CallExpr
	for _, root := range sn.Roots() {
		ast.Inspect(root, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if n.Ellipsis == token.NoPos {
					calls = append(calls, n)
				}
			case *ast.ValueSpec:
				in.errorVar(rw, n)
			}
			return true
		})
	}
	// Inner calls first (reverse pre-order), so that an outer argument
	// takes in the edits of the calls inside it.
	for i := len(calls) - 1; i >= 0; i-- {
		call := calls[i]
		name := calleeName(call.Fun)
		if host, ok := hostViews[name]; ok && in.isPackage(sn, name[:strings.IndexByte(name, '.')]) {
			if start, end := sn.Off(call.Fun.Pos()), sn.Off(call.Fun.End()); rw.freeRange(start, end) {
				rw.replace(start, end, rtName+"."+host)
			}
			continue
		}
		if jsonArg(call, func(pkg string) bool { return in.isPackage(sn, pkg) }) && len(call.Args) > 0 {
			a := call.Args[0]
			if start, end := sn.Off(a.Pos()), sn.Off(a.End()); rw.freeRange(start, end) {
				rw.replace(start, end, rtName+".JSONValue("+rw.apply(start, end)+")")
			}
			continue
		}
		at, ok := formatFuncs[name]
		if !ok || len(call.Args) <= at+1 || !in.isPackage(sn, name[:strings.IndexByte(name, '.')]) {
			continue
		}
		lit, ok := call.Args[at].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			continue
		}
		f, err := strconv.Unquote(lit.Value)
		if err != nil {
			continue
		}
		verbs, ok := formatVerbs(f)
		if !ok {
			continue
		}
		changed := map[int]bool{} // indexes in verbs
		for j, v := range verbs {
			a := at + 1 + j
			if (v != 'T' && v != '#') || a >= len(call.Args) {
				continue
			}
			start, end := sn.Off(call.Args[a].Pos()), sn.Off(call.Args[a].End())
			if !rw.freeRange(start, end) {
				continue
			}
			fn := "TypeString"
			if v == '#' {
				fn = "GoSyntax"
			}
			rw.replace(start, end, rtName+"."+fn+"("+rw.apply(start, end)+")")
			changed[j] = true
		}
		if start, end := sn.Off(lit.Pos()), sn.Off(lit.End()); len(changed) > 0 && rw.freeRange(start, end) {
			rw.replace(start, end, strconv.Quote(stringVerbs(f, changed)))
		}
	}
	if in.hasShowMethods() {
		for i := len(calls) - 1; i >= 0; i-- {
			in.checkPrintArgs(rw, calls[i])
		}
	}
}

// printFirst are the print functions of fmt and log with the index of
// their first printed argument.
var printFirst = map[string]int{
	"fmt.Print": 0, "fmt.Println": 0, "fmt.Sprint": 0, "fmt.Sprintln": 0, "fmt.Printf": 1,
	"fmt.Sprintf": 1, "fmt.Errorf": 1, "fmt.Fprint": 1, "fmt.Fprintln": 1, "fmt.Fprintf": 2,
	"log.Print": 0, "log.Println": 0, "log.Printf": 1, "log.Fatal": 0, "log.Fatalln": 0,
	"log.Fatalf": 1, "log.Panic": 0, "log.Panicln": 0, "log.Panicf": 1,
}

// checkPrintArgs makes each printed argument of call, when call is a
// print call, __gonode.PrintArg(x), which refuses a value holding a value
// of a shell type whose String or Error method fmt would not see
// (typenames.go). Arguments rewritten already (%T, %#v) and literals are
// left; so is a call that may yield several values (fmt.Println(f())).
func (in *Interp) checkPrintArgs(rw *rewrite, call *ast.CallExpr) {
	sn := rw.sn
	name := calleeName(call.Fun)
	first, ok := printFirst[name]
	if !ok || call.Ellipsis != token.NoPos || len(call.Args) <= first || !in.isPackage(sn, name[:strings.IndexByte(name, '.')]) {
		return
	}
	args := call.Args[first:]
	if c, ok := args[0].(*ast.CallExpr); ok && len(args) == 1 && syntax.ResultCount(c, &snippetNamer{in: in, local: map[string]syntax.NameKind{}}) != 1 {
		return
	}
	for _, a := range args {
		if _, lit := a.(*ast.BasicLit); lit {
			continue
		}
		start, end := sn.Off(a.Pos()), sn.Off(a.End())
		if !rw.replaced(start, end) && rw.freeRange(start, end) {
			rw.replace(start, end, rtName+".PrintArg("+rw.apply(start, end)+")")
		}
	}
}

// hostViews are the standard functions replaced by the shell's versions,
// which see the shell's types (show.go, hostview.go).
var hostViews = map[string]string{"errors.As": "ErrorsAs", "reflect.TypeOf": "TypeOf"}

// jsonArg reports whether call encodes its first argument as JSON:
// json.Marshal, json.MarshalIndent, json.NewEncoder(w).Encode. An Encode
// on an encoder held in a variable is not recognized.
func jsonArg(call *ast.CallExpr, isPackage func(string) bool) bool {
	switch calleeName(call.Fun) {
	case "json.Marshal", "json.MarshalIndent":
		return isPackage("json")
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Encode" {
		return false
	}
	enc, ok := ast.Unparen(sel.X).(*ast.CallExpr)
	return ok && calleeName(enc.Fun) == "json.NewEncoder" && isPackage("json")
}

// errorVar rewrites the values of "var x error = v" into functions that
// return them as errors; a call's value is left as is (a function's error
// result is wrapped already).
func (in *Interp) errorVar(rw *rewrite, vs *ast.ValueSpec) {
	id, ok := vs.Type.(*ast.Ident)
	if !ok || id.Name != "error" || in.tab.lookup("error") != nil {
		return
	}
	for _, v := range vs.Values {
		if _, call := v.(*ast.CallExpr); call {
			continue
		}
		if lit, isNil := v.(*ast.Ident); isNil && lit.Name == "nil" {
			continue
		}
		start, end := rw.sn.Off(v.Pos()), rw.sn.Off(v.End())
		if rw.freeRange(start, end) {
			rw.replace(start, end, "func() error { return "+rw.apply(start, end)+" }()")
		}
	}
}

// isPackage reports whether name, in the snippet, is the standard package
// of that name: not a variable or declaration of the session or snippet,
// nor an import of another package under that name.
func (in *Interp) isPackage(sn *syntax.Snippet, name string) bool {
	if in.tab.isVar(name) {
		return false
	}
	if e := in.tab.lookup(name); e != nil {
		if f := strings.Fields(e.Key); e.Kind != syntax.DeclImport || len(f) != 3 || f[2] != name {
			return false
		}
	}
	entries, vars := extract(sn)
	for _, v := range vars {
		if v == name {
			return false
		}
	}
	for _, e := range entries {
		for _, n := range e.Names {
			if n == name {
				return false
			}
		}
	}
	return true
}

// freeRange reports whether no edit overlaps [start, end) without lying
// inside it, nor inserts at one of its ends (the order of the two would
// be unclear).
func (rw *rewrite) freeRange(start, end int) bool {
	for _, e := range rw.edits {
		switch {
		case e.start == e.end: // an insertion
			if e.start == start || e.start == end {
				return false
			}
		case e.end <= start || e.start >= end: // outside
		case e.start >= start && e.end <= end: // inside
		default:
			return false
		}
	}
	return true
}

// replace makes Src[start:end] text, dropping the edits inside it (text
// was built with them applied).
func (rw *rewrite) replace(start, end int, text string) {
	kept := rw.edits[:0]
	for _, e := range rw.edits {
		if e.start < start || e.end > end {
			kept = append(kept, e)
		}
	}
	rw.edits = append(kept, edit{start, end, text})
	sort.SliceStable(rw.edits, func(i, j int) bool { return rw.edits[i].start < rw.edits[j].start })
}

// formatVerbs returns the verb of each argument a format consumes in
// order: '*' for a star width or precision, '#' for %#v; false when the
// format uses explicit argument indexes, which this does not follow.
func formatVerbs(f string) ([]rune, bool) {
	var verbs []rune
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		i++
		sharp := false
		for ; i < len(f) && strings.IndexByte("+-# 0123456789.*[", f[i]) >= 0; i++ {
			switch f[i] {
			case '#':
				sharp = true
			case '*':
				verbs = append(verbs, '*')
			case '[':
				return nil, false
			}
		}
		if i >= len(f) || f[i] == '%' {
			continue
		}
		v := rune(f[i])
		if v == 'v' && sharp {
			v = '#'
		}
		verbs = append(verbs, v)
	}
	return verbs, true
}

// stringVerbs returns f with the verbs at the changed indexes (as
// formatVerbs counts them) made %s, their flags dropped.
func stringVerbs(f string, changed map[int]bool) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteByte(f[i])
			continue
		}
		j := i + 1
		for ; j < len(f) && strings.IndexByte("+-# 0123456789.*", f[j]) >= 0; j++ {
			if f[j] == '*' {
				n++
			}
		}
		switch {
		case j >= len(f):
			b.WriteString(f[i:])
		case f[j] == '%':
			b.WriteString(f[i : j+1])
		case changed[n]:
			b.WriteString("%s")
			n++
		default:
			b.WriteString(f[i : j+1])
			n++
		}
		i = j
	}
	return b.String()
}
