package eval

import (
	"context"
	"fmt"
	"io"
	"reflect"
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

// snapshot stores the current values of the session's variables, which
// rebuilt interpreters and shipped code start from.
func (in *Interp) snapshot() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.snapshotLocked()
}

func (in *Interp) snapshotLocked() {
	_, vars := in.tab.all()
	if len(vars) == 0 || in.abandoned {
		return
	}
	ctx := context.Background()
	in.takeResult()
	if in.evalRaw(ctx, rtName+".Result("+strings.Join(vars, ", ")+")") == nil {
		in.tab.setValues(vars, in.takeResult())
		return
	}
	var gone []string // one failed: take them one by one
	for _, v := range vars {
		if in.evalRaw(ctx, rtName+".Result("+v+")") != nil {
			gone = append(gone, v)
			continue
		}
		in.tab.setValues([]string{v}, in.takeResult())
	}
	in.tab.dropVars(gone)
}

// fullBundle holds every declaration and every variable whose snapshot
// value can be carried to another interpreter; lost lists the others.
func (s *Session) fullBundle() (b Bundle, entries []*declEntry, lost []string) {
	entries, vars := s.tab.all()
	b.Decls = source(entries)
	for _, v := range vars {
		val, ok := s.tab.value(v)
		if !ok {
			lost = append(lost, v)
			continue
		}
		c, err := capture(v, val)
		if err != nil {
			lost = append(lost, v)
			continue
		}
		b.Captures = append(b.Captures, c)
	}
	return b, entries, lost
}

// rebuild replaces the shell interpreter (s.evalMu held) and returns the
// notice for the user.
func (s *Session) rebuild(why string) string {
	b, entries, lost := s.fullBundle()
	ctx := context.Background()
	in, err := newInterp(s.env, s.tab, nil)
	if err != nil {
		return why + ": cannot start a new interpreter: " + err.Error()
	}
	if _, err := in.load(ctx, b, false); err != nil {
		// Declarations that only loaded in their original order: one by one.
		if in, err = newInterp(s.env, s.tab, nil); err != nil {
			return why + ": cannot start a new interpreter: " + err.Error()
		}
		if _, err := in.load(ctx, Bundle{Captures: b.Captures}, false); err != nil {
			lost = append(lost, names(b.Captures)...)
		}
		var broken []*declEntry
		for _, e := range entries {
			if _, err := in.run(ctx, e.Src, false); err != nil {
				broken = append(broken, e)
				lost = append(lost, e.Names...)
			}
		}
		s.tab.dropEntries(broken)
	}
	s.tab.dropVars(lost)
	if old := s.shell; !old.Abandoned() {
		// Calls deferred at the prompt still run when the input ends, in
		// the interpreter that made them (lower_defer.go); a cancelled one
		// runs nothing more, so an interruption drops them.
		in.deferred, old.deferred = old.deferred, nil
	}
	s.shell = in
	s.learnShellTypes() // a rebuild after a push may bring types (types.go)
	msg := why + ": shell interpreter rebuilt"
	if len(lost) > 0 {
		msg += "; lost: " + strings.Join(lost, ", ")
	}
	return msg
}

func names(cs []Capture) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
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

// Bundle makes the Bundle of a function expression (a func literal, or the
// name of a session function) as it stands now: the declarations it uses
// and the snapshot values of the session variables it uses.
func (s *Session) Bundle(src string) (Bundle, error) {
	return s.tab.bundle(src, nil, nil)
}

// Load returns a Bundle's function, ready to Call, in an interpreter that
// holds the Bundle's code and nothing else: one of the session's pool that
// an earlier use of the same code left (its package-level variables
// assigned afresh from b's captures), or a new one. Its output goes to
// stdout, or to Options.Stdout when nil. The interpreter is the Func's
// alone until Func.Release.
func (s *Session) Load(ctx context.Context, b Bundle, stdout io.Writer) (*Func, error) {
	return s.loadBundle(ctx, b, "", stdout)
}

// Resolve returns the function a name stands for: a function declared in
// the session, in an interpreter of its own holding the latest definition
// of it and of what it uses (see Load: a redefinition makes a new key, so
// the next Resolve sees it), or a qualified host or standard library
// function such as "strings.ToUpper". Release the Func after its call.
func (s *Session) Resolve(ctx context.Context, name string) (*Func, error) {
	return s.ResolveTo(ctx, name, nil)
}

// ResolveTo is Resolve with the function's output going to stdout (nil:
// Options.Stdout): a peer's rpc prints on the caller's terminal.
func (s *Session) ResolveTo(ctx context.Context, name string, stdout io.Writer) (*Func, error) {
	if f, ok, err := s.resolveOther(ctx, name, stdout); ok { // Type.Method, a func variable (methods.go)
		return f, err
	}
	if pkg, member, ok := strings.Cut(name, "."); ok {
		key := s.packageKey(pkg)
		if v, ok := s.env.exportsOf(key)[member]; ok && key != "" && v.Kind() == reflect.Func {
			return &Func{name: name, typ: v.Type(), fn: v}, nil
		}
		return nil, fmt.Errorf("%w: %s", ErrUndefined, name)
	}
	if e := s.tab.lookup(name); e == nil || e.Kind != syntax.DeclFunc {
		return nil, fmt.Errorf("%w: %s is not a function declared in the shell", ErrUndefined, name)
	}
	b, err := s.funcBundle(name)
	if err != nil {
		return nil, err
	}
	return s.loadBundle(ctx, b, name, stdout)
}

type cachedBundle struct {
	gen uint64
	b   Bundle
}

// funcBundle is the Bundle of session function name, made again only
// after an Eval: making it walks the declarations (a few microseconds, a
// third of what an rpc into the function costs its node).
func (s *Session) funcBundle(name string) (Bundle, error) {
	gen := s.gen.Load()
	s.bundleMu.Lock()
	c, ok := s.bundles[name]
	s.bundleMu.Unlock()
	if ok && c.gen == gen {
		return c.b, nil
	}
	b, err := s.tab.bundle(name, nil, nil)
	if err != nil {
		return Bundle{}, err
	}
	s.bundleMu.Lock()
	if s.bundles == nil {
		s.bundles = map[string]cachedBundle{}
	}
	s.bundles[name] = cachedBundle{gen, b}
	s.bundleMu.Unlock()
	return b, nil
}

// HasFunc reports, cheaply, whether Resolve would find name: a function
// declared in the session or a qualified host or standard library function.
func (s *Session) HasFunc(name string) bool {
	if s.hasOther(name) {
		return true
	}
	if pkg, member, ok := strings.Cut(name, "."); ok {
		key := s.packageKey(pkg)
		v, ok := s.env.exportsOf(key)[member]
		return ok && key != "" && v.Kind() == reflect.Func
	}
	e := s.tab.lookup(name)
	return e != nil && e.Kind == syntax.DeclFunc
}

// Lookup is Resolve for callers that want the function value: for a
// session function it is bound to an interpreter of its own (taken out of
// the pool for good), so call it from one goroutine at a time; its panics
// are Go panics.
func (s *Session) Lookup(name string) (reflect.Value, bool) {
	f, err := s.Resolve(context.Background(), name)
	if err != nil {
		return reflect.Value{}, false
	}
	return f.fn, true
}

// Call resolves name and calls it with args (see Resolve and Func.Call):
// what an rpc from another node into this shell does.
func (s *Session) Call(ctx context.Context, name string, args ...any) ([]any, error) {
	f, err := s.Resolve(ctx, name)
	if err != nil {
		return nil, err
	}
	defer f.Release()
	return f.Call(ctx, args...)
}
