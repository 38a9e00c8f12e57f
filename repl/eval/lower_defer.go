package eval

import (
	"errors"
	"go/ast"
	"strings"

	"github.com/gonode/gonode/repl/syntax"
)

// Go evaluates a deferred call's function value and arguments when the
// defer statement runs, and makes the call when the function returns.
// yaegi v0.16.1 evaluates them when the call is made ("x := 1; defer
// show(x); x = 2" showed 2, a loop's "defer fmt.Print(i)" printed 333,
// not 210), and a defer typed at the prompt ran again at every later
// input. So the shell rewrites defer statements:
//
//   - in a function, "defer f(a, b)" becomes
//     "{ __t1, __t2 := a, b; defer f(__t1, __t2) }": a variable declared
//     in a block is a new one each time the block runs, in yaegi as in Go,
//     so each deferred call keeps the values its defer statement saw.
//     A callee that is a variable (defer cancel()) is bound the same way.
//     A func literal stays the callee, where recover() works; a method's
//     receiver is left as written (copying it would make a pointer method
//     change the copy), which matters only when the variable holding the
//     receiver is assigned between the defer and the return.
//     Constants are not bound: "__t := 1" would type an untyped constant.
//   - at the prompt the session plays main: "defer f(a)" becomes
//     "{ __t1 := a; __t2 := func() { f(__t1) }; __gonode.Defer(__t2) }", and the calls
//     so registered run, the last first, when the shell's input ends
//     (end of piped input or script, Ctrl-D): Session.RunDeferred. As in
//     Go, a panic in one does not stop the others, and leaving otherwise
//     (exit, halt, an interrupted or rebuilt interpreter) skips them.
//     recover() in a deferred call typed at the prompt is refused: the
//     shell reports a panic of the input when the input ends, before any
//     deferred call could stop it.

// errTopRecover refuses recover() in a defer typed at the prompt.
var errTopRecover = errors.New("recover() in a defer typed at the prompt is not supported: " +
	"the shell reports a panic of the input as soon as the input ends. " +
	"Put the code and its defer in a function, and call it")

// errDeferClosure refuses a deferred call of a func literal the same
// function stored in a variable: yaegi v0.16.1 runs a function's deferred
// calls holding a lock on its frame, and such a literal takes that lock
// when it returns, so the function never returned.
var errDeferClosure = errors.New("a deferred call that calls a func literal the same function stored in a variable " +
	"(say := func() {...}; defer say()) is not supported: the function would never return. " +
	"Defer the literal itself, defer func() {...}(), or declare the function with func at top level")

// deferredClosure reports whether a function body of the snippet has a
// defer statement naming a variable that the same body (not a nested
// literal) assigns a func literal.
func deferredClosure(sn *syntax.Snippet) bool {
	found := false
	var body func(b *ast.BlockStmt)
	body = func(b *ast.BlockStmt) {
		lits := map[string]bool{}
		var defers []*ast.DeferStmt
		ast.Inspect(b, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				body(n.Body)
				return false
			case *ast.AssignStmt:
				for i, r := range n.Rhs {
					if _, ok := ast.Unparen(r).(*ast.FuncLit); ok && len(n.Lhs) == len(n.Rhs) {
						if id, ok := n.Lhs[i].(*ast.Ident); ok {
							lits[id.Name] = true
						}
					}
				}
			case *ast.ValueSpec:
				for i, r := range n.Values {
					if _, ok := ast.Unparen(r).(*ast.FuncLit); ok && len(n.Names) == len(n.Values) {
						lits[n.Names[i].Name] = true
					}
				}
			case *ast.DeferStmt:
				defers = append(defers, n)
			}
			return true
		})
		names := make([]string, 0, len(lits))
		for n := range lits {
			names = append(names, n)
		}
		for _, d := range defers {
			found = found || mentions(d, names)
		}
	}
	for _, root := range sn.Roots() {
		ast.Inspect(root, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if n.Body != nil {
					body(n.Body)
				}
				return false
			case *ast.FuncLit:
				body(n.Body)
				return false
			}
			return true
		})
	}
	return found
}

// RunDeferredSrc is what the shell evaluates, when its input ends, to run
// the calls deferred at the prompt (see Session.RunDeferred).
const RunDeferredSrc = rtName + ".RunDeferred()"

