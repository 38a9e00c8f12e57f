package eval

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gonode/gonode/repl/syntax"
)

// Session is the state of one shell: the shell interpreter, the
// declarations accepted so far (latest definition wins) and the last
// snapshot of the session's package-level variables.
//
// Eval is meant for the shell loop, one goroutine; concurrent Evals are
// serialized. Every other method is safe for concurrent use with Eval and
// with each other: they never touch the shell interpreter, and each builds
// interpreters of its own from the declarations.
type Session struct {
	env *env
	tab *declTable // shared with the shell interpreter; has its own lock

	pool *interpPool // worker interpreters kept for rpcs and spawns (pool.go)

	types *TypeRegistry // the struct types declared here, for the codec (types.go)

	// gen counts Evals ended: the declarations and the snapshot change only
	// in Eval, so a Bundle made at one gen holds until the next.
	gen      atomic.Uint64
	bundleMu sync.Mutex              // guards bundles
	bundles  map[string]cachedBundle // session function name -> its Bundle

	evalMu sync.Mutex // serializes Eval; guards shell
	shell  *Interp

	pushed atomic.Bool // code pushed by a peer is in tab but not yet in shell (push.go)
}

// NewSession starts a session with a fresh shell interpreter.
func NewSession(opts Options) (*Session, error) {
	e, err := newEnv(opts)
	if err != nil {
		return nil, err
	}
	s := &Session{env: e, tab: newDeclTable(), pool: newInterpPool(), types: newTypeRegistry()}
	if s.shell, err = newInterp(e, s.tab, nil); err != nil {
		return nil, err
	}
	return s, nil
}

// Eval evaluates one snippet in the shell interpreter (see Interp.Eval) and
// then snapshots the session's variables. When ctx is cancelled during the
// evaluation, Eval returns ctx.Err() and replaces the shell interpreter by
// one rebuilt from the declarations and the last snapshot; Result.Notice
// names the variables whose values could not be carried over. A snippet
// that redefines a type or a method, or something that earlier
// declarations use, also rebuilds the interpreter: yaegi would ignore the
// new type or method, and earlier functions would keep using the old
// definition. So the latest definition wins in the shell as in workers.
func (s *Session) Eval(ctx context.Context, src string) (Result, error) {
	s.evalMu.Lock()
	defer s.evalMu.Unlock()
	defer s.gen.Add(1)
	s.applyPushedLocked() // code pushed while a snippet ran (push.go)
	res, err := s.shell.Eval(ctx, src)
	if s.shell.Abandoned() {
		return Result{Notice: s.rebuild("interrupted")}, err
	}
	if err != nil {
		res.Notice = s.keepVars(src)
		return res, err
	}
	s.shell.snapshot()
	if len(res.stale) > 0 {
		res.Notice = s.rebuild(strings.Join(res.stale, ", ") + " redefined")
	}
	s.learnShellTypes()
	return res, nil
}

// keepVars undoes what a failed snippet (s.evalMu held) did to the
// session variables it declared again: they keep their values from before
// it, as a failed expression binds nothing in iex. yaegi makes a new,
// zero variable when it compiles a declaration, even one that then fails:
// the old value is assigned to it, or, when functions of the session use
// the variable (and so still see the old one), the interpreter is rebuilt
// from the last snapshot. It returns a notice for the user, or "".
func (s *Session) keepVars(src string) string {
	sn, err := syntax.Analyze(src)
	if err != nil || sn.Kind == syntax.Empty {
		return ""
	}
	_, vars := extract(sn)
	var again []string
	rebuild := false
	for _, v := range vars {
		if s.tab.isVar(v) {
			again = append(again, v)
			rebuild = rebuild || s.tab.used(v)
		}
	}
	if len(again) == 0 {
		return ""
	}
	if rebuild {
		msg := s.rebuild("kept " + strings.Join(again, ", ") + " after the failed snippet")
		if strings.Contains(msg, "; lost: ") {
			return msg
		}
		return ""
	}
	if lost := s.shell.restoreVars(context.Background(), again); len(lost) > 0 {
		return "the values of " + strings.Join(lost, ", ") + " were lost with the failed snippet"
	}
	return ""
}

// NewWorker returns a fresh interpreter with every declaration of the
// session and the variables of the last snapshot loaded (variables whose
// values cannot be copied are left out). It is the caller's: nothing else
// uses it.
func (s *Session) NewWorker() (*Interp, error) {
	b, _, _ := s.fullBundle()
	in, err := newInterp(s.env, newDeclTable(), nil)
	if err != nil {
		return nil, err
	}
	if _, err := in.load(context.Background(), b, true); err != nil {
		return nil, fmt.Errorf("repl: loading the session into a worker: %w", err)
	}
	return in, nil
}

// Close stops the interpreters the session keeps for rpcs and spawns
// (each idle one has a goroutine waiting for calls). Functions in use are
// not affected: their interpreters stop when released. The session may be
// used afterwards.
func (s *Session) Close() { s.pool.close() }
