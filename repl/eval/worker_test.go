package eval

import (
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestWorkerCallArguments(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{
		{src: "func Add(a int, b float64) float64 { return float64(a) + b }"},
		{src: "func Join(sep string, xs ...string) string { return strings.Join(xs, sep) }"},
		{src: "func Sum(xs []int) (n int) { for _, x := range xs { n += x }; return }"},
		{src: "func Nothing() {}"},
	})
	ctx := context.Background()
	tests := []struct {
		name string
		args []any
		want []any
		bad  string // substring of a bad argument error
	}{
		{"Add", []any{int64(2), 0.5}, []any{2.5}, ""},
		{"Add", []any{2.0, int64(1)}, []any{3.0}, ""}, // 2.0 holds an int exactly
		{"Add", []any{2.5, 1.0}, nil, "argument 1 to Add: got float64 2.5, want int"},
		{"Add", []any{"2", 1.0}, nil, `got string "2", want int`},
		{"Add", []any{1}, nil, "Add takes 2 arguments, got 1"},
		{"Join", []any{",", "a", "b"}, []any{"a,b"}, ""},
		{"Join", []any{"-"}, []any{""}, ""},
		{"Sum", []any{[]any{int64(1), int64(2), 3}}, []any{6}, ""}, // a decoded list
		{"Sum", []any{[]any{"x"}}, nil, "element 0"},
		{"Nothing", nil, nil, ""},
		{"strings.Repeat", []any{"ab", int64(2)}, []any{"abab"}, ""},
	}
	for _, tt := range tests {
		got, err := s.Call(ctx, tt.name, tt.args...)
		switch {
		case tt.bad != "":
			if !errors.Is(err, ErrBadArgument) || !strings.Contains(err.Error(), tt.bad) {
				t.Errorf("%s%v: error %v, want bad argument %q", tt.name, tt.args, err, tt.bad)
			}
		case err != nil || !reflect.DeepEqual(got, tt.want):
			t.Errorf("%s%v = %#v, %v; want %#v", tt.name, tt.args, got, err, tt.want)
		}
	}
}

