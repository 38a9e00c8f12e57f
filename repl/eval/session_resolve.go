package eval

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/gonode/gonode/repl/syntax"
)

// The session's functions for callers other than the shell loop (rpc,
// spawn, async): each call gets an interpreter of its own, never the
// shell's, so these are safe beside a running Eval.

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
