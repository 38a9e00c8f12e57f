package repl

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"

	"github.com/traefik/yaegi/interp"
)

// Fast calls into an interpreter. Evaluating a call as source text costs a
// parse and a compilation (0.1 to 0.3 ms, growing with every evaluation
// the interpreter has seen); calling the function value through reflect
// costs about 1.5 us. But yaegi stops code only through the context of an
// evaluation or an execution: a cancellation moves the interpreter to a
// new run id, and running code, including code called through reflect from
// a frame of that run, stops at its next step when its id no longer
// matches (and its channel operations are woken through the run's done
// channel). Triggering that from another goroutine while a call runs would
// race with yaegi's own bookkeeping, so a cancellable call is the reflect
// call made from inside one execution of a program compiled once per
// interpreter, __args.Run(), which hands the call to the host.

// fastPaths are an interpreter's precompiled programs; guarded by Interp.mu.
type fastPaths struct {
	run     *interp.Program // __args.Run(): runs call
	call    *callState      // the call Run makes; set before each execution
	assigns map[string]*assignProg
	nset    int  // getters exported under argPath so far
	ready   bool // argName is imported
}

// callState is one cancellable call. The caller writes it before the
// execution starts and reads it after the execution ends, the execution's
// goroutine in between: each happens before the next.
type callState struct {
	fn       reflect.Value
	args     []reflect.Value
	started  chan struct{} // closed by Run: from then on a cancellation stops the call
	released chan struct{} // closed when ExecuteWithContext has returned to the caller
	out      []any
	err      error

	mu        sync.Mutex // guards the fields below
	finished  bool       // Run is returning: too late to cancel
	cancelled bool       // the execution was cancelled while the call ran
	cancel    func()     // cancels the execution
}

// stop cancels the execution unless the call has finished.
func (st *callState) stop() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.finished {
		st.cancelled = true
		st.cancel()
	}
}

// assignProg assigns a package-level variable the value of slot.
type assignProg struct {
	slot reflect.Value
	prog *interp.Program
}

// prepareFast imports argName once, with Run exported (in.mu held).
func (in *Interp) prepareFast() error {
	if in.fast.ready {
		return nil
	}
	if err := in.yi.Use(interp.Exports{argPath + "/callargs": {"Run": reflect.ValueOf(in.runCall)}}); err != nil {
		return err
	}
	if err := in.evalRaw(context.Background(), "import "+argName+` "`+argPath+`"`); err != nil {
		return err
	}
	in.fast.ready = true
	return nil
}

// runCall is __args.Run: the call, on the execution's goroutine.
//
// When the execution was cancelled, Run returns only after
// ExecuteWithContext has returned to the caller: yaegi's
// ExecuteWithContext writes its named results both when it returns on
// cancellation and when its goroutine's Execute ends, and this orders the
// two writes. A call that finished is never cancelled (callState.stop), so
// the caller then returns through the execution's end, and Run need not
// wait.
func (in *Interp) runCall() {
	st := in.fast.call
	close(st.started)
	out, err := callHost(st.fn, st.args)
	st.mu.Lock()
	st.finished = true
	cancelled := st.cancelled
	st.mu.Unlock()
	if cancelled {
		<-st.released
		return
	}
	st.out, st.err = out, err
}

// callCancellable calls fn inside an execution that ctx cancels (in.mu
// held). The cancellation waits until the call has begun: yaegi takes the
// run id when its goroutine starts, so a cancellation before that would be
// missed and the call would run on unstopped (see startedContext). The
// goroutine that waits for that is started only if ctx ends
// (context.AfterFunc), and this call waits for it before returning.
func (in *Interp) callCancellable(ctx context.Context, fn reflect.Value, vals []reflect.Value) ([]any, error) {
	if err := in.prepareFast(); err != nil {
		return nil, err
	}
	if in.fast.run == nil {
		p, err := in.yi.Compile(argName + ".Run()")
		if err != nil {
			return nil, err
		}
		in.fast.run = p
	}
	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := &callState{fn: fn, args: vals, started: make(chan struct{}), released: make(chan struct{}), cancel: cancel}
	in.fast.call = st
	in.evalCtx = ctx // contained calls (http.Serve) stop with it
	finished := make(chan struct{})
	watched := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(watched)
		select {
		case <-st.started:
			st.stop()
		case <-finished:
		}
	})
	_, err := in.yi.ExecuteWithContext(runCtx, in.fast.run)
	close(st.released)
	close(finished)
	if !stop() {
		<-watched
	}
	if err != nil {
		if runCtx.Err() != nil && errors.Is(err, runCtx.Err()) {
			// Stopped: the execution's goroutine may still be unwinding.
			in.abandoned = true
			if cerr := ctx.Err(); cerr != nil {
				return nil, cerr
			}
			return nil, err
		}
		var p interp.Panic
		if errors.As(err, &p) {
			return nil, &PanicError{Value: p.Value, Stack: p.Stack}
		}
		return nil, err
	}
	return st.out, st.err
}

// Assign sets the package-level variable name to v, through a program
// compiled on the first Assign of name with v's type: a few microseconds
// where an evaluation takes a hundred. A worker's __self is bound this way
// to each process that uses it.
func (in *Interp) Assign(name string, v any) error {
	if v == nil {
		return fmt.Errorf("repl: Assign %s: nil has no type", name)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.abandoned {
		return ErrAbandoned
	}
	if err := in.prepareFast(); err != nil {
		return err
	}
	rv := reflect.ValueOf(v)
	a := in.fast.assigns[name]
	if a == nil || a.slot.Type() != rv.Type() {
		slot := reflect.New(rv.Type()).Elem()
		g := "G" + strconv.Itoa(in.fast.nset)
		in.fast.nset++
		if err := in.yi.Use(interp.Exports{argPath + "/callargs": {g: getter(slot)}}); err != nil {
			return err
		}
		p, err := in.yi.Compile(name + " = " + argName + "." + g + "()")
		if err != nil {
			return err
		}
		if in.fast.assigns == nil {
			in.fast.assigns = map[string]*assignProg{}
		}
		a = &assignProg{slot: slot, prog: p}
		in.fast.assigns[name] = a
	}
	a.slot.Set(rv)
	if _, err := in.yi.Execute(a.prog); err != nil {
		return err
	}
	return nil
}
