package syntax

import (
	"errors"
	"go/ast"
	"go/parser"
	"strings"
	"testing"
)

func TestAnalyzeIncomplete(t *testing.T) {
	tests := []struct {
		src  string
		more bool
	}{
		{"func f() {", true},
		{"func f() {\n\treturn", true},
		{"func f() {}", false},
		{"if x > 0 {", true},
		{"for {", true},
		{"for i := 0; i < 3; i++ {\n fmt.Println(i)", true},
		{"x := []int{1, 2,", true},
		{"x := map[string]int{\n\"a\": 1,", true},
		{"x := struct{a int}{", true},
		{"s := `raw", true},
		{"s := `raw\nstill", true},
		{"s := `raw\ndone`", false},
		{"f(1,", true},
		{"f(", true},
		{"func() {", true},
		{"spawn(func() {", true},
		{"spawn(func() {\n})", false},
		{"x := 1 +", true},
		{"type T struct {", true},
		{"import (", true},
		{"f(}", false},       // a closing brace the user typed: an error, not more input
		{`s := "abc`, false}, // interpreted strings cannot span lines
		{"x := )", false},    // plain syntax error
		{"1 + 1", false},     //
		{"outer:", true},     // a label: its loop comes on the next line
		{"x := 1\nouter:", true},
		{"outer:\nfor {\n\tbreak outer\n}", false},
		{"outer: ;", false}, // labels an empty statement, as written
		{"", false},         // empty input is complete (and does nothing)
		{"// just a comment", false},
	}
	for _, tt := range tests {
		if got := NeedsMore(tt.src); got != tt.more {
			_, err := Analyze(tt.src)
			t.Errorf("NeedsMore(%q) = %v, want %v (err %v)", tt.src, got, tt.more, err)
		}
	}
}

func TestAnalyzeKind(t *testing.T) {
	tests := []struct {
		src   string
		kind  Kind
		final bool // ends with an expression statement
	}{
		{"func f() int { return 1 }", Decls, false},
		{"type T struct{ a int }", Decls, false},
		{"var x = 1", Decls, false},
		{"const K = 2", Decls, false},
		{`import "strings"`, Decls, false},
		{"func f() {}; func g() {}", Decls, false},
		{"func() int { return 1 }()", Stmts, true}, // func literal call: retried as a statement
		{"x := 1", Stmts, false},
		{"x = 2", Stmts, false},
		{"f()", Stmts, true},
		{"x", Stmts, true},
		{"x := 1; x + 1", Stmts, true},
		{"if true { f() }", Stmts, false},
		{"for i := 0; i < 2; i++ {}", Stmts, false},
		{"  \n// c\n", Empty, false},
	}
	for _, tt := range tests {
		sn, err := Analyze(tt.src)
		if err != nil {
			t.Errorf("Analyze(%q): %v", tt.src, err)
			continue
		}
		if sn.Kind != tt.kind || (sn.Final() != nil) != tt.final {
			t.Errorf("Analyze(%q) = %v, final %v; want %v, %v", tt.src, sn.Kind, sn.Final() != nil, tt.kind, tt.final)
		}
	}
}

func TestAnalyzeErrors(t *testing.T) {
	tests := []struct {
		src  string
		want string // substring of the error
		is   error
	}{
		{"x := )", "1:6: expected operand", nil},
		{"x := 1\ny := )", "2:6: expected operand", nil},
		{"func f() { x := ) }", "1:17: expected operand", nil},
		{"package main", "package clause", ErrPackageClause},
	}
	for _, tt := range tests {
		_, err := Analyze(tt.src)
		if err == nil || !strings.Contains(err.Error(), tt.want) || (tt.is != nil && !errors.Is(err, tt.is)) {
			t.Errorf("Analyze(%q) error = %v, want %q", tt.src, err, tt.want)
		}
	}
}

