package eval

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// evalAll evaluates each snippet as a separate input and fails on an error.
func evalAll(t *testing.T, s *Session, srcs ...string) {
	t.Helper()
	for _, src := range srcs {
		if _, err := s.Eval(context.Background(), src); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
	}
}

// A deferred call's function value and arguments are those of the defer
// statement, not of the function's return; the wants are what Go prints.
func TestDeferEvaluatesAtTheStatement(t *testing.T) {
	for _, tt := range []struct{ name, decl, want string }{
		{"argument", `func f() { x := 1; defer fmt.Println("x =", x); x = 2 }`, "x = 1\n"},
		{"loop", `func f() { for i := 0; i < 3; i++ { defer fmt.Print(i) } }`, "210"},
		{"callee variable", `func first() { fmt.Print("first") }
func f() { p := first; defer p(); p = nil }`, "first"},
		{"variadic", `func f() { xs := []any{1, 2}; defer fmt.Println(xs...); xs = []any{3} }`, "1 2\n"},
		{"untyped constant", `func show(v float64) { fmt.Println(v) }
func f() { const k = 2; defer show(k); defer show(k / 4.0) }`, "0.5\n2\n"},
		{"two results", `func two() (int, string) { return 1, "a" }
func f() { defer fmt.Println(two()) }`, "1 a\n"},
		{"func literal with arguments", `func f() { for i := 0; i < 2; i++ { defer func(n int) { fmt.Print(n) }(i * 10) } }`, "100"},
		{"recover in a literal", `func f() { defer func(p string) { fmt.Print(p, recover()) }("got "); panic("boom") }`, "got boom"},
		{"method receiver kept", `type C struct{ n int }
func (c *C) Show(label string) { fmt.Print(label, c.n) }
func f() { var c C; label := "n="; defer c.Show(label); label = "?"; c.n = 5 }`, "n=5"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out syncBuffer
			s := newTestSessionOut(t, newHost(), &out)
			evalAll(t, s, tt.decl, "f()")
			if got := out.String(); got != tt.want {
				t.Fatalf("printed %q, want %q", got, tt.want)
			}
		})
	}
}

// At the prompt the session plays main: a defer's call runs when the
// shell's input ends (RunDeferredSrc), the last first, with the values of
// its defer statement.
func TestDeferAtThePromptRunsWhenTheInputEnds(t *testing.T) {
	var out syncBuffer
	s := newTestSessionOut(t, newHost(), &out)
	evalAll(t, s,
		`x := 1; defer fmt.Println("x =", x); x = 2`,
		`for i := 0; i < 3; i++ { defer fmt.Print(i) }`,
		`for _, w := range []string{"a", "b"} { if true { defer fmt.Print(w) } }`,
		`fmt.Print("body;")`,
	)
	if got := out.String(); got != "body;" {
		t.Fatalf("before the end printed %q, want only the body", got)
	}
	if !s.HasDeferred() {
		t.Fatal("HasDeferred is false with calls waiting")
	}
	evalAll(t, s, RunDeferredSrc)
	if got, want := out.String(), "body;ba210x = 1\n"; got != want {
		t.Fatalf("printed %q, want %q", got, want)
	}
	if s.HasDeferred() {
		t.Fatal("the deferred calls are still waiting after they ran")
	}
}

// A panic in one deferred call does not stop the others; the shell then
// reports it.
func TestDeferAtThePromptPanics(t *testing.T) {
	var out syncBuffer
	s := newTestSessionOut(t, newHost(), &out)
	evalAll(t, s, `defer fmt.Print("first")`, `defer panic("in a deferred call")`, `defer fmt.Print("last;")`)
	_, err := s.Eval(context.Background(), RunDeferredSrc)
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "in a deferred call" {
		t.Fatalf("error %v, want the deferred call's panic", err)
	}
	if got := out.String(); got != "last;first" {
		t.Fatalf("printed %q, want both other calls", got)
	}
}

// recover() cannot stop a panic of an input, which the shell reports as
// the input ends: it is refused with a way out, and nothing runs.
func TestDeferRecoverAtThePromptRefused(t *testing.T) {
	var out syncBuffer
	s := newTestSessionOut(t, newHost(), &out)
	_, err := s.Eval(context.Background(), `fmt.Print("ran"); defer func() { recover() }()`)
	if err == nil || !strings.Contains(err.Error(), "recover() in a defer typed at the prompt is not supported") ||
		!strings.Contains(err.Error(), "in a function") {
		t.Fatalf("error %v, want the refusal", err)
	}
	if out.String() != "" || s.HasDeferred() {
		t.Fatalf("the refused input ran: printed %q", out.String())
	}
	// In a function it is Go's.
	evalAll(t, s, `func safe() { defer func() { fmt.Print("recovered ", recover()) }(); panic(1) }`, `safe()`)
	if got := out.String(); got != "recovered 1" {
		t.Fatalf("printed %q", got)
	}
}

// A deferred call of a literal the same function stored in a variable
// made yaegi wait for ever on the function's frame: refused, with what to
// write instead, which works.
func TestDeferOfAStoredLiteralRefused(t *testing.T) {
	var out syncBuffer
	s := newTestSessionOut(t, newHost(), &out)
	for _, src := range []string{
		`func f() { say := func() { fmt.Print("x") }; defer say() }`,
		`func f() { var say = func() { fmt.Print("x") }; defer func() { say() }() }`,
		`g := func() { cleanup := func() {}; defer cleanup() }`,
	} {
		_, err := s.Eval(context.Background(), src)
		if err == nil || !strings.Contains(err.Error(), "defer func() {...}()") {
			t.Errorf("%s: error %v, want the refusal", src, err)
		}
	}
	evalAll(t, s, `func f() { defer func() { fmt.Print("x") }(); say := func() {}; say() }`, `f()`,
		`func mk() func() { return func() { fmt.Print("y") } }`, `func h() { say := mk(); defer say() }`, `h()`)
	if got := out.String(); got != "xy" {
		t.Fatalf("printed %q, want %q", got, "xy")
	}
}

// A redefinition rebuilds the shell interpreter: the calls deferred at the
// prompt still run when the input ends.
func TestDeferAtThePromptSurvivesARebuild(t *testing.T) {
	var out syncBuffer
	s := newTestSessionOut(t, newHost(), &out)
	evalAll(t, s, `type T struct{ A int }`, `x := 1; defer fmt.Print("deferred ", x)`)
	res, err := s.Eval(context.Background(), `type T struct{ A, B int }`)
	if err != nil || !strings.Contains(res.Notice, "rebuilt") {
		t.Fatalf("redefining T: %v, notice %q; want a rebuild", err, res.Notice)
	}
	if !s.HasDeferred() {
		t.Fatal("the rebuild dropped the deferred call")
	}
	evalAll(t, s, RunDeferredSrc)
	if got := out.String(); got != "deferred 1" {
		t.Fatalf("printed %q", got)
	}
}

// A func literal shipped to a process is lowered by the interpreter that
// receives it: its defers and loops are left as written in the shell.
func TestDeferInAShippedLiteral(t *testing.T) {
	ctx := context.Background()
	h := newHost()
	s := newTestSession(t, h)
	evalAll(t, s, `spawn(func() { for i := 0; i < 3; i++ { defer fmt.Print(i) } })`)
	var out syncBuffer
	f, err := s.Load(ctx, <-h.spawned, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	if _, err := f.Call(ctx); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "210" {
		t.Fatalf("the process printed %q, want 210", got)
	}
}
