package eval

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestShipBundles(t *testing.T) {
	h := newHost()
	s := newTestSession(t, h)
	runSteps(t, s, []step{
		{src: "func greet(s string) string { return \"hi \" + s }"},
		{src: "func unrelated() {}"},
		{src: "type P struct{ A, B int }"},
		{src: "func (p P) Sum() int { return p.A + p.B }"},
		{src: "func mkP() P { return P{1, 2} }"},
		{src: "limit := 7"},
		{src: "func below(n int) bool { return n < limit }"},
		{src: `import "math/rand"`},
		{src: "n := 3"},
		{src: "shellP := P{1, 2}"},
		{src: "fv := func() {}"},
		{src: "func worker() { Tick() }"},
	})
	type capt struct {
		name string
		val  any
	}
	tests := []struct {
		src      string
		fn       string   // Bundle.Func
		decls    []string // substrings of Bundle.Decls
		notDecls []string
		caps     []capt
		err      string // substring of the error
	}{
		{src: "spawn(func() { _ = n })", fn: "func() { _ = n }", caps: []capt{{"n", 3}}, notDecls: []string{"greet"}},
		{src: `spawn(func() { greet("x") })`, decls: []string{"func greet"}, notDecls: []string{"unrelated", "type P"}},
		{src: "spawn(func() { _ = mkP().Sum() })", decls: []string{"func mkP", "type P struct", "func (p P) Sum"}},
		{src: "spawn(func() { below(1) })", decls: []string{"func below"}, caps: []capt{{"limit", 7}}}, // through a function: snapshot
		{src: "limit = 9; spawn(func() { below(limit) })", caps: []capt{{"limit", 9}}},                 // named in the literal: value at the call
		{src: "for i := 0; i < 1; i++ { spawn(func() { _ = i * n }) }", caps: []capt{{"i", 0}, {"n", 3}}},
		{src: "func() { k := 5; spawn(func() { _ = k }) }()", caps: []capt{{"k", 5}}},
		{src: "spawn(func() { _ = rand.Intn(2) })", decls: []string{`import "math/rand"`}},
		{src: "me := Self(); spawn(func() { _ = me })", caps: []capt{{"me", testPid{Node: "n1@h", ID: 7}}}},
		{src: "spawn(worker)", fn: "worker", decls: []string{"func worker"}},
		{src: "Spawn(func() {})", fn: "func() {}"},
		{src: "node.Spawn(func() {})", fn: "func() {}"},
		{src: "spawn(fv)", err: "spawn needs a func literal"},
		{src: "spawn(strings.ToUpper)", err: "spawn needs a func literal"},
		{src: "spawn(func() { fv() })", err: "captures fv, which holds a function"},
		{src: "spawn(func() { _ = shellP })", err: "captures shellP, which holds a value of a type declared in the shell"},
		{src: "greet := 1; spawn(func() { _ = greet })", caps: []capt{{"greet", 1}}}, // a local shadows the function
	}
	for _, tt := range tests {
		_, err := s.Eval(context.Background(), tt.src)
		if tt.err != "" {
			if !errors.Is(err, ErrNotShippable) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.src, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.src, err)
			continue
		}
		var b Bundle
		select {
		case b = <-h.spawned:
		default:
			t.Errorf("%q: nothing spawned", tt.src)
			continue
		}
		if tt.fn != "" && b.Func != tt.fn {
			t.Errorf("%q: Func %q, want %q", tt.src, b.Func, tt.fn)
		}
		for _, d := range tt.decls {
			if !strings.Contains(b.Decls, d) {
				t.Errorf("%q: Decls lacks %q:\n%s", tt.src, d, b.Decls)
			}
		}
		for _, d := range tt.notDecls {
			if strings.Contains(b.Decls, d) {
				t.Errorf("%q: Decls has %q:\n%s", tt.src, d, b.Decls)
			}
		}
		var got []capt
		for _, c := range b.Captures {
			got = append(got, capt{c.Name, c.Value})
		}
		if len(tt.caps) > 0 && !reflect.DeepEqual(got, tt.caps) {
			t.Errorf("%q: captures %v, want %v", tt.src, got, tt.caps)
		}
		if len(h.spawned) > 0 {
			t.Errorf("%q: spawned more than once", tt.src)
		}
	}
}

