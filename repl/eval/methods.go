package eval

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/gonode/gonode/repl/syntax"
)

// Names that rpc resolves besides functions: "Type.Method", a method of a
// type declared in the session, called on the type's zero value (Go's
// method value new(T).M, so that pointer receivers work too), as Elixir
// calls Module.fun; and a package-level variable holding a function
// (var Double = func(v int) int {...}).

// method returns the session's method entry for "Type.Method", or nil.
func (t *declTable) method(name string) *declEntry {
	typ, _, ok := strings.Cut(name, ".")
	if !ok {
		return nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if te := t.names[typ]; te == nil || te.Kind != syntax.DeclType {
		return nil
	}
	if e := t.entries[name]; e != nil && e.Kind == syntax.DeclMethod {
		return e
	}
	return nil
}

// funcVar returns the value of a session variable that holds a non-nil
// function, as of the last snapshot.
func (s *Session) funcVar(name string) (reflect.Value, bool) {
	v, ok := s.tab.value(name)
	if !ok || v == nil {
		return reflect.Value{}, false
	}
	fv := reflect.ValueOf(v)
	if fv.Kind() != reflect.Func || fv.IsNil() {
		return reflect.Value{}, false
	}
	return fv, true
}

// hasOther reports whether resolveOther would find name.
func (s *Session) hasOther(name string) bool {
	if s.tab.method(name) != nil {
		return true
	}
	_, ok := s.funcVar(name)
	return ok
}

// resolveOther resolves a method or a function variable (see above); ok
// false when name is neither. A method runs in an interpreter of its own
// holding its type, the type's methods and what they use, as a function
// does; a function variable runs as the shell holds it: in the shell's
// interpreter, printing on this node.
func (s *Session) resolveOther(ctx context.Context, name string, stdout io.Writer) (f *Func, ok bool, err error) {
	if e := s.tab.method(name); e != nil {
		typ, m, _ := strings.Cut(name, ".")
		b, err := s.tab.bundle("new("+typ+")."+m, nil, nil)
		if err != nil {
			return nil, true, fmt.Errorf("%s: %w", name, err)
		}
		f, err := s.loadBundle(ctx, b, name, stdout)
		return f, true, err
	}
	if fv, ok := s.funcVar(name); ok {
		return &Func{name: name, typ: fv.Type(), fn: fv}, true, nil
	}
	return nil, false, nil
}
