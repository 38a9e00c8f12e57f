package eval

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/traefik/yaegi/interp"

	"github.com/gonode/gonode/repl/syntax"
)

func TestExtract(t *testing.T) {
	tests := []struct {
		src     string
		entries []string // keys
		vars    []string
	}{
		{"func f() {}", []string{"f"}, nil},
		{"func (c *C[K]) M() {}", []string{"C.M"}, nil},
		{"type A int; type B struct{}", []string{"A", "B"}, nil},
		{"type ( X int; Y string )", []string{"X", "Y"}, nil},
		{"const ( A = iota; B )", []string{"const A,B"}, nil},
		{"var a, b = 1, 2", nil, []string{"a", "b"}},
		{`import ( "strings"; r "math/rand"; . "fmt"; _ "os" )`, []string{"import strings strings", "import r math/rand", "import . fmt"}, nil},
		{"x, _ := 1, 2", nil, []string{"x"}},
		{"x := 1; type L int; const K = 1; var v int", []string{"L", "const K"}, []string{"x", "v"}},
		{"x = 1", nil, nil},
		{"func __hidden() {}; var __v = 1", nil, nil},
		{"for i := 0; i < 1; i++ { j := i; _ = j }", nil, nil}, // inner variables are not the session's
	}
	for _, tt := range tests {
		sn, err := syntax.Analyze(tt.src)
		if err != nil {
			t.Fatalf("%q: %v", tt.src, err)
		}
		es, vars := extract(sn)
		var keys []string
		for _, e := range es {
			keys = append(keys, e.Key)
		}
		if !reflect.DeepEqual(keys, tt.entries) || !reflect.DeepEqual(vars, tt.vars) {
			t.Errorf("extract(%q) = %q, %q; want %q, %q", tt.src, keys, vars, tt.entries, tt.vars)
		}
	}
}

func commitSrc(t *testing.T, tab *declTable, src string) []string {
	t.Helper()
	sn, err := syntax.Analyze(src)
	if err != nil {
		t.Fatal(err)
	}
	es, vars := extract(sn)
	return tab.commit(es, vars)
}

func TestDeclTableLatestWins(t *testing.T) {
	tab := newDeclTable()
	commitSrc(t, tab, "func f() int { return 1 }")
	commitSrc(t, tab, "func g() int { return f() }")
	commitSrc(t, tab, "func f() int { return 2 }")
	if e := tab.lookup("f"); e == nil || !strings.Contains(e.Src, "return 2") {
		t.Fatalf("f = %+v", e)
	}
	es, _ := tab.all()
	if len(es) != 2 || es[0].Key != "g" || es[1].Key != "f" {
		t.Errorf("order after redefinition: %v", keysOf(es))
	}
	commitSrc(t, tab, "f := 3") // a variable replaces the function
	if tab.lookup("f") != nil || !tab.isVar("f") {
		t.Error("variable f did not replace function f")
	}
	commitSrc(t, tab, "func f() {}") // and back
	if tab.lookup("f") == nil || tab.isVar("f") {
		t.Error("function f did not replace variable f")
	}
	commitSrc(t, tab, "const (A = 1; B = 2)")
	commitSrc(t, tab, "const A = 5") // the old group goes: B with it
	if tab.lookup("B") != nil || tab.lookup("A") == nil {
		t.Error("const group not replaced")
	}
	if red := commitSrc(t, tab, "type T int"); len(red) != 0 {
		t.Errorf("first definition reported as redefinition: %v", red)
	}
	if red := commitSrc(t, tab, "type T int"); len(red) != 0 {
		t.Errorf("same definition reported as redefinition: %v", red)
	}
	if red := commitSrc(t, tab, "type T string"); !reflect.DeepEqual(red, []string{"T"}) {
		t.Errorf("redefinition not reported: %v", red)
	}
}

func keysOf(es []*declEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Key)
	}
	return out
}

func TestDeclClosure(t *testing.T) {
	tab := newDeclTable()
	for _, src := range []string{
		`import "math/rand"`,
		`import . "strings"`,
		"type Shape interface{ Area() float64 }",
		"type Sq struct{ S float64 }",
		"func (s Sq) Area() float64 { return s.S * s.S * scale }",
		"scale := 1.0",
		"func total(xs []Sq) (t float64) { for _, x := range xs { t += x.Area() }; return }",
		"func pick() int { return rand.Intn(2) }",
		"func even(n int) bool { if n == 0 { return true }; return odd(n - 1) }",
		"func odd(n int) bool { if n == 0 { return false }; return even(n - 1) }",
		"func alone() {}",
	} {
		commitSrc(t, tab, src)
	}
	tests := []struct {
		free  []string
		decls []string
		vars  []string
	}{
		{[]string{"total"}, []string{"import . strings", "Sq", "Sq.Area", "total"}, []string{"scale"}},
		{[]string{"pick"}, []string{"import . strings", "import rand math/rand", "pick"}, nil},
		{[]string{"even"}, []string{"import . strings", "even", "odd"}, nil},
		{[]string{"fmt", "x"}, []string{"import . strings"}, nil},
	}
	for _, tt := range tests {
		es, vars := tab.closure(tt.free, nil)
		keys := keysOf(es)
		sort.Strings(keys)
		sort.Strings(tt.decls)
		if !reflect.DeepEqual(keys, tt.decls) || !reflect.DeepEqual(vars, tt.vars) {
			t.Errorf("closure(%v) = %q, %q; want %q, %q", tt.free, keys, vars, tt.decls, tt.vars)
		}
	}
	es, _ := tab.closure([]string{"pick"}, nil)
	if src := source(es); !strings.HasPrefix(src, "import") || strings.Index(src, "func pick") < strings.LastIndex(src, "import") {
		t.Errorf("imports do not come first:\n%s", src)
	}
}

// TestInterpExports: host packages are usable qualified without an import,
// unqualified when the prelude dot-imports them, and lowercase helpers work.
func TestInterpExports(t *testing.T) {
	connected := ""
	in, err := NewInterp(Options{
		Exports: interp.Exports{"github.com/gonode/gonode/node/node": {
			"Connect": reflect.ValueOf(func(n string) error { connected = n; return nil }),
			"connect": reflect.ValueOf(func(n string) error { connected = "lower " + n; return nil }),
			"Nodes":   reflect.ValueOf(func() []string { return []string{"a@h", "b@h"} }),
		}},
		Prelude: `import . "github.com/gonode/gonode/node"
func nodes() int { return len(Nodes()) }`,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct{ src, want, connected string }{
		{`node.Connect("n2@h")`, "nil", "n2@h"},
		{`Connect("n3@h")`, "nil", "n3@h"},
		{`connect("n4@h")`, "nil", "lower n4@h"},
		{`Nodes()`, `["a@h", "b@h"]`, "lower n4@h"},
		{`nodes()`, "2", "lower n4@h"},
	}
	for _, tt := range tests {
		res, err := in.Eval(ctx, tt.src)
		if err != nil || res.String() != tt.want || connected != tt.connected {
			t.Errorf("%s = %q, %v (connected %q)", tt.src, res.String(), err, connected)
		}
	}
	if _, err := NewInterp(Options{Prelude: "func broken( {"}); err == nil || !strings.Contains(err.Error(), "prelude") {
		t.Errorf("broken prelude: %v", err)
	}
	if _, err := NewInterp(Options{Prelude: "func f() { undefinedCall() }"}); err == nil {
		t.Error("prelude with a compile error accepted")
	}
}
