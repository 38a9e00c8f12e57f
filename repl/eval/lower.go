package eval

import (
	"fmt"
	"go/ast"
	"go/token"
	"reflect"
	"sort"
	"strings"

	"github.com/gonode/gonode/repl/syntax"
)

// Rewrites around what yaegi v0.16.1 cannot compile (checked with a bare
// interpreter):
//
//   - a comma-ok declaration outside a function ("v, ok := m[k]",
//     "n, ok := a.(int)", "x, ok := <-ch", the same with var, or as the
//     init of an if or switch): yaegi types the variables of a
//     package-level declaration before it types the expression, so it
//     panics with "nil type" at top level and reports "undefined: v"
//     inside a top-level block or loop. The same forms compile in a
//     function body, and these compile everywhere: a declaration from
//     single-valued expressions, then the comma-ok assignment. So the
//     shell declares the variables from a value of the right type and
//     assigns them: "v, ok := m[k], false; v, ok = m[k]" (an operand with
//     side effects, or that names a variable being declared, is evaluated
//     once, into a temporary). A receive cannot be repeated and has no
//     expression of its element type that does not receive, so the host
//     receives (__gonode.Recv), leaving the value in a fresh channel of
//     the same type for the declaration to receive from.

// lowerTemp is the prefix of the temporaries the rewrites declare: a name
// the shell reserves, so they are never recorded as session variables.
const lowerTemp = "__gonode_t"

// lowerer computes the edits of one snippet's lowering.
type lowerer struct {
	in   *Interp
	rw   *rewrite
	ints map[string]bool // names known to hold integers (lower_range.go)
	err  error           // a form the shell refuses (lower_defer.go)

	funcs, consts, vars map[string]bool // names of the snippet and session, computed once (lower_defer.go)
	closuresChecked     bool            // deferredClosure was asked (lower_defer.go)
}

// rewriteLower adds the lowering edits to rw (see above). Edits already
// in rw inside a rewritten statement (ship calls) are kept, applied inside
// its new text.
func (in *Interp) rewriteLower(rw *rewrite) error {
	lw := &lowerer{in: in, rw: rw}
	in.watchChannels(rw.sn) // lower_deadlock.go
	lw.ints = intNames(rw.sn, in.tab)
	for _, n := range rw.sn.Roots() {
		switch n := n.(type) {
		case ast.Stmt:
			lw.stmt(n, nil, false)
		case *ast.FuncDecl:
			if n.Body != nil {
				lw.stmt(n.Body, nil, true)
			}
		case *ast.GenDecl:
			lw.funcLits(n)
		}
	}
	return lw.err
}

// funcLits walks the bodies of the func literals in n.
func (lw *lowerer) funcLits(n ast.Node) {
	ast.Inspect(n, func(n ast.Node) bool {
		if lit, ok := n.(*ast.FuncLit); ok {
			lw.stmt(lit.Body, nil, true)
			return false
		}
		return true
	})
}