// TestShipToAnotherNode: a bundle made by one session runs in another,
// which knows none of the first one's declarations; captured numbers come
// back as int64, as a wire codec delivers them.
func TestShipToAnotherNode(t *testing.T) {
	h1, h2 := newHost(), newHost()
	s1, s2 := newTestSession(t, h1), newTestSession(t, h2)
	runSteps(t, s1, []step{
		{src: "type Counter struct{ n int }"},
		{src: "func (c *Counter) Add(k int) int { c.n += k; return c.n }"},
		{src: "func greet(s string) string { return \"hi \" + s }"},
		{src: `name, times := "bob", 3`},
		{src: `spawn(func() string { c := &Counter{}; c.Add(times); return greet(name) + strings.Repeat("!", c.Add(0)) })`},
	})
	b := <-h1.spawned
	for i, c := range b.Captures {
		if n, ok := c.Value.(int); ok {
			b.Captures[i].Value = int64(n) // what the wire gives back
		}
	}
	ctx := context.Background()
	f, err := s2.Load(ctx, b, nil)
	if err != nil {
		t.Fatalf("load on node 2: %v\n%+v", err, b)
	}
	got, err := f.Call(ctx)
	if err != nil || !reflect.DeepEqual(got, []any{"hi bob!!!"}) {
		t.Errorf("call on node 2 = %v, %v", got, err)
	}
	if _, err := s2.Eval(ctx, "greet"); err == nil {
		t.Error("node 2's shell learned node 1's declarations")
	}
}

// TestShipNested: code running in a worker spawns in turn; its bundles are
// made from the worker's own declarations.
func TestShipNested(t *testing.T) {
	h := newHost()
	s := newTestSession(t, h)
	runSteps(t, s, []step{
		{src: "func loop(k int) { if k > 0 { Tick(); spawn(func() { loop(k - 1) }) } }"},
		{src: "spawn(func() { loop(2) })"},
	})
	ctx := context.Background()
	for want := 2; want >= 0; want-- {
		b := <-h.spawned
		if !strings.Contains(b.Decls, "func loop") {
			t.Fatalf("bundle without loop: %+v", b)
		}
		if want < 2 && (len(b.Captures) != 1 || b.Captures[0].Value != want+1) {
			t.Errorf("captures %+v, want k=%d", b.Captures, want+1)
		}
		f, err := s.Load(ctx, b, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Call(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.ticks.Load(); n != 2 {
		t.Errorf("ticks %d, want 2", n)
	}
	if len(h.spawned) != 0 {
		t.Errorf("%d bundles left", len(h.spawned))
	}
}

func TestSessionBundle(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{
		{src: "base := 10"},
		{src: "func Scale(n int) int { return n * base }"},
		{src: "type T int"},
	})
	tests := []struct {
		src  string
		caps int
		err  string
	}{
		{src: "func() int { return Scale(2) }", caps: 1},
		{src: "func() int { return base }", caps: 1},
		{src: "Scale", caps: 1},
		{src: "func() T { return 1 }", caps: 0},
		{src: "func( {", err: "expected"},
	}
	for _, tt := range tests {
		b, err := s.Bundle(tt.src)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Bundle(%q) error %v", tt.src, err)
			}
			continue
		}
		if err != nil || len(b.Captures) != tt.caps {
			t.Errorf("Bundle(%q) = %+v, %v", tt.src, b, err)
			continue
		}
		f, err := s.Load(context.Background(), b, nil)
		if err != nil {
			t.Errorf("Load(%q): %v", tt.src, err)
			continue
		}
		if tt.src == "Scale" {
			if got, err := f.Call(context.Background(), 3); err != nil || got[0] != 30 {
				t.Errorf("Scale(3) = %v, %v", got, err)
			}
		}
	}
}
