package eval

import (
	"errors"
	"reflect"
	"testing"

	"github.com/traefik/yaegi/stdlib"
)

// TestEscapePathsListed keeps the list honest: each path is a symbol of
// yaegi's standard library that every interpreter replaces, and each
// refused one panics with ErrEscape (the shell's contain_test.go runs
// each refused one in a shell and in processes).
func TestEscapePathsListed(t *testing.T) {
	in, err := NewInterp(Options{})
	if err != nil {
		t.Fatal(err)
	}
	repl := containSymbols(in)
	for _, e := range escapePaths {
		name := pkgName(e.key) + "." + e.name
		if _, ok := stdlib.Symbols[e.key][e.name]; !ok {
			t.Errorf("%s: not in yaegi's standard library", name)
		}
		if _, ok := repl[e.key][e.name]; !ok {
			t.Errorf("%s: not replaced", name)
		}
		if f := repl[e.key][e.name]; e.how == refused && f.Kind() == reflect.Func && name != "runtime.SetFinalizer" { // with a nil finalizer it is allowed
			args := make([]reflect.Value, f.Type().NumIn())
			for i := range args {
				args[i] = reflect.Zero(f.Type().In(i))
			}
			func() {
				defer func() {
					if err, _ := recover().(error); err == nil || !errors.Is(err, ErrEscape) {
						t.Errorf("%s: called, panics with %v, want ErrEscape", name, err)
					}
				}()
				f.Call(args)
			}()
		}
	}
}