func TestConvertArg(t *testing.T) {
	type Atom string
	tests := []struct {
		in   any
		to   any // a value of the target type
		want any
		bad  bool
	}{
		{int64(5), int(0), 5, false},
		{int64(1 << 40), int32(0), nil, true},
		{int64(-1), uint(0), nil, true},
		{uint64(7), int8(0), int8(7), false},
		{3.0, int(0), 3, false},
		{3.5, int(0), nil, true},
		{int64(3), 0.0, 3.0, false},
		{1e300, float32(0), nil, true},
		{"abc", []byte(nil), []byte("abc"), false},
		{[]byte("abc"), "", "abc", false},
		{"normal", Atom(""), Atom("normal"), false},
		{int64(65), "", nil, true}, // no int-to-string rune conversion
		{[]any{int64(1), 2.0}, []int(nil), []int{1, 2}, false},
		{map[any]any{"a": int64(1)}, map[string]int(nil), map[string]int{"a": 1}, false},
		{nil, []int(nil), []int(nil), false},
		{nil, 0, nil, true},
		{true, "", nil, true},
		{5, any(nil), 5, false},
	}
	for _, tt := range tests {
		var typ reflect.Type
		if tt.to == nil {
			typ = anyType
		} else {
			typ = reflect.TypeOf(tt.to)
		}
		v, err := ConvertArg(tt.in, typ)
		if tt.bad {
			if err == nil {
				t.Errorf("ConvertArg(%#v, %v) = %#v, want an error", tt.in, typ, v)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(v.Interface(), tt.want) || v.Type() != typ {
			t.Errorf("ConvertArg(%#v, %v) = %#v, %v; want %#v", tt.in, typ, v, err, tt.want)
		}
	}
}

func TestPanicsRecovered(t *testing.T) {
	h := newHost()
	s := newTestSession(t, h)
	ctx := context.Background()
	runSteps(t, s, []step{
		{src: `panic("oops")`, want: "panic: oops", err: true},
		{src: `xs := []int{1}; xs[3]`, want: "index out of range", err: true},
		{src: `func boom(n int) int { var m map[string]int; m["a"] = n; return n }`},
		{src: `boom(1)`, want: "assignment to entry in nil map", err: true},
		{src: `1 + 1`, want: "2"}, // the shell goes on
	})
	var pe *PanicError
	if _, err := s.Call(ctx, "boom", 1); !errors.As(err, &pe) || !strings.Contains(err.Error(), "nil map") {
		t.Errorf("worker panic: %v", err)
	}
	f, err := s.Load(ctx, Bundle{Func: `func() { panic("in a worker") }`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Call(ctx); !errors.As(err, &pe) || pe.Value != "in a worker" {
		t.Errorf("bundle panic: %v %#v", err, pe)
	}
}

// TestCancelShellOnly: cancelling a runaway snippet stops the shell
// interpreter only; a function running in a worker keeps going.
func TestCancelShellOnly(t *testing.T) {
	h := newHost()
	s := newTestSession(t, h)
	bg := context.Background()
	runSteps(t, s, []step{
		{src: "func spin() { for { Tick() } }"},
		{src: "kept := 41"},
		{src: "type P struct{ a int }"},
		{src: "p := P{1}"},
	})
	w, err := s.Resolve(bg, "spin")
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithCancel(bg)
	workerDone := make(chan error, 1)
	go func() {
		_, err := w.Call(wctx)
		workerDone <- err
	}()
	<-h.tickCh // the worker runs

	sctx, scancel := context.WithCancel(bg)
	go func() {
		<-h.started
		scancel()
	}()
	res, err := s.Eval(sctx, "Started(); for { kept++ }")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("runaway snippet: %v", err)
	}
	if !strings.Contains(res.Notice, "rebuilt") || !strings.Contains(res.Notice, "lost: p") {
		t.Errorf("notice %q", res.Notice)
	}
	after := h.ticks.Load()
	for n := range h.tickCh { // the worker still ticks
		if n > after {
			break
		}
	}
	runSteps(t, s, []step{
		{src: "kept + 1", want: "42"}, // the snapshot survived the rebuild
		{src: "P{2}", want: "%P{a: 2}"},
		{src: "p", want: "undefined: p", err: true},
	})
	wcancel()
	if err := <-workerDone; !errors.Is(err, context.Canceled) {
		t.Errorf("worker: %v", err)
	}
	if !w.Interp().Abandoned() {
		t.Error("the cancelled worker is not abandoned")
	}
	if _, err := w.Call(bg); !errors.Is(err, ErrAbandoned) {
		t.Errorf("call on abandoned worker: %v", err)
	}
}

func TestConcurrentWorkers(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{
		{src: "func fib(n int) int { if n < 2 { return n }; return fib(n-1) + fib(n-2) }"},
		{src: "base := 100"},
		{src: "func Work(n int) int { return base + fib(n) }"},
	})
	ctx := context.Background()
	f, err := s.Resolve(ctx, "Work") // one worker shared by several goroutines
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 3; i++ {
				got, err := s.Call(ctx, "Work", int64(10)) // a worker per call
				if err == nil && got[0].(int) < 155 {      // base grows meanwhile
					err = errors.New("wrong result")
				}
				if err != nil {
					errs <- err
				}
				if got, err := f.Call(ctx, 10); err != nil || got[0] != 155 {
					errs <- errors.New("shared worker failed")
				}
			}
		}()
	}
	// The shell keeps evaluating meanwhile.
	for i := 0; i < 20; i++ {
		runSteps(t, s, []step{{src: "base++"}, {src: "fib(5)", want: "5"}})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestNewWorker(t *testing.T) {
	s := newTestSession(t, newHost())
	runSteps(t, s, []step{
		{src: "type Pair struct{ A, B int }"},
		{src: "func (p Pair) Sum() int { return p.A + p.B }"},
		{src: "const K = 10"},
		{src: "k := 2"},
		{src: `import "math/rand"`},
	})
	w, err := s.NewWorker()
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.Eval(context.Background(), "Pair{K, k}.Sum() + rand.Intn(1)")
	if err != nil || res.String() != "12" {
		t.Errorf("worker eval = %q, %v", res.String(), err)
	}
	// The worker is separate: its changes do not reach the session.
	runSteps(t, s, []step{{src: "k", want: "2"}})
	if _, err := w.Eval(context.Background(), "k = 5"); err != nil {
		t.Fatal(err)
	}
	runSteps(t, s, []step{{src: "k", want: "2"}})
}

func TestOutputGoesToWriters(t *testing.T) {
	var shell, worker strings.Builder
	s, err := NewSession(Options{Stdout: &shell, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Eval(ctx, `fmt.Println("from the shell")`); err != nil {
		t.Fatal(err)
	}
	f, err := s.Load(ctx, Bundle{Func: `func() { fmt.Print("from a worker") }`}, &worker)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Call(ctx); err != nil {
		t.Fatal(err)
	}
	if shell.String() != "from the shell\n" || worker.String() != "from a worker" {
		t.Errorf("shell %q, worker %q", shell.String(), worker.String())
	}
}
