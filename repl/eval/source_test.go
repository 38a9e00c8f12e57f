package eval

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLiteral(t *testing.T) {
	s := newTestSession(t, newHost())
	type local struct{ A int } // not in the export maps
	tests := []struct {
		v    any
		want string // "" when refused
	}{
		{3, "int(3)"},
		{int64(-3), "int64(-3)"},
		{uint8(7), "uint8(7)"},
		{2.5, "float64(2.5)"},
		{math.Inf(-1), "float64(math.Inf(-1))"},
		{complex(1, -2), "complex128(complex(1, -2))"},
		{"a\"b", `string("a\"b")`},
		{true, "bool(true)"},
		{[]int{1, 2}, "[]int{int(1), int(2)}"},
		{[]int(nil), "[]int(nil)"},
		{[2]string{"a", "b"}, `[2]string{string("a"), string("b")}`},
		{map[string]int{"b": 2, "a": 1}, `map[string]int{string("a"): int(1), string("b"): int(2)}`},
		{[]any{1, "x", nil}, `[]any{int(1), string("x"), nil}`},
		{testPid{Node: "n1@h", ID: 7}, `node.Pid{Node: string("n1@h"), ID: uint32(7)}`},
		{&testPid{Node: "n"}, `&node.Pid{Node: string("n")}`},
		{[]testPid{{ID: 1}}, `[]node.Pid{node.Pid{ID: uint32(1)}}`},
		{time.Second, "time.Duration(1000000000)"},
		{time.Time{}, ""},    // unexported fields
		{make(chan int), ""}, // no literal
		{local{1}, ""},       // no name in the shell
		{new(int), ""},       // pointer to a number
		{func() {}, ""},      //
		{map[string]any{"k": make(chan int)}, ""},
	}
	for _, tt := range tests {
		got, err := s.env.literal(reflect.ValueOf(tt.v), 0)
		if tt.want == "" {
			if err == nil {
				t.Errorf("literal(%#v) = %q, want an error", tt.v, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("literal(%#v) = %q, %v; want %q", tt.v, got, err, tt.want)
		}
	}
}

// TestSourceRoundTrip: a bundle travels as one source text, as dist's
// SourceRunner carries it, and runs on another node.
func TestSourceRoundTrip(t *testing.T) {
	h1, h2 := newHost(), newHost()
	s1, s2 := newTestSession(t, h1), newTestSession(t, h2)
	runSteps(t, s1, []step{
		{src: "type Acc struct{ xs []string }"},
		{src: "func (a *Acc) add(s string) { a.xs = append(a.xs, s) }"},
		{src: "limit := 2"},
		{src: "func describe(p Pid, n int) string { a := &Acc{}; for i := 0; i < n && i < limit; i++ { a.add(p.String()) }; return strings.Join(a.xs, \",\") }"},
		{src: `me := Self()`}, // not "me, weights := Self(), map...": yaegi zeroes me then
		{src: `weights := map[string]float64{"a": 0.5}`},
		{src: `spawn(func() string { return describe(me, 3) + fmt.Sprint(weights["a"]) })`},
	})
	b := <-h1.spawned
	src, err := s1.Source(b)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f, err := s2.Compile(ctx, src, nil)
	if err != nil {
		t.Fatalf("compile on node 2: %v\n%s", err, src)
	}
	got, err := f.Call(ctx)
	if err != nil || !reflect.DeepEqual(got, []any{"<n1@h.7.0>,<n1@h.7.0>0.5"}) {
		t.Errorf("call = %v, %v\n%s", got, err, src)
	}

	// What has no literal is refused, with the variable named.
	runSteps(t, s1, []step{{src: "ch := make(chan int)"}, {src: "spawn(func() { ch <- 1 })"}})
	if _, err := s1.Source(<-h1.spawned); !errors.Is(err, ErrNotShippable) || !strings.Contains(err.Error(), "captures ch") {
		t.Errorf("channel capture: %v", err)
	}
}

// TestSourceNested: code compiled from source spawns in turn.
func TestSourceNested(t *testing.T) {
	h := newHost()
	s := newTestSession(t, h)
	runSteps(t, s, []step{
		{src: "step := 10"},
		{src: "func count(k int) { Tick(); if k > 0 { spawn(func() { count(k - step) }) } }"},
		{src: "spawn(func() { count(15) })"},
	})
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		src, err := s.Source(<-h.spawned)
		if err != nil {
			t.Fatal(err)
		}
		f, err := s.Compile(ctx, src, nil)
		if err != nil {
			t.Fatalf("%v\n%s", err, src)
		}
		if _, err := f.Call(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.ticks.Load(); n != 3 || len(h.spawned) != 0 { // count(15), count(5), count(-5)
		t.Errorf("ticks %d, left %d; want 3, 0", n, len(h.spawned))
	}
}
