package format

import (
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
		{"struct", []any{named{Name: "x", Age: 3}}, `%format.named{Name: "x", Age: 3, tags: []}`},
		{"pointer to struct", []any{&named{Name: "y"}}, `&%format.named{Name: "y", Age: 0, tags: []}`},
		{"shell struct", []any{struct {
			Xn    int
			Label string
		}{Xn: 1, Label: "l"}}, `%{n: 1, Label: "l"}`},
		{"cycle", []any{cyc}, "&%format.node{V: 1, Next: &...}"},
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
		got := Value(tt.vals...)
		if tt.name == "long map cut" {
			if !strings.HasSuffix(got, ", ...}") || strings.Count(got, "=>") != MaxElems {
				t.Errorf("%s: Value = %q", tt.name, got)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("%s: Value = %q, want %q", tt.name, got, tt.want)
		}
	}
}