func TestRejectGoStatements(t *testing.T) {
	tests := []struct {
		src string
		pos string // "" when accepted
	}{
		{"go f()", "1:1"},
		{"go func() { panic(1) }()", "1:1"},
		{"x := 1; go f()", "1:9"},
		{"func f() {\n\tgo g()\n}", "2:2"},
		{"spawn(func() {\n\tfor {\n\t\tgo g()\n\t}\n})", "3:3"},
		{"func f() { h := func() { go g() }; h() }", "1:26"},
		{"spawn(func() { g() })", ""},
		{`fmt.Println("go home")`, ""},
	}
	for _, tt := range tests {
		sn, err := Analyze(tt.src)
		if err != nil {
			t.Fatalf("Analyze(%q): %v", tt.src, err)
		}
		err = sn.CheckGo()
		switch {
		case tt.pos == "" && err != nil:
			t.Errorf("%q rejected: %v", tt.src, err)
		case tt.pos != "" && (!errors.Is(err, ErrGoStatement) || !strings.HasPrefix(err.Error(), tt.pos+": ")):
			t.Errorf("%q: error %v, want ErrGoStatement at %s", tt.src, err, tt.pos)
		case tt.pos != "" && !strings.Contains(err.Error(), "spawn(func() { ... })"):
			t.Errorf("%q: error %v does not point to spawn", tt.src, err)
		}
	}
}

// fakeNamer answers from fixed tables.
type fakeNamer struct {
	idents  map[string][2]int // name -> kind, results
	members map[string][2]int // pkg.name -> kind, results
}

func (f fakeNamer) Ident(name string) (NameKind, int) {
	v := f.idents[name]
	return NameKind(v[0]), v[1]
}

func (f fakeNamer) Member(pkg, name string) (NameKind, int) {
	v := f.members[pkg+"."+name]
	return NameKind(v[0]), v[1]
}

func TestResultCount(t *testing.T) {
	nm := fakeNamer{
		idents: map[string][2]int{
			"two": {int(NameFunc), 2}, "void": {int(NameFunc), 0}, "T": {int(NameType), 0},
			"fv": {int(NameUnknown), 0},
		},
		members: map[string][2]int{
			"strings.ToUpper": {int(NameFunc), 1}, "time.Duration": {int(NameType), 0},
			"os.Exit": {int(NameFunc), 0},
		},
	}
	tests := []struct {
		call string
		want int
	}{
		{"two()", 2},
		{"void()", 0},
		{"T(1)", 1},
		{"int(x)", 1},
		{"[]byte(s)", 1},
		{"(*T)(p)", 1},
		{"map[string]int(m)", 1},
		{"func() (int, int) { return 1, 2 }()", 2},
		{"func(a, b int) (x, y, z int) { return }(1, 2)", 3},
		{"func() {}()", 0},
		{"len(s)", 1},
		{"copy(a, b)", 1},
		{"println(1)", 0},
		{"delete(m, k)", 0},
		{"strings.ToUpper(s)", 1},
		{"time.Duration(5)", 1},
		{"os.Exit(1)", 0},
		{"fv(1)", -1},   // a variable holding a function: evaluate it
		{"c.Inc()", -1}, // a method: evaluate the method value
		{"fs[0]()", -1}, //
		{"f()()", -1},   //
		{"strings.NewReplacer().Replace(s)", -1},
	}
	for _, tt := range tests {
		e := mustExpr(t, tt.call)
		if got := ResultCount(e.(*ast.CallExpr), nm); got != tt.want {
			t.Errorf("ResultCount(%s) = %d, want %d", tt.call, got, tt.want)
		}
	}
}

func TestSideEffects(t *testing.T) {
	tests := map[string]bool{
		"f": false, "c.Inc": false, "fs[i]": false, "a.b.c": false,
		"f().M": true, "(<-ch).M": true, "func() {}": true, "m[k()].F": true,
	}
	for src, want := range tests {
		if got := SideEffects(mustExpr(t, src)); got != want {
			t.Errorf("SideEffects(%s) = %v, want %v", src, got, want)
		}
	}
}

func mustExpr(t testing.TB, src string) ast.Expr {
	t.Helper()
	e, err := parser.ParseExpr(src)
	if err != nil {
		t.Fatalf("ParseExpr(%q): %v", src, err)
	}
	return e
}
