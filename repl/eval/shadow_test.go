package eval

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/gonode/gonode/repl/syntax"
)

// A variable declared in a top-level block, loop or if under the name of a
// package-level function (the prelude's v and i, a session function) made
// yaegi panic with "index out of range [-1]"; such a statement now runs as
// a function literal. Assignments to session variables inside it stay.
func TestBlockVariableShadowingAFunction(t *testing.T) {
	var out bytes.Buffer
	s, err := NewSession(Options{
		Prelude: "func v(n ...int) any { return n }\nfunc i(x any) any { return x }\n",
		Stdout:  &out, Stderr: io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	steps := []string{
		`{ v := 1; fmt.Println(v) }`,
		`for k := 0; k < 2; k++ { i := k * 2; fmt.Println(i) }`,
		`if true { v := "in if"; fmt.Println(v) }`,
		`func g() int { return 7 }`,
		`{ g := 3; fmt.Println(g) }`,
		`x := 0`,
		`for k := 0; k < 3; k++ { v := k; x += v }`,
		`fmt.Println(x, g(), v(4), i("still a function"))`,
	}
	for _, src := range steps {
		if _, err := s.Eval(context.Background(), src); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
	}
	want := "1\n0\n2\nin if\n3\n3 7 [4] still a function\n"
	if got := out.String(); got != want {
		t.Fatalf("printed:\n%s\nwant:\n%s", got, want)
	}
}

// Only statements that declare such a name are wrapped: a defer in any
// other top-level block still runs where it did.
func TestShadowingRewriteOnlyWhereNeeded(t *testing.T) {
	s, err := NewSession(Options{Prelude: "func v(n ...int) any { return n }\n", Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	in := s.shell
	for src, wrapped := range map[string]bool{
		"{ v := 1; _ = v }":             true,
		"{ w := 1; _ = w }":             false,
		"for v := range []int{1} { }":   true,
		"f := func() { v := 1; _ = v }": false, // a function literal's body is fine as it is
	} {
		got := strings.Contains(rewritten(t, in, src), "(func() {")
		if got != wrapped {
			t.Errorf("%s: wrapped %v, want %v", src, got, wrapped)
		}
	}
}

func rewritten(t *testing.T, in *Interp, src string) string {
	t.Helper()
	sn, err := syntax.Analyze(src)
	if err != nil {
		t.Fatal(err)
	}
	rw, err := in.rewrite(sn, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rw.apply(0, len(sn.Src))
}

// A variable declared in a top-level block under the name of a session
// variable, or of a variable of an enclosing block, is a new one, as in
// Go; yaegi assigned the outer one. The wants are what Go prints.
func TestBlockVariableShadowingAVariable(t *testing.T) {
	for _, tt := range []struct {
		srcs []string
		want string
	}{
		{[]string{`x := 1`, `if true { x := 2; _ = x }`, `fmt.Print(x)`}, "1"},
		{[]string{`x := 1; if true { x := 2; _ = x }; fmt.Print(x)`}, "1"},
		{[]string{`k := 10`, `for k := 0; k < 3; k++ {}`, `fmt.Print(k)`}, "10"},
		{[]string{`{ x := 1; { x := 2; _ = x }; fmt.Print(x) }`}, "1"},
		{[]string{`n := 5`, `{ n := n * 2; fmt.Print(n, ";") }`, `fmt.Print(n)`}, "10;5"},
		{[]string{`total := 0`, `for j := 0; j < 3; j++ { total += j }`, `fmt.Print(total)`}, "3"},
		{[]string{`var v any = 1`, "switch x := v.(type) {\ncase int:\n\tfmt.Print(\"int \", x+1)\ncase string:\n\tfmt.Print(\"string\", x)\n}"}, "int 2"},
	} {
		var out bytes.Buffer
		s, err := NewSession(Options{Stdout: &out, Stderr: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		for _, src := range tt.srcs {
			if _, err := s.Eval(context.Background(), src); err != nil {
				t.Fatalf("%s: %v", src, err)
			}
		}
		s.Close()
		if got := out.String(); got != tt.want {
			t.Errorf("%q printed %q, want %q", tt.srcs, got, tt.want)
		}
	}
}
