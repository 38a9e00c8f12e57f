package eval

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestEvalPrintRule(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{
		{src: "x := 5"},           // assignment: nothing
		{src: "x", want: "5"},     //
		{src: "x + 1", want: "6"}, //
		{src: "nil", want: "nil"}, // yaegi returns a stale value here
		{src: `"s"`, want: `"s"`}, //
		{src: "func void() {}"},   // declaration: nothing
		{src: "void()"},           // no results: nothing (yaegi: stale 6)
		{src: "func two() (int, error) { return 1, nil }"},
		{src: "two()", want: "(1, nil)"}, // all results
		{src: `strconv.Atoi("x")`, want: `** (error) strconv.Atoi: parsing "x": invalid syntax`}, // error last: the error
		{src: `fmt.Println("hi")`},                           // printing functions: quiet
		{src: `fmt.Sprint("hi")`, want: `"hi"`},              //
		{src: "if x > 0 { void() }"},                         // if/for: nothing
		{src: "for i := 0; i < 2; i++ { x++ }"},              //
		{src: "x", want: "7"},                                //
		{src: "func() int { return 7 }()", want: "7"},        // literal: from its signature
		{src: "func() {}()"},                                 //
		{src: "type C struct{ n int }"},                      //
		{src: "func (c *C) Inc() int { c.n++; return c.n }"}, //
		{src: "func (c *C) Reset() { c.n = 0 }"},             //
		{src: "c := &C{}"},                                   //
		{src: "c.Inc()", want: "1"},                          // method: from the method value's type
		{src: "c.Reset()"},                                   //
		{src: "c", want: "&%C{n: 0}"},                        //
		{src: "f := strings.ToUpper; f(\"x\")", want: `"X"`}, // variable declared earlier in the input
		{src: `strings.NewReplacer("a", "b").Replace("abc")`, want: `"bbc"`},
		{src: "calls := 0"},
		{src: "func mk() *C { calls++; return &C{} }"},
		{src: "mk().Inc()", want: "1"}, // receiver evaluated once
		{src: "calls", want: "1"},
		{src: "mk().Reset()"},
		{src: "calls", want: "2"},
		{src: "time.Duration(1500) * time.Millisecond", want: "1.5s"},
		{src: "time.Duration(5)", want: "5ns"}, // conversion
		{src: "int64(x)", want: "7"},
		{src: "len(\"abc\")", want: "3"},
		{src: "Self()", want: "<n1@h.7.0>"}, // host type with String
		{src: "[]int{1, 2}", want: "[1, 2]"},
		{src: "errors.New(\"boom\")", want: "** (error) boom"},
		{src: "int", want: "int (type) is not an expression", err: true},
		{src: "C", want: "C (type) is not an expression", err: true},
		{src: "time.Duration", want: "time.Duration (type) is not an expression", err: true},
		{src: "undefinedThing", want: "undefined: undefinedThing", err: true},
		{src: "go void()", want: "spawn(func() { ... })", err: true},
		{src: "func f() {", want: "incomplete", err: true},
		{src: `import "math/rand"`},
		{src: `import "math/rand"`}, // a second import is a no-op, not "redeclared"
		{src: "rand.Intn(1)", want: "0"},
		{src: "func three() int { return 3 }"},
		{src: "for k := range three() { _ = k }", want: "", err: true}, // not lowered (lower_range.go): crashes plain Eval
		{src: "os.Exit(3)", want: "", err: true},                       // does not end the node
		{src: "x", want: "7"},
	})
}

func TestEvalDeclared(t *testing.T) {
	s := newTestSession(t, newHost())
	tests := []struct {
		src  string
		want []string
	}{
		{"func f() {}", []string{"f"}},
		{"type T int; func (T) M() {}", []string{"T", "T.M"}},
		{"const (A = iota; B)", []string{"A", "B"}},
		{"var v, w = 1, 2", []string{"v", "w"}},
		{"a, b := 1, 2", []string{"a", "b"}},
		{"a = 3", nil},
		{`import "strings"`, []string{"strings"}},
	}
	for _, tt := range tests {
		res, err := s.Eval(context.Background(), tt.src)
		if err != nil || !reflect.DeepEqual(res.Declared, tt.want) {
			t.Errorf("%q: declared %q, %v; want %q", tt.src, res.Declared, err, tt.want)
		}
	}
}

