package repl

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

type named struct {
	Name string
	Age  int
	tags []string
}

type stringerPanics struct{}

func (stringerPanics) String() string { panic("bad String") }

type node struct {
	V    int
	Next *node
}

func TestFormat(t *testing.T) {
	pid := proc.Pid{Node: "node1@localhost", ID: 42}
	ref := proc.Ref{Node: "node1@localhost", ID: [3]uint32{1, 2, 3}}
	var nilPtr *named
	var nilErr error
	cyc := &node{V: 1}
	cyc.Next = cyc
	long := make([]int, 60)
	for i := range long {
		long[i] = i
	}
	longMap := map[int]bool{}
	for i := 0; i < 60; i++ {
		longMap[i] = true
	}
	tests := []struct {
		name string
		vals []any
		want string
	}{
		{"nothing", nil, ""},
		{"nil", []any{nil}, "nil"},
		{"nil pointer", []any{nilPtr}, "nil"},
		{"nil error", []any{nilErr}, "nil"},
		{"string quoted", []any{"a\tb\"c"}, `"a\tb\"c"`},
		{"int", []any{42}, "42"},
		{"negative int64", []any{int64(-7)}, "-7"},
		{"uint8", []any{uint8(255)}, "255"},
		{"float", []any{2.5}, "2.5"},
		{"integral float", []any{3.0}, "3.0"},
		{"big float", []any{1e21}, "1e+21"},
		{"float32", []any{float32(0.1)}, "0.1"},
		{"bool", []any{true}, "true"},
		{"complex", []any{complex(1, 2)}, "(1+2i)"},
		{"slice", []any{[]int{1, 2, 3}}, "[1, 2, 3]"},
		{"empty slice", []any{[]string{}}, "[]"},
		{"nested", []any{[][]string{{"a"}, {"b", "c"}}}, `[["a"], ["b", "c"]]`},
		{"array", []any{[2]bool{true, false}}, "[true, false]"},
		{"long slice cut", []any{long}, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, ...]"},
		{"map sorted", []any{map[string]int{"b": 2, "a": 1}}, `%{"a" => 1, "b" => 2}`},
		{"long map cut", []any{longMap}, ""}, // checked below: 50 entries, then "..."
		{"struct", []any{named{Name: "x", Age: 3}}, `%repl.named{Name: "x", Age: 3, tags: []}`},
		{"pointer to struct", []any{&named{Name: "y"}}, `&%repl.named{Name: "y", Age: 0, tags: []}`},
		{"shell struct", []any{struct {
			Xn    int
			Label string
		}{Xn: 1, Label: "l"}}, `%{n: 1, Label: "l"}`},
		{"cycle", []any{cyc}, "&%repl.node{V: 1, Next: &...}"},
		{"pid stringer", []any{pid}, "<node1@localhost.42.0>"},
		{"ref stringer", []any{ref}, "#Ref<node1@localhost.1.2.3>"},
		{"atom", []any{proc.Normal}, ":normal"},
		{"exit msg", []any{proc.ExitMsg{From: pid, Reason: proc.Killed}}, "{:EXIT, <node1@localhost.42.0>, :killed}"},
		{"down msg", []any{proc.DownMsg{Ref: ref, Pid: pid, Reason: proc.NoProc}}, "{:DOWN, #Ref<node1@localhost.1.2.3>, :process, <node1@localhost.42.0>, :noproc}"},
		{"duration", []any{1500 * time.Millisecond}, "1.5s"},
		{"stringers in a slice", []any{[]proc.Pid{pid}}, "[<node1@localhost.42.0>]"},
		{"panicking String", []any{stringerPanics{}}, "#Panic<bad String>"},
		{"error", []any{errors.New("boom")}, "** (error) boom"},
		{"wrapped error", []any{fmt.Errorf("call: %w", proc.ErrTimeout)}, "** (error) call: proc: timeout"},
		{"error inside", []any{[]error{errors.New("x")}}, "[#Error<x>]"},
		{"func", []any{func(int) int { return 0 }}, "#Function<func(int) int>"},
		{"chan", []any{make(chan int)}, "#Chan<chan int>"},
		{"two results", []any{5, nil}, "(5, nil)"},
		{"result and error", []any{0, errors.New("bad")}, "** (error) bad"},
		{"three results", []any{"a", 1.5, true}, `("a", 1.5, true)`},
		{"any holding map", []any{map[string]any{"k": []any{1, "x", nil}}}, `%{"k" => [1, "x", nil]}`},
	}
	for _, tt := range tests {
		got := Format(tt.vals...)
		if tt.name == "long map cut" {
			if !strings.HasSuffix(got, ", ...}") || strings.Count(got, "=>") != MaxElems {
				t.Errorf("%s: Format = %q", tt.name, got)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("%s: Format = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestFormatError(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{errors.New("undefined: x"), "** (error) undefined: x"},
		{&PanicError{Value: "oops"}, "** (panic) oops"},
		{&PanicError{Value: errors.New("runtime error: index out of range")}, "** (panic) runtime error: index out of range"},
		{&PanicError{Value: 42}, "** (panic) 42"},
		{context.Canceled, "** (interrupted)"},
		{fmt.Errorf("eval: %w", context.DeadlineExceeded), "** (timeout)"},
	}
	for _, tt := range tests {
		if got := FormatError(tt.err); got != tt.want {
			t.Errorf("FormatError(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// TestShellStructTypeNames checks that values of struct types declared in
// the shell print with their type name, as iex prints %P{...}, also inside
// other values and when the type was declared in an earlier snippet.
func TestShellStructTypeNames(t *testing.T) {
	s := newTestSession(t, newHost())
	steps := []struct{ src, want string }{
		{`type P struct { Name string; age int }`, ``},
		{`P{Name: "ann"}`, `%P{Name: "ann", age: 0}`},
		{`&P{Name: "bob"}`, `&%P{Name: "bob", age: 0}`},
		{`type Q struct { P P; Ps []*P; M map[string]P; Any any }; Q{P: P{Name: "a"}, Ps: []*P{{Name: "b"}}, M: map[string]P{"k": {Name: "c"}}, Any: P{Name: "d"}}`,
			`%Q{P: %P{Name: "a", age: 0}, Ps: [&%P{Name: "b", age: 0}], M: %{"k" => %P{Name: "c", age: 0}}, Any: %P{Name: "d", age: 0}}`},
		{`func mk() (P, error) { return P{Name: "m"}, nil }`, ``},
		{`mk()`, `(%P{Name: "m", age: 0}, nil)`},
		{`[]any{P{}, 1}`, `[%P{Name: "", age: 0}, 1]`},
		// Two types with the same fields share one reflect type: neither is named.
		{`type A struct { X int }; type B struct { X int }; A{X: 1}`, `%{X: 1}`},
		{`struct{ N int }{N: 2}`, `%{N: 2}`},
	}
	for _, st := range steps {
		res, err := s.Eval(context.Background(), st.src)
		if err != nil {
			t.Fatalf("%s: %v", st.src, err)
		}
		if got := res.String(); got != st.want {
			t.Errorf("%s\n got %s\nwant %s", st.src, got, st.want)
		}
	}
}
