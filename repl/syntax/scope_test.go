package syntax

import (
	"go/ast"
	"reflect"
	"strings"
	"testing"
)

func TestFreeNames(t *testing.T) {
	tests := []struct {
		src  string // an expression or, starting with "func " and a name, a declaration
		want string // free names, space separated and sorted
	}{
		{"func() { fmt.Println(x) }", "fmt x"},
		{"func(a int) int { return a + b }", "b int"},
		{"func() { x := 1; y := x + z; _ = y }", "z"},
		{"func() { for i := 0; i < n; i++ { use(i) } }", "n use"},
		{"func() { for k, v := range m { use(k, v) } }", "m use"},
		{"func() { for k = range m { } }", "k m"},
		{"func() { if v, ok := m[k]; ok { use(v) }; use(v) }", "k m use v"},
		{"func() { switch x := f(); x { case a: use(x) } }", "a f use"},
		{"func() { switch v := e.(type) { case int: use(v); case T: use(v) } }", "T e int use"},
		{"func() { select { case v := <-ch: use(v) } }", "ch use"},
		{"func() { p := T{Field: v}; _ = p }", "Field T v"}, // keys counted: safe side
		{"func() { s := struct{ A int }{}; _ = s.A }", "int"},
		{"func() { var i interface{ M() int }; _ = i }", "int"},
		{"func() { var x, y = f(), g(); use(x, y) }", "f g use"},
		{"func() { type L []L; var l L; _ = l }", ""},
		{"func() { f := func(n int) int { return n * k }; _ = f }", "int k"},
		{"func() { goto end; end: use(1) }", "use"},
		{"func() { x.y.z = w }", "w x"},
		{"func() { defer func() { recover() }() }", "recover"},
	}
	for _, tt := range tests {
		got := strings.Join(FreeNames(mustExpr(t, tt.src)), " ")
		if got != tt.want {
			t.Errorf("FreeNames(%s) = %q, want %q", tt.src, got, tt.want)
		}
	}
}

func TestFreeNamesDecls(t *testing.T) {
	tests := []struct {
		src  string
		want []string
	}{
		{"func f(n int) int { if n < 2 { return n }; return f(n-1) + g(n-2) }", []string{"f", "g", "int"}},
		{"func (c *Counter) Inc() int { c.n++; return c.n }", []string{"Counter", "int"}},
		{"func Map[T any](xs []T, f func(T) T) []T { return xs }", []string{"any"}},
		{"type Tree struct { Left, Right *Tree; V Value }", []string{"Value"}},
		{"const ( A = iota; B = A + K )", []string{"K", "iota"}},
	}
	for _, tt := range tests {
		sn, err := Analyze(tt.src)
		if err != nil {
			t.Fatal(err)
		}
		var n ast.Node = sn.Decls()[0]
		if gd, ok := n.(*ast.GenDecl); ok && len(gd.Specs) == 1 {
			n = gd.Specs[0]
		}
		if got := FreeNames(n); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("FreeNames(%s) = %q, want %q", tt.src, got, tt.want)
		}
	}
}
