package eval

import (
	"fmt"
	"go/ast"
	"go/token"
	"sort"
	"strings"

	"github.com/gonode/gonode/repl/syntax"
)

// min and max of variables (Go 1.21; yaegi predates them). With no type
// to write a function for, the shell computes the value in statements put
// before the statement that uses it, in a temporary of the first
// variable argument's type:
//
//	x := min(a, b, 2)  ->  __gonode_t1 := a; if b < __gonode_t1 || b != b { __gonode_t1 = b }; ...; x := __gonode_t1
//
// (b != b keeps a NaN, as min does). The arguments must have no side
// effects, so that evaluating them first changes nothing, and the call
// must be evaluated once where it stands: not in a for loop's condition
// or post statement, an else-if condition, or after && or ||. A min or
// max typed alone at the prompt is only printed: the host computes it
// (__gonode.MinMax). Other uses are refused with what to write.

// minMaxCall is a call of min or max found in a statement, or of a
// generic function computed the same way (intoHosts).
type minMaxCall struct {
	call *ast.CallExpr
	min  bool
	into string // the intoHosts entry of a generic function, or ""
	bad  string // why it cannot be hoisted, or ""
}

// intoHosts are the generic functions whose result has the type of their
// first argument: hoisted as "t := s; __gonode.X(&t, args...)", the host
// replacing *(&t) with the result; printed alone, "__gonode.XValue(s,
// args...)" (stdgeneric_host.go).
var intoHosts = map[string]string{
	"maps.Clone": "MapsClone", "slices.Insert": "SlicesInsert", "slices.Delete": "SlicesDelete",
	"slices.Compact": "SlicesCompact",
}

// rewriteMinMax hoists the min and max calls of variables (constants are
// folded by rewriteGenerics, which runs first and leaves these alone).
func (in *Interp) rewriteMinMax(rw *rewrite) error {
	sn := rw.sn
	var final ast.Expr
	if f := sn.Final(); f != nil {
		final = ast.Unparen(f)
	}
	var err error
	var lists func(list []ast.Stmt)
	lists = func(list []ast.Stmt) {
		for _, s := range list {
			calls, inner := in.minMaxOf(sn, s)
			for _, l := range inner {
				lists(l)
			}
			if err != nil || len(calls) == 0 {
				continue
			}
			// The statement typed last, whose expression the shell prints,
			// is evaluated apart from the statements before it (runFinal):
			// its temporaries go before it as the end of those.
			last := final != nil && len(sn.Statements()) > 0 && s == sn.Statements()[len(sn.Statements())-1]
			at := sn.Off(s.Pos())
			var pre []string
			for _, c := range calls {
				start, end := sn.Off(c.call.Pos()), sn.Off(c.call.End())
				if c.call == final || last && at == 0 && c.bad == "" && printArg(s, c.call) {
					args := rw.apply(sn.Off(c.call.Lparen)+1, sn.Off(c.call.Rparen))
					if c.into != "" {
						rw.replace(start, end, fmt.Sprintf("%s.%sValue(%s)", rtName, c.into, args))
					} else {
						rw.replace(start, end, fmt.Sprintf("%s.MinMax(%v, %s)", rtName, c.min, args))
					}
					continue
				}
				if c.bad == "" && (!last && start == at || last && at == 0 || !rw.freeRange(start, end)) {
					c.bad = "in this statement"
				}
				if c.bad != "" {
					err = minMaxRefused(sn, c)
					return
				}
				in.ntemps++
				tmp := fmt.Sprintf("%s%d", lowerTemp, in.ntemps)
				pre = append(pre, hoistMinMax(rw, sn, c, tmp))
				rw.replace(start, end, tmp)
			}
			if len(pre) == 0 {
				continue
			}
			switch {
			case !rw.freeRange(at, sn.Off(s.End())) || !last && startsAt(rw, at) || last && (at == 0 || startsAt(rw, at-1) || !strings.ContainsRune(" \t\n;", rune(sn.Src[at-1]))):
				err = minMaxRefused(sn, minMaxCall{call: calls[0].call, min: calls[0].min, bad: "in this statement"})
				return
			case last:
				rw.edits = append(rw.edits, edit{at - 1, at, sn.Src[at-1:at] + strings.Join(pre, "; ") + "; "})
			default:
				rw.edits = append(rw.edits, edit{at, at, strings.Join(pre, "; ") + "; "})
			}
			sortEdits(rw)
		}
	}
	lists(sn.Statements())
	for _, d := range sn.Decls() {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Body != nil {
				lists(d.Body.List)
			}
		case *ast.GenDecl:
			if d.Tok == token.VAR && onlyVarDecls(sn) { // run as statements (lower_vars.go)
				lists([]ast.Stmt{&ast.DeclStmt{Decl: d}})
			}
		}
	}
	return err
}