// stmt walks a statement; label is the label it carries, if any; inFunc
// says it is in a function body, where comma-ok compiles.
func (lw *lowerer) stmt(s ast.Stmt, label *ast.LabeledStmt, inFunc bool) {
	if l, ok := s.(*ast.LabeledStmt); ok && label == nil {
		lw.stmt(l.Stmt, l, inFunc) // a labeled statement at top level: its loop knows its label
		return
	}
	// The init of an if, switch or for and the communication of a select
	// case are not statements of a list: initStmt rewrites the first, and
	// yaegi compiles "case v, ok := <-ch:" everywhere.
	var skip ast.Node
	switch s := s.(type) {
	case *ast.IfStmt:
		skip = s.Init
	case *ast.SwitchStmt:
		skip = s.Init
	case *ast.TypeSwitchStmt:
		skip = s.Init
	case *ast.ForStmt:
		skip = s.Init // "for x, ok := <-c; ok; x, ok = <-c" fails in yaegi all the same
	case *ast.CommClause:
		skip = s.Comm
	}
	// Inner statements first: their edits end up inside this one's text.
	ast.Inspect(s, func(n ast.Node) bool {
		if n == s {
			return true
		}
		if n != nil && n == skip {
			return false
		}
		switch n := n.(type) {
		case *ast.FuncLit:
			lw.stmt(n.Body, nil, true)
			return false
		case *ast.LabeledStmt:
			lw.stmt(n.Stmt, n, inFunc)
			return false
		case ast.Stmt:
			lw.stmt(n, nil, inFunc)
			return false
		}
		return true
	})
	if r, ok := s.(*ast.RangeStmt); ok && lw.rangeInt(r, label, inFunc) {
		return
	}
	if lw.control(s, label, inFunc) { // defer, loop variables (lower_defer.go, lower_loopvar.go)
		return
	}
	if inFunc {
		return
	}
	sn := lw.rw.sn
	switch s := s.(type) {
	case *ast.AssignStmt:
		if text, ok := lw.commaOK(s); ok {
			lw.replace(sn.Off(s.Pos()), sn.Off(s.End()), text)
		}
	case *ast.DeclStmt:
		gd, _ := s.Decl.(*ast.GenDecl)
		if gd == nil || gd.Tok != token.VAR || len(gd.Specs) != 1 {
			return
		}
		vs := gd.Specs[0].(*ast.ValueSpec)
		if vs.Type != nil || len(vs.Names) != 2 || len(vs.Values) != 1 {
			return
		}
		as := &ast.AssignStmt{Lhs: []ast.Expr{vs.Names[0], vs.Names[1]}, Tok: token.DEFINE, Rhs: vs.Values}
		if text, ok := lw.commaOK(as); ok {
			lw.replace(sn.Off(s.Pos()), sn.Off(s.End()), text)
		}
	case *ast.IfStmt:
		lw.initStmt(s, s.Init, label)
	case *ast.SwitchStmt:
		lw.initStmt(s, s.Init, label)
	case *ast.TypeSwitchStmt:
		lw.initStmt(s, s.Init, label)
	}
}

// initStmt rewrites "if v, ok := m[k]; ok {...}" (and the same init of a
// switch) into "{ <declaration>; if ; ok {...} }": the variables
// stay scoped to the statement. A label moves inside the block with it.
func (lw *lowerer) initStmt(s ast.Stmt, init ast.Stmt, label *ast.LabeledStmt) {
	as, ok := init.(*ast.AssignStmt)
	if !ok {
		return
	}
	text, ok := lw.commaOK(as)
	if !ok {
		return
	}
	sn, rw := lw.rw.sn, lw.rw
	start, end := sn.Off(s.Pos()), sn.Off(s.End())
	head := ""
	if label != nil {
		start = sn.Off(label.Pos())
		head = sn.Src[start:sn.Off(s.Pos())]
	}
	is, ie := sn.Off(as.Pos()), sn.Off(as.End())
	body := rw.apply(sn.Off(s.Pos()), is) + rw.apply(ie, end)
	lw.replace(start, end, "{ "+text+"; "+head+body+" }")
}

