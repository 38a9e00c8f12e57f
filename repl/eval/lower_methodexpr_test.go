package eval

import "testing"

// TestMethodExpressions checks method expressions of shell types: the
// receiver is the first argument, as in Go.
func TestMethodExpressions(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{
		{src: "type Counter struct{ n int }\nfunc (c *Counter) Inc() { c.n++ }"},
		{src: "c := &Counter{}"},
		{src: "inc := (*Counter).Inc"},
		{src: "inc(c); inc(c)"},
		{src: "c.n", want: "2"},
		{src: "type V struct{ X float64 }"},
		{src: "func (v V) Double() float64 { return 2 * v.X }"},
		{src: "f := V.Double"},
		{src: "f(V{4})", want: "8.0"},
		{src: "(*V).Double(&V{1.5})", want: "3.0"},
		{src: "func (v V) Sum(xs ...float64) (t float64) { t = v.X; for _, x := range xs { t += x }; return }"},
		{src: "V.Sum(V{1}, 2, 3)", want: "6.0"},
		{src: "func (v V) Pair(a, b int) (int, string) { return a + b, \"ok\" }"},
		{src: "V.Pair(V{}, 1, 2)", want: `(3, "ok")`},
		// In a function declared in the shell, and a type of the snippet.
		{src: "type W int\nfunc (w W) Add(n W) W { return w + n }\nfunc apply(f func(W, W) W) W { return f(1, 2) }"},
		{src: "apply(W.Add)", want: "3"},
		{src: "func twice() int { g := (*Counter).Inc; g(c); g(c); return c.n }"},
		{src: "twice()", want: "4"},
		// Go refuses T.M for a pointer method; so does the shell.
		{src: "Counter.Inc", want: "invalid method expression Counter.Inc (needs pointer receiver (*Counter).Inc)", err: true},
		// A method value is not a method expression.
		{src: "d := V{5}.Double", want: ""},
		{src: "d()", want: "10.0"},
	})
}