// minMaxRefused says why the call c cannot be provided, and what to write.
func minMaxRefused(sn *syntax.Snippet, c minMaxCall) error {
	name := map[bool]string{true: "min", false: "max"}[c.min]
	if c.into != "" {
		name = calleeName(c.call.Fun)
		return fmt.Errorf("%s%s %s is not available in the shell (its interpreter has no generic standard library); assign it to a variable first, with variables as its arguments: c := %s(x)", lineOf(sn, c.call.Pos()), name, c.bad, name)
	}
	return fmt.Errorf("%s%s of variables %s is not available in the shell (its interpreter predates Go 1.21); assign it to a variable first, with variables as its arguments: m := %s(x, y)", lineOf(sn, c.call.Pos()), name, c.bad, name)
}

// hoistMinMax writes the statements computing call c into tmp.
func hoistMinMax(rw *rewrite, sn *syntax.Snippet, c minMaxCall, tmp string) string {
	seed := 0
	for i, a := range c.call.Args {
		if _, _, isConst := constOf(a); !isConst {
			seed = i
			break
		}
	}
	// No parentheses: an argument of min is no comparison or boolean
	// expression, so it binds tighter than < and ||, and yaegi fails on
	// (b) != (b) in a condition ("reflect: call of reflect.Value.Bool").
	text := func(a ast.Expr) string { return rw.apply(sn.Off(a.Pos()), sn.Off(a.End())) }
	if c.into != "" {
		args := []string{"&" + tmp}
		for _, a := range c.call.Args[1:] {
			args = append(args, text(a))
		}
		return tmp + " := " + text(c.call.Args[0]) + "; " + rtName + "." + c.into + "(" + strings.Join(args, ", ") + ")"
	}
	op := map[bool]string{true: "<", false: ">"}[c.min]
	out := []string{tmp + " := " + text(c.call.Args[seed])}
	for i, a := range c.call.Args {
		if i != seed {
			b := text(a)
			out = append(out, fmt.Sprintf("if %s %s %s || %s != %s { %s = %s }", b, op, tmp, b, b, tmp, b))
		}
	}
	return strings.Join(out, "; ")
}

