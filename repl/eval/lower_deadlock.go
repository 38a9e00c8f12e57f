package eval

import (
	"go/ast"
	"go/token"
	"strconv"

	"github.com/gonode/gonode/repl/syntax"
)

// "ch := make(chan int)" then "ch <- 1" at the prompt waits for ever: no
// one else can receive. A compiled program stops there ("fatal error: all
// goroutines are asleep - deadlock!"); the shell just hung, saying
// nothing. In general the shell cannot know that nothing else will
// receive: a process may hold the channel, or a host function it was given
// (signal.Notify). But it knows a channel that never left the prompt: a
// session variable made there with make(chan ...) (or declared nil) whose
// name no input has used other than to send, receive, close it or take
// its len or cap at the prompt, outside any function. A send or a receive
// statement at the prompt on such a channel that cannot go on at once
// never will, so the shell writes it as a select with a default that
// fails with Go's diagnosis (a receive whose value the input shows, or one
// inside an expression, is left as written):
//
//	ch <- 1  ->  select { case ch <- 1: default: panic(__gonode.Deadlock("ch <- 1", "ch")) }
//
// The session's functions, func literals (spawn's), and any other use of
// the name (an argument, an assignment to another variable) make the
// channel one the shell no longer watches.

// watchChannels updates in.private from the snippet: names used otherwise
// than as a watched operation stop being watched, and channels made at
// the prompt start to be.
func (in *Interp) watchChannels(sn *syntax.Snippet) {
	if in.private == nil {
		in.private = map[string]bool{}
	}
	safe := map[*ast.Ident]bool{}
	stmts := topStatements(sn)
	for _, s := range stmts {
		markSafeChanUses(s, safe)
	}
	for _, root := range sn.Roots() {
		ast.Inspect(root, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && !safe[id] {
				delete(in.private, id.Name)
			}
			return true
		})
	}
	all, _ := in.tab.all()
	for _, s := range stmts {
		for _, n := range madeChannels(s) {
			in.private[n] = !usedBy(all, n)
		}
	}
}

// topStatements returns the statements of the snippet, var declarations
// typed alone as statements too.
func topStatements(sn *syntax.Snippet) []ast.Stmt {
	if sn.Kind == syntax.Stmts {
		return sn.Statements()
	}
	var out []ast.Stmt
	for _, d := range sn.Decls() {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.VAR {
			out = append(out, &ast.DeclStmt{Decl: gd})
		}
	}
	return out
}

// usedBy reports whether one of the declarations uses name: a session
// function that a process or an rpc may run with the channel.
func usedBy(entries []*declEntry, name string) bool {
	for _, e := range entries {
		for _, r := range e.Refs {
			if r == name {
				return true
			}
		}
	}
	return false
}

// markSafeChanUses records the identifiers of s, a top-level statement,
// that use a channel without letting it go: the channel of a send or a
// receive outside func literals, the argument of close, len or cap, and
// the variable that a top-level "ch := make(chan T)" declares.
func markSafeChanUses(s ast.Stmt, safe map[*ast.Ident]bool) {
	mark := func(e ast.Expr) {
		if id, ok := ast.Unparen(e).(*ast.Ident); ok {
			safe[id] = true
		}
	}
	if as, ok := s.(*ast.AssignStmt); ok && as.Tok == token.DEFINE && len(as.Lhs) == 1 && isMakeChan(as.Rhs[0]) {
		mark(as.Lhs[0])
	}
	if ds, ok := s.(*ast.DeclStmt); ok {
		if gd, ok := ds.Decl.(*ast.GenDecl); ok && gd.Tok == token.VAR {
			for _, sp := range gd.Specs {
				for _, id := range sp.(*ast.ValueSpec).Names {
					safe[id] = true // the declaration itself: madeChannels decides
				}
			}
		}
	}
	ast.Inspect(s, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.SendStmt:
			mark(n.Chan)
		case *ast.UnaryExpr:
			if n.Op == token.ARROW {
				mark(n.X)
			}
		case *ast.CallExpr:
			if id, ok := n.Fun.(*ast.Ident); ok && len(n.Args) == 1 && (id.Name == "close" || id.Name == "len" || id.Name == "cap") {
				mark(n.Args[0])
			}
		}
		return true
	})
}

// madeChannels names the channels a top-level statement makes: "ch :=
// make(chan T[, n])", "var ch = make(chan T)", "var ch chan T" (nil).
func madeChannels(s ast.Stmt) []string {
	switch s := s.(type) {
	case *ast.AssignStmt:
		if s.Tok == token.DEFINE && len(s.Lhs) == 1 && len(s.Rhs) == 1 && isMakeChan(s.Rhs[0]) {
			if id, ok := s.Lhs[0].(*ast.Ident); ok {
				return []string{id.Name}
			}
		}
	case *ast.DeclStmt:
		gd, ok := s.Decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR || len(gd.Specs) != 1 {
			return nil
		}
		vs := gd.Specs[0].(*ast.ValueSpec)
		if len(vs.Names) != 1 {
			return nil
		}
		if _, isChan := vs.Type.(*ast.ChanType); (isChan && len(vs.Values) == 0) || (len(vs.Values) == 1 && isMakeChan(vs.Values[0])) {
			return []string{vs.Names[0].Name}
		}
	}
	return nil
}

func isMakeChan(e ast.Expr) bool {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok || len(call.Args) == 0 {
		return false
	}
	id, ok := call.Fun.(*ast.Ident)
	_, isChan := call.Args[0].(*ast.ChanType)
	return ok && id.Name == "make" && isChan
}

// deadlock rewrites a send or receive statement at the prompt on a
// watched channel (see above); it says whether s was one.
func (lw *lowerer) deadlock(s ast.Stmt) bool {
	var ch ast.Expr
	switch s := s.(type) {
	case *ast.SendStmt:
		ch = s.Chan
	case *ast.ExprStmt:
		u, ok := ast.Unparen(s.X).(*ast.UnaryExpr)
		if !ok || u.Op != token.ARROW || s.X == lw.rw.sn.Final() {
			return false // the input's value: shown, so left an expression
		}
		ch = u.X
	default:
		return false
	}
	id, ok := ast.Unparen(ch).(*ast.Ident)
	if !ok || !lw.in.private[id.Name] {
		return false
	}
	sn := lw.rw.sn
	op := lw.text(s)
	text := "select { case " + op + ": default: panic(" + rtName + ".Deadlock(" +
		strconv.Quote(sn.Text(s)) + ", " + strconv.Quote(id.Name) + ", " + id.Name + " == nil)) }"
	lw.replace(sn.Off(s.Pos()), sn.Off(s.End()), text)
	return true
}

// DeadlockError is the failure of a send or receive at the prompt that
// would wait for ever (see above).
type DeadlockError struct {
	Op, Chan string
	Nil      bool // the channel is nil
}

func (e *DeadlockError) Error() string {
	if e.Nil {
		return "all goroutines are asleep - deadlock! " + e.Op + " would wait for ever: " + e.Chan +
			" is a nil channel. Make it first: " + e.Chan + " = make(chan T, 1)"
	}
	return "all goroutines are asleep - deadlock! " + e.Op + " would wait for ever: nothing else can use " + e.Chan +
		" (no process or function was given it). Give it a buffer (make(chan T, 1)), " +
		"or send and receive in a process: spawn(func() { ... })"
}

// deadlockError is __gonode.Deadlock.
func deadlockError(op, ch string, isNil bool) error {
	return &DeadlockError{Op: op, Chan: ch, Nil: isNil}
}
