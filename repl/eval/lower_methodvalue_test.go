package eval

import (
	"strings"
	"testing"
)

// A method value binds a copy of a value receiver when it is evaluated,
// and the pointer of a pointer receiver; the wants are what Go prints.
func TestMethodValueBindsAtEvaluation(t *testing.T) {
	var out syncBuffer
	s := newTestSessionOut(t, newHost(), &out)
	evalAll(t, s,
		`type Greeter struct{ Name string }`,
		`func (g Greeter) Hello() string { return "hi " + g.Name }`,
		`type C struct{ n int }`,
		`func (c *C) Inc() { c.n++ }`,
		`g := Greeter{"ann"}`, `h := g.Hello`, `g.Name = "bob"`,
		`fmt.Print(h(), ";", g.Hello(), ";")`,
		`c := C{}`, `inc := c.Inc`, `inc(); inc()`, `fmt.Print(c.n, ";")`,
		`func f() string { g := Greeter{"a"}; h := g.Hello; g = Greeter{"b"}; return h() }`,
		`fmt.Print(f(), ";")`,
		`hs := []func() string{}`,
		`for _, n := range []string{"x", "y"} { v := Greeter{n}; hs = append(hs, v.Hello); v.Name = "?" }`,
		`fmt.Print(hs[0](), hs[1]())`,
	)
	if got, want := out.String(), "hi ann;hi bob;2;hi a;hi xhi y"; got != want {
		t.Fatalf("printed %q, want %q", got, want)
	}
}

// A name that is also a field of a shell struct, or a method with a
// pointer receiver somewhere, is left as written.
func TestMethodValueLeftAlone(t *testing.T) {
	s := newTestSession(t, newHost())
	evalAll(t, s,
		`type A struct{ Run func() string }`,
		`type B struct{}`, `func (B) Run() string { return "b" }`,
		`type P struct{}`, `func (*P) Say() string { return "p" }`, `type Q struct{}`, `func (Q) Say() string { return "q" }`,
		`func (B) Name() string { return "b" }`)
	for src, rewrite := range map[string]bool{
		`x := B{}.Run`:            false, // Run is also a field of A
		`y := Q{}.Say`:            false, // Say has a pointer receiver on P
		`z := B{}.Name`:           true,
		`fmt.Println(B{}.Name())`: false, // a call, not a method value
	} {
		if got := strings.Contains(rewritten(t, s.shell, src), "__gonode_r"); got != rewrite {
			t.Errorf("%s: rewritten %v, want %v", src, got, rewrite)
		}
	}
}
