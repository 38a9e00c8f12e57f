package eval

import (
	"strings"
	"testing"
)

// Each iteration has its own loop variables (Go 1.22), at the prompt and
// in functions; the wants are what Go prints.
func TestLoopVariablePerIteration(t *testing.T) {
	for _, tt := range []struct {
		name string
		srcs []string
		want string
	}{
		{"closure, three clauses", []string{`var fs []func()`,
			`for i := 0; i < 3; i++ { fs = append(fs, func() { fmt.Print(i) }) }`,
			`for _, f := range fs { f() }`}, "012"},
		{"closure, range", []string{`var fs []func()`,
			`for _, w := range []string{"a", "b"} { fs = append(fs, func() { fmt.Print(w) }) }`,
			`for _, f := range fs { f() }`}, "ab"},
		{"pointer", []string{`var ps []*int`, `for k := 0; k < 3; k++ { ps = append(ps, &k) }`,
			`fmt.Print(*ps[0], ";", *ps[1], ";", *ps[2])`}, "0;1;2"},
		{"in a function", []string{`func mk() (fs []func() int) { for n := 0; n < 3; n++ { fs = append(fs, func() int { return n * n }) }; return }`,
			`for _, f := range mk() { fmt.Print(f(), ";") }`}, "0;1;4;"},
		{"in a func literal", []string{`mk := func() (fs []func() int) { for n := 0; n < 2; n++ { fs = append(fs, func() int { return n }) }; return }`,
			`for _, f := range mk() { fmt.Print(f()) }`}, "01"},
		// The body changes the variable: the value goes on to the next
		// iteration's variable, at the end of the body and at continue.
		{"body assigns", []string{`var fs []func()`,
			`for i := 0; i < 8; i++ { if i == 2 { i += 2; continue }; fs = append(fs, func() { fmt.Print(i, ";") }); i++ }`,
			`for _, f := range fs { f() }`}, "1;6;8;"},
		{"labeled continue", []string{`var ps []*int`,
			"outer:\nfor i := 0; i < 3; i++ {\n\tfor j := 0; j < 3; j++ {\n\t\tif j == 1 {\n\t\t\tps = append(ps, &i)\n\t\t\ti++\n\t\t\tcontinue outer\n\t\t}\n\t}\n}",
			`for _, p := range ps { fmt.Print(*p, ";") }`}, "1;3;"},
		{"defer names it", []string{`type F struct{ n int }`, `func (f *F) Close() { fmt.Print(f.n) }`,
			`func closeAll(fs []*F) { for _, f := range fs { defer f.Close() } }`,
			`closeAll([]*F{{1}, {2}, {3}})`}, "321"},
		{"session variable of the same name untouched", []string{`k := 10`,
			`var fs []func()`, `for k := 0; k < 2; k++ { fs = append(fs, func() { fmt.Print(k) }) }`,
			`for _, f := range fs { f() }; fmt.Print(";", k)`}, "01;10"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out syncBuffer
			s := newTestSessionOut(t, newHost(), &out)
			evalAll(t, s, tt.srcs...)
			if got := out.String(); got != tt.want {
				t.Fatalf("printed %q, want %q", got, tt.want)
			}
		})
	}
}

// A loop whose body does not capture its variable is left as written.
func TestLoopVariableLeftAlone(t *testing.T) {
	s := newTestSession(t, newHost())
	src := `func sum() (t int) { for i := 0; i < 3; i++ { t += i }; return }`
	if got := rewritten(t, s.shell, src); got != src {
		t.Fatalf("rewritten into %q", got)
	}
	if got := rewritten(t, s.shell, `func f() { for i := 0; i < 3; i++ { g := func() { _ = i } ; g() } }`); !strings.Contains(got, "i := i") {
		t.Fatalf("a capturing loop was not given a copy: %q", got)
	}
}
