package eval

import (
	"context"
	"errors"
	"runtime"
	"testing"
)

// TestRuntimeErrors checks that panics yaegi raises in package reflect
// reach the user as the runtime errors a compiled program panics with.
func TestRuntimeErrors(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{
		{src: "s := []int{1, 2, 3}"},
		{src: "i := 5"},
		{src: "s[i]", want: "panic: runtime error: index out of range [5] with length 3", err: true},
		{src: "fmt.Println(s[i-6])", want: "index out of range [-1]", err: true},
		{src: `"ab"[i]`, want: "index out of range [5] with length 2", err: true},
		// Inside a function the operands are the function's own: no numbers.
		{src: "func at(xs []int, k int) int { return xs[k] }"},
		{src: "at(s, 9)", want: "panic: runtime error: index out of range", err: true},
		{src: "type Point struct{ X, Y int }"},
		{src: "var p *Point"},
		{src: "p.X", want: "runtime error: invalid memory address or nil pointer dereference", err: true},
		{src: "type Counter struct{ n int }\nfunc (c *Counter) Inc() { c.n++ }"},
		{src: "var c *Counter; c.Inc()", want: "runtime error: invalid memory address or nil pointer dereference", err: true},
		{src: "type I interface{ M() }\nvar i I"},
		{src: "i.M()", want: "panic: runtime error: invalid memory address or nil pointer dereference", err: true},
	})
	_, err := s.Eval(context.Background(), "at(s, 9)")
	var re runtime.Error
	if !errors.As(err, &re) {
		t.Errorf("at(s, 9) failed with %T, want a runtime.Error inside", err)
	}
}

// TestVarDeclsFromVariables checks var declarations whose initializers
// name variables of earlier snippets, which yaegi evaluates as a file
// would fail on ("variable definition loop").
func TestVarDeclsFromVariables(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{
		{src: "var x, y int = 3, 4"},
		{src: "var f float64 = math.Sqrt(float64(x*x + y*y))"},
		{src: "f", want: "5.0"},
		{src: "n := 2"},
		{src: "var (\n\tm = n * 10\n\tk = m + 1\n)"},
		{src: "k", want: "21"},
		{src: "type P struct{ X int }"},
		{src: "p := P{1}"},
		{src: "var i any = p"},
		{src: "p.X = 2"},
		{src: "fmt.Sprint(i, p)", want: `"{1} {2}"`},
		{src: "func getK() int { return k }"},
		{src: "getK()", want: "21"},
	})
}

// TestRangeOverFuncRefused checks the message for a range over an
// iterator function, which yaegi fails on with "nil type".
func TestRangeOverFuncRefused(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{
		{src: "func countTo(n int) func(func(int) bool) {\n\treturn func(yield func(int) bool) {\n\t\tfor i := 1; i <= n; i++ {\n\t\t\tif !yield(i) {\n\t\t\t\treturn\n\t\t\t}\n\t\t}\n\t}\n}"},
		{src: "for i := range countTo(3) {\n\tfmt.Println(i)\n}", want: "range over a function (Go 1.23) is not supported in the shell", err: true},
		{src: "n := 0; countTo(3)(func(i int) bool { n += i; return true })"},
		{src: "n", want: "6"},
	})
}

// TestRuntimeErrorsInWorkers checks that code run in an interpreter of its
// own (a process, an rpc) fails with Go's runtime error text too.
func TestRuntimeErrorsInWorkers(t *testing.T) {
	s := newTestSession(t, newHost())
	ctx := context.Background()
	for src, want := range map[string]string{
		"func() { var p *struct{ X int }; _ = p.X }":   "runtime error: invalid memory address or nil pointer dereference",
		"func() { xs := []int{1}; i := 4; _ = xs[i] }": "runtime error: index out of range",
	} {
		f, err := s.Load(ctx, Bundle{Func: src}, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.Call(ctx)
		var re runtime.Error
		if !errors.As(err, &re) || err.Error() != "panic: "+want {
			t.Errorf("%s: %v, want the runtime error %q", src, err, want)
		}
		f.Release()
	}
}
