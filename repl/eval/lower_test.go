package eval

import (
	"log"
	"strings"
	"testing"

	"github.com/gonode/gonode/repl/syntax"
)

// TestCommaOK runs the comma-ok forms yaegi cannot compile outside a
// function (lower.go) and those that must keep working as they did.
func TestCommaOK(t *testing.T) {
	var out syncBuffer
	s := newTestSessionOut(t, newHost(), &out)
	runSteps(t, s, []step{
		{src: `m := map[string]int{"a": 1}`},
		{src: `v, ok := m["a"]`},
		{src: `v`, want: "1"},
		{src: `ok`, want: "true"},
		{src: `v, ok := m["b"]; fmt.Println(v, ok)`},
		{src: `var a any = 7`},
		{src: `n, ok := a.(int)`},
		{src: `fmt.Sprint(n, ok)`, want: `"7 true"`},
		{src: `f, ok := a.(float64)`},
		{src: `fmt.Sprint(f, ok)`, want: `"0 false"`},
		{src: `ch := make(chan int, 1); ch <- 5; close(ch)`},
		{src: `x, ok := <-ch`},
		{src: `fmt.Sprint(x, ok)`, want: `"5 true"`},
		{src: `x, ok := <-ch`},
		{src: `fmt.Sprint(x, ok)`, want: `"0 false"`},
		{src: `sc := make(chan string, 1); sc <- "s"; var rc <-chan string = sc`},
		{src: `r, ok := <-rc`}, // a receive-only channel
		{src: `fmt.Sprint(r, ok)`, want: `"strue"`},
	})
	runSteps(t, s, []step{
		{src: "k := \"a\"\nif v, ok := m[k]; ok {\n\tfmt.Println(\"found\", v)\n}"},
		{src: "if v, ok := m[\"y\"]; ok {\n\tfmt.Println(v)\n} else if w, ok := m[\"z\"]; !ok {\n\tfmt.Println(\"no z\", w)\n}"},
		{src: "for _, k := range []string{\"a\", \"b\"} {\n\tv, ok := m[k]\n\tfmt.Println(k, v, ok)\n}"},
		{src: "{\n\tv, ok := m[\"a\"]\n\tfmt.Println(v, ok)\n}"},
		{src: "calls := 0; key := func() string { calls++; return \"a\" }"},
		{src: "c, ok := m[key()]; fmt.Println(c, ok, calls)"}, // the key is evaluated once
		{src: "func lookup(k string) (int, bool) { v, ok := m[k]; return v, ok }"},
		{src: `lookup("a")`, want: "(1, true)"},
		{src: "ch2 := make(chan int, 2); ch2 <- 3; close(ch2)\nfor i := 0; i < 2; i++ {\n\ty, ok := <-ch2\n\tfmt.Println(y, ok)\n}"},
		{src: "switch v, ok := m[\"a\"]; {\ncase ok:\n\tfmt.Println(\"switch\", v)\n}"},
	})
	want := "0 false\nfound 1\nno z 0\na 1 true\nb 0 false\n1 true\n1 true 1\n3 true\n0 false\nswitch 1\n"
	if got := out.String(); got != want {
		t.Errorf("printed\n%s\nwant\n%s", got, want)
	}
}

// TestCommaOKRewrite checks what the lowering leaves alone.
func TestCommaOKRewrite(t *testing.T) {
	s := newTestSession(t, newHost())
	for _, src := range []string{
		"func f(m map[string]int) bool { _, ok := m[\"a\"]; return ok }", // a function body compiles as is
		"g := func(m map[string]int) bool { v, ok := m[\"a\"]; return ok && v > 0 }",
		"v, err := strconv.Atoi(\"1\")", // a call: not comma-ok
		"x, y := 1, 2",
	} {
		got := lowered(t, s, src)
		if strings.Contains(got, lowerTemp) || strings.Contains(got, ", false") {
			t.Errorf("%q rewritten into %q", src, got)
		}
	}
}

// lowered returns src as the shell interpreter would evaluate it.
func lowered(t *testing.T, s *Session, src string) string {
	t.Helper()
	sn, err := syntax.Analyze(src)
	if err != nil {
		t.Fatal(err)
	}
	_, vars := extract(sn)
	rw, err := s.shell.rewrite(sn, vars)
	if err != nil {
		t.Fatal(err)
	}
	return rw.apply(0, len(sn.Src))
}

// TestQuietYaegiLog checks that yaegi's log line before a "nil type"
// panic is dropped and other lines of the standard logger are not.
func TestQuietYaegiLog(t *testing.T) {
	var buf syncBuffer
	f := &yaegiLogFilter{w: &buf}
	l := log.New(f, "", log.LstdFlags)
	l.Print("nil type")
	l.Print("nil reflect type")
	l.Print("a node went down")
	if got := buf.String(); !strings.HasSuffix(got, " a node went down\n") || strings.Contains(got, "nil") {
		t.Errorf("logged %q", got)
	}
}

// TestQuietYaegiLogAfterSetOutput checks that an environment made after
// the standard logger's output was replaced filters it again (the second
// run of repl/conformance's TestConformance in one process logged "nil
// type": the first had restored os.Stderr without the filter).
func TestQuietYaegiLogAfterSetOutput(t *testing.T) {
	prev := log.Writer()
	t.Cleanup(func() { log.SetOutput(prev) })
	for i := 0; i < 2; i++ {
		var buf syncBuffer
		log.SetOutput(&buf)
		if _, err := newEnv(Options{}); err != nil {
			t.Fatal(err)
		}
		log.Print("nil type")
		log.Print("a node went down")
		if got := buf.String(); !strings.HasSuffix(got, " a node went down\n") || strings.Contains(got, "nil") {
			t.Errorf("environment %d: logged %q", i, got)
		}
	}
}