// deferStmt rewrites d (see above); label is the label it carries.
func (lw *lowerer) deferStmt(d *ast.DeferStmt, label *ast.LabeledStmt, inFunc bool) {
	sn := lw.rw.sn
	if inFunc && !lw.closuresChecked {
		lw.closuresChecked = true
		if deferredClosure(sn) && lw.err == nil {
			lw.err = errDeferClosure
		}
	}
	if !inFunc && callsRecover(d.Call) {
		if lw.err == nil {
			lw.err = errTopRecover
		}
		return
	}
	var binds []string // "__t := x"
	bind := func(e ast.Expr, n int) string {
		var ts []string
		for range n {
			ts = append(ts, lw.temp())
		}
		binds = append(binds, strings.Join(ts, ", ")+" := "+lw.text(e))
		return strings.Join(ts, ", ")
	}
	call := d.Call
	callee := lw.text(call.Fun)
	// late: the callee is a method, a func variable or a literal, whose
	// deferred call yaegi makes with the variables of the last iteration
	// of a loop, even those declared in its body: it is made through a
	// host function instead, from a literal built by a call (a new frame
	// holding what it uses).
	late := false
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		late = lw.isVarCallee(f.Name) && !lw.isHostFunc(f.Name)
	case *ast.SelectorExpr:
		pkg, ok := f.X.(*ast.Ident)
		late = !ok || !lw.isPackage(pkg.Name)
	case *ast.FuncLit:
		late = !callsRecover(f) // recover() works only in a literal deferred as such
	default:
		late = true
	}
	if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok && late {
		callee = bind(id, 1) // defer cancel(): the value the variable has now
	}
	var args []string
	for _, a := range call.Args {
		switch n := lw.valueCount(a); {
		case lw.isConst(a):
			args = append(args, lw.text(a))
		case n > 0:
			args = append(args, bind(a, n))
		default: // a call whose number of results is not known: left as is
			args = append(args, lw.text(a))
		}
	}
	dots := ""
	if call.Ellipsis.IsValid() {
		dots = "..."
	}
	callText := callee + "(" + strings.Join(args, ", ") + dots + ")"
	if inFunc && len(binds) == 0 && dots == "" && !late {
		return // nothing evaluated early: yaegi's defer is Go's
	}
	var text string
	switch {
	case inFunc && late:
		fn := lw.temp()
		binds = append(binds, fn+" := func() func() { return func() { "+callText+" } }()")
		text = "defer " + rtName + ".CallDeferred(" + fn + ")"
	case inFunc && dots != "":
		// yaegi drops the ... of a deferred call (fmt.Println(xs...)
		// printed [1 2]); in a deferred literal it keeps it.
		text = "defer func() { " + callText + " }()"
	case inFunc:
		text = "defer " + callText
	default:
		// The literal goes through a variable: a func literal passed to a
		// host function straight away is made once per statement, not per
		// iteration of a loop (the deferred calls all saw the last values).
		fn := lw.temp()
		text = fn + " := func() { " + callText + " }; " + rtName + ".Defer(" + fn + ")"
	}
	if len(binds) > 0 {
		text = strings.Join(binds, "; ") + "; " + text
	}
	start := sn.Off(d.Pos())
	if label != nil {
		start = sn.Off(label.Pos())
		text = sn.Src[start:sn.Off(d.Pos())] + "{ " + text + " }"
	} else {
		text = "{ " + text + " }"
	}
	lw.replace(start, sn.Off(d.End()), text)
}

// callDeferred is __gonode.CallDeferred: a deferred call made through the
// host (see deferStmt).
func callDeferred(f func()) { f() }

// callsRecover reports whether a call to recover appears in n.
func callsRecover(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if id, ok := ast.Unparen(c.Fun).(*ast.Ident); ok && id.Name == "recover" {
				found = true
			}
		}
		return !found
	})
	return found
}

// deferAtEnd is __gonode.Defer: it keeps a call deferred at the prompt.
// Evaluated code calls it on the evaluation's goroutine, while in.mu is
// held by the evaluation.
func (in *Interp) deferAtEnd(f func()) { in.deferred = append(in.deferred, f) }

// runDeferred is __gonode.RunDeferred: it makes the calls deferred at the
// prompt, the last first. A panic in one does not stop the others; the
// last panic is raised again once all have run, as Go reports it.
func (in *Interp) runDeferred() {
	ds := in.deferred
	in.deferred = nil
	var last any
	panicked := false
	for i := len(ds) - 1; i >= 0; i-- {
		func() {
			defer func() {
				if r := recover(); r != nil {
					last, panicked = r, true
				}
			}()
			ds[i]()
		}()
	}
	if panicked {
		panic(last)
	}
}

// HasDeferred reports whether calls deferred at the prompt are waiting for
// the end of the shell's input, when the shell evaluates RunDeferredSrc.
func (s *Session) HasDeferred() bool {
	s.evalMu.Lock()
	defer s.evalMu.Unlock()
	s.shell.mu.Lock()
	defer s.shell.mu.Unlock()
	return len(s.shell.deferred) > 0
}