// minMaxOf returns the min and max calls of variables that statement s
// evaluates itself (not in the blocks or function literals it holds), and
// the statement lists it holds, to be walked in turn.
func (in *Interp) minMaxOf(sn *syntax.Snippet, s ast.Stmt) (calls []minMaxCall, inner [][]ast.Stmt) {
	isMin, isMax := in.isBuiltin(sn, "min"), in.isBuiltin(sn, "max")
	var visit func(n ast.Node, bad string)
	visit = func(n ast.Node, bad string) {
		ast.Inspect(n, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				inner = append(inner, n.Body.List)
				return false
			case *ast.BlockStmt:
				for _, st := range n.List {
					switch cl := st.(type) {
					case *ast.CaseClause: // of a switch: its expressions are evaluated in turn
						for _, e := range cl.List {
							visit(e, "in a case expression")
						}
						inner = append(inner, cl.Body)
					case *ast.CommClause:
						if cl.Comm != nil {
							visit(cl.Comm, "in a select case")
						}
						inner = append(inner, cl.Body)
					default:
						inner = append(inner, n.List)
						return false
					}
				}
				return false
			case *ast.BinaryExpr:
				if n.Op == token.LAND || n.Op == token.LOR {
					visit(n.X, bad)
					visit(n.Y, "after && or ||")
					return false
				}
			case *ast.CallExpr:
				name := calleeName(n.Fun)
				if (name == "min" && isMin || name == "max" && isMax) && len(n.Args) > 0 {
					if _, folded := foldMinMax(n, true); !folded {
						why := bad
						for _, a := range n.Args {
							if why == "" && !pure(a, isMin, isMax) {
								why = "with arguments that call functions"
							}
						}
						calls = append(calls, minMaxCall{call: n, min: name == "min", bad: why})
					}
				}
				if host := intoHosts[name]; host != "" && len(n.Args) > 0 && n.Ellipsis == token.NoPos && in.isPackage(sn, name[:strings.IndexByte(name, '.')]) {
					why := bad
					for _, a := range n.Args {
						if why == "" && !pure(a, isMin, isMax) {
							why = "with arguments that call functions"
						}
					}
					calls = append(calls, minMaxCall{call: n, into: host, bad: why})
				}
			}
			return true
		})
	}
	switch s := s.(type) {
	case *ast.LabeledStmt:
		return in.minMaxOf(sn, s.Stmt)
	case *ast.ForStmt:
		if s.Init != nil {
			visit(s.Init, "")
		}
		if s.Cond != nil {
			visit(s.Cond, "in a for loop's condition")
		}
		if s.Post != nil {
			visit(s.Post, "in a for loop's post statement")
		}
		inner = append(inner, s.Body.List)
	case *ast.IfStmt:
		if s.Init != nil {
			visit(s.Init, "")
		}
		visit(s.Cond, "")
		inner = append(inner, s.Body.List)
		for e := s.Else; e != nil; {
			switch x := e.(type) {
			case *ast.IfStmt:
				if x.Init != nil {
					visit(x.Init, "in an else-if")
				}
				visit(x.Cond, "in an else-if condition")
				inner = append(inner, x.Body.List)
				e = x.Else
			case *ast.BlockStmt:
				inner = append(inner, x.List)
				e = nil
			}
		}
	default:
		visit(s, "")
	}
	// Inner calls first (they end first): an outer call's arguments hold
	// their temporaries, and their statements come first.
	sort.SliceStable(calls, func(i, j int) bool { return calls[i].call.End() < calls[j].call.End() })
	return calls, inner
}

// pure reports whether evaluating e earlier changes nothing: no calls but
// conversions to predeclared types, len, cap, and min and max themselves
// (hoisted first); no function literals or receives.
func pure(e ast.Expr, isMin, isMax bool) bool {
	ok := true
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			ok = false
		case *ast.UnaryExpr:
			ok = ok && n.Op != token.ARROW
		case *ast.CallExpr:
			name := calleeName(n.Fun)
			ok = ok && (syntax.IsPredeclaredType(name) || name == "len" || name == "cap" || name == "min" && isMin || name == "max" && isMax)
		}
		return ok
	})
	return ok
}

// sortEdits orders rw's edits by start, an insertion before a replacement
// at the same place.
func sortEdits(rw *rewrite) {
	es := rw.edits
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && (es[j].start < es[j-1].start || es[j].start == es[j-1].start && es[j].end < es[j-1].end); j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

// startsAt reports whether an edit starts at offset at: an insertion there
// would have no clear order with it.
func startsAt(rw *rewrite, at int) bool {
	for _, e := range rw.edits {
		if e.start == at {
			return true
		}
	}
	return false
}

// printArg reports whether call is an argument of a print call that is
// statement s: its value is only printed, so a host function may compute it.
func printArg(s ast.Stmt, call *ast.CallExpr) bool {
	es, ok := s.(*ast.ExprStmt)
	if !ok {
		return false
	}
	p, ok := es.X.(*ast.CallExpr)
	if !ok || !quietPrints[strings.TrimPrefix(calleeName(p.Fun), "fmt.")] || !strings.HasPrefix(calleeName(p.Fun), "fmt.") {
		return false
	}
	for _, a := range p.Args {
		if ast.Unparen(a) == call {
			return true
		}
	}
	return false
}