// commaOK returns the lowered text of a comma-ok declaration, or false
// when as is not one.
func (lw *lowerer) commaOK(as *ast.AssignStmt) (string, bool) {
	if as.Tok != token.DEFINE || len(as.Lhs) != 2 || len(as.Rhs) != 1 {
		return "", false
	}
	var names []string
	for _, l := range as.Lhs {
		id, ok := l.(*ast.Ident)
		if !ok {
			return "", false
		}
		names = append(names, id.Name)
	}
	lhs := names[0] + ", " + names[1]
	var pre, post []string
	// operand returns the text to use for e: e itself, or a temporary
	// holding its value when evaluating it twice could differ or when it
	// names a variable being declared (the declaration would capture it).
	operand := func(e ast.Expr, always bool) string {
		text := lw.text(e)
		if !always && !syntax.SideEffects(e) && !mentions(e, names) {
			return text
		}
		t := lw.temp()
		pre = append(pre, t+" := "+text)
		post = append(post, "&"+t)
		return t
	}
	var decl, assign string
	switch x := ast.Unparen(as.Rhs[0]).(type) {
	case *ast.IndexExpr:
		m, k := operand(x.X, false), operand(x.Index, false)
		decl = lhs + " := " + m + "[" + k + "], false"
		assign = lhs + " = " + m + "[" + k + "]"
	case *ast.TypeAssertExpr:
		if x.Type == nil {
			return "", false // a type switch guard
		}
		a, t := operand(x.X, false), lw.text(x.Type)
		decl = lhs + " := *new(" + t + "), false"
		assign = lhs + " = " + a + ".(" + t + ")"
	case *ast.UnaryExpr:
		if x.Op != token.ARROW {
			return "", false
		}
		// yaegi misreads "x, ok := <-c, b" as a comma-ok receive: one
		// declaration each.
		c := operand(x.X, true)
		ok := lw.temp()
		pre = append(pre, ok+" := "+rtName+".Recv(&"+c+")")
		decl = define(names[0], "<-"+c) + "; " + define(names[1], ok)
	default:
		return "", false
	}
	parts := append(pre, decl)
	if assign != "" {
		parts = append(parts, assign)
	}
	if len(post) > 0 {
		// The temporaries of a top-level statement are package-level
		// variables: drop what they hold.
		parts = append(parts, rtName+".Zero("+strings.Join(post, ", ")+")")
	}
	return strings.Join(parts, "; "), true
}

// define declares name from x, or evaluates x when name is blank.
func define(name, x string) string {
	if name == "_" {
		return "_ = " + x
	}
	return name + " := " + x
}

// temp returns a name no other snippet of the interpreter uses: inside a
// top-level block, yaegi resolves a name that a package-level variable
// also has to that variable.
func (lw *lowerer) temp() string {
	lw.in.ntemps++
	return fmt.Sprintf("%s%d", lowerTemp, lw.in.ntemps)
}

// text is the source of n with the edits inside it applied.
func (lw *lowerer) text(n ast.Node) string {
	return lw.rw.apply(lw.rw.sn.Off(n.Pos()), lw.rw.sn.Off(n.End()))
}

// replace sets Src[start:end] to text, dropping the edits inside it (text
// was made with them applied).
func (lw *lowerer) replace(start, end int, text string) {
	rw := lw.rw
	for _, e := range rw.edits {
		if e.start < end && e.end > start && !(e.start >= start && e.end <= end) {
			// Inside another rewrite (a ship call's literal, which the
			// interpreter receiving it lowers itself), or across one: left.
			return
		}
	}
	kept := rw.edits[:0]
	for _, e := range rw.edits {
		if e.start < start || e.end > end {
			kept = append(kept, e)
		}
	}
	rw.edits = append(kept, edit{start, end, text})
	sort.Slice(rw.edits, func(i, j int) bool { return rw.edits[i].start < rw.edits[j].start })
}

// mentions reports whether e uses one of names.
func mentions(e ast.Node, names []string) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			for _, name := range names {
				found = found || (id.Name == name && name != "_")
			}
		}
		return !found
	})
	return found
}

// recv is __gonode.Recv: it receives from the channel *pc for a lowered
// "x, ok := <-ch", stopping when the evaluation is cancelled, and leaves
// in *pc a fresh channel of the same type from which the declaration
// receives the value: holding it when one was received, closed when the
// channel was. It returns ok.
func (in *Interp) recv(pc any) bool {
	p := reflect.ValueOf(pc).Elem()
	cases := []reflect.SelectCase{{Dir: reflect.SelectRecv, Chan: p}}
	ctx := in.evalCtx
	if ctx != nil {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())})
	}
	chosen, v, ok := reflect.Select(cases)
	if chosen == 1 {
		panic(ctx.Err()) // the evaluation returns ctx.Err() meanwhile
	}
	fresh := reflect.MakeChan(reflect.ChanOf(reflect.BothDir, p.Type().Elem()), 1)
	if ok {
		fresh.Send(v)
	} else {
		fresh.Close()
	}
	p.Set(fresh)
	return ok
}

// zero is __gonode.Zero: it sets the variables ps point to to their zero
// values.
func zero(ps ...any) {
	for _, p := range ps {
		v := reflect.ValueOf(p).Elem()
		v.Set(reflect.Zero(v.Type()))
	}
}