func TestLookup(t *testing.T) {
	s := newTestSession(t, newHost())
	ctx := context.Background()
	call := func(name string, args ...any) any {
		t.Helper()
		v, ok := s.Lookup(name)
		if !ok {
			t.Fatalf("Lookup(%q) failed", name)
		}
		in := make([]reflect.Value, len(args))
		for i, a := range args {
			in[i] = reflect.ValueOf(a)
		}
		return v.Call(in)[0].Interface()
	}
	runSteps(t, s, []step{{src: "func Compute(n int) int { return n * 2 }"}})
	if got := call("Compute", 21); got != 42 {
		t.Errorf("Compute(21) = %v", got)
	}
	runSteps(t, s, []step{{src: "func Compute(n int) int { return n * 3 }"}})
	if got := call("Compute", 21); got != 63 {
		t.Errorf("after redefinition Compute(21) = %v, want 63", got)
	}
	if got := call("strings.ToUpper", "abc"); got != "ABC" {
		t.Errorf("strings.ToUpper = %v", got)
	}
	for _, name := range []string{"Nope", "strings.Nope", "nopkg.F", "x", "time.Duration"} {
		if _, ok := s.Lookup(name); ok || s.HasFunc(name) {
			t.Errorf("Lookup(%q) succeeded", name)
		}
	}
	for _, name := range []string{"Compute", "strings.ToUpper"} {
		if !s.HasFunc(name) {
			t.Errorf("HasFunc(%q) = false", name)
		}
	}
	if _, err := s.Call(ctx, "Nope"); !errors.Is(err, ErrUndefined) {
		t.Errorf("Call(Nope) = %v, want ErrUndefined", err)
	}
	// A function that uses session variables gets their snapshot values.
	runSteps(t, s, []step{{src: "factor := 10"}, {src: "func Scale(n int) int { return n * factor }"}})
	if got, err := s.Call(ctx, "Scale", int64(4)); err != nil || got[0] != 40 {
		t.Errorf("Scale(4) = %v, %v", got, err)
	}
}

func TestTypeRedefinitionRebuilds(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{
		{src: "type T struct{ A int }"},
		{src: "n := 3"},
	})
	res, err := s.Eval(context.Background(), "type T struct{ A, B int }")
	if err != nil || !strings.Contains(res.Notice, "T redefined") {
		t.Fatalf("redefinition: %v %q", err, res.Notice)
	}
	runSteps(t, s, []step{
		{src: "T{1, 2}", want: "%T{A: 1, B: 2}"},
		{src: "n", want: "3"},
	})
}

// TestFuncLitCallRunsOnce: yaegi re-runs a top-level func(){...}() at every
// later evaluation unless the literal is parenthesized.
func TestFuncLitCallRunsOnce(t *testing.T) {
	h := newHost()
	s := newTestSession(t, h)
	runSteps(t, s, []step{
		{src: "func() { Tick() }()"},
		{src: "y := 1"},
		{src: "func() int { Tick(); return 1 }()", want: "1"},
		{src: "y = 2"},
		{src: "func() { Tick() }(); z := 3"},
		{src: "y = 4"},
	})
	if n := h.ticks.Load(); n != 3 {
		t.Errorf("%d ticks, want 3", n)
	}
}

func TestRedefinitionWins(t *testing.T) {
	s := newTestSession(t, newHost())
	ctx := context.Background()
	steps := []struct {
		src, want, notice string
	}{
		{"type T int", "", ""},
		{"func (T) M() int { return 1 }", "", ""},
		{"T(0).M()", "1", ""},
		{"func (T) M() int { return 2 }", "", "T.M redefined"},
		{"T(0).M()", "2", ""},
		{"func f() int { return 1 }", "", ""},
		{"func g() int { return f() }", "", ""},
		{"g()", "1", ""},
		{"func f() int { return 2 }", "", "f redefined"},
		{"g()", "2", ""},
		{"func lone() int { return 1 }", "", ""},
		{"func lone() int { return 3 }", "", ""}, // nothing uses it: no rebuild
		{"lone()", "3", ""},
		{"v := 1", "", ""},
		{"func h() int { return v }", "", ""},
		{"v = 4", "", ""}, // an assignment, not a redeclaration
		{"h()", "4", ""},
		{"v := 5", "", "v redefined"},
		{"h()", "5", ""},
		{"w := 1", "", ""},
		{"w := 2", "", ""}, // nothing uses w
		{"w", "2", ""},
		{"type S struct{ A int }", "", ""},
		{"type S struct{ A, B int }", "", "S redefined"},
		{"S{1, 2}", "%S{A: 1, B: 2}", ""},
	}
	for _, st := range steps {
		res, err := s.Eval(ctx, st.src)
		if err != nil || res.String() != st.want || !strings.HasPrefix(res.Notice, st.notice) || (st.notice == "") != (res.Notice == "") {
			t.Errorf("%q = %q, %v, notice %q; want %q, notice %q", st.src, res.String(), err, res.Notice, st.want, st.notice)
		}
	}
}
