package repl

import (
	"context"
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
// matches (its channel operations are woken through the run's done
// channel). Triggering that from another goroutine while a call runs would
// race with yaegi's own bookkeeping.
//
// So an interpreter that takes cancellable calls runs one long execution,
// of __args.Serve(), a host function that makes the calls handed to it,
// one at a time, through reflect. Cancelling a call cancels that
// execution: the interpreter stops and is abandoned. A call costs two
// channel hand-offs to a goroutine whose stack has already grown; an
// execution per call (ExecuteWithContext starts a goroutine each time, and
// growing its stack to yaegi's depth dominated) cost 10 us more.

// fastPaths are an interpreter's precompiled programs and its call
// server; guarded by Interp.mu.
type fastPaths struct {
	srv     *callServer // set once, at the first cancellable call
	stopped bool        // srv is stopped: no call may start
	assigns map[string]*assignProg
	nset    int  // getters exported under argPath so far
	ready   bool // argName is imported
}

// callServer is the execution of __args.Serve() in one interpreter. It is
// owned by the interpreter: stopped by closeServer (its pool drops it) or
// by a cancellation (the interpreter is abandoned).
type callServer struct {
	reqs     chan *callState
	quit     chan struct{} // closed by closeServer: Serve returns
	cancel   context.CancelFunc
	released chan struct{} // closed once ExecuteWithContext has returned
	exited   chan struct{} // closed when the goroutine running the execution ends
	err      error         // the execution's error; read after exited
}

// callState is one call: written by the caller before it is handed to
// Serve, and read by the caller after done is closed.
type callState struct {
	fn   reflect.Value
	args []reflect.Value
	done chan struct{}
	out  []any
	err  error

	mu        sync.Mutex // guards the fields below
	finished  bool       // Serve has made the call: too late to cancel
	cancelled bool       // the execution was cancelled while the call ran
}

// assignProg assigns a package-level variable the value of slot.
type assignProg struct {
	slot reflect.Value
	prog *interp.Program
}

// prepareFast imports argName once, with Serve exported (in.mu held).
func (in *Interp) prepareFast() error {
	if in.fast.ready {
		return nil
	}
	if err := in.yi.Use(interp.Exports{argPath + "/callargs": {"Serve": reflect.ValueOf(in.serve)}}); err != nil {
		return err
	}
	if err := in.evalRaw(context.Background(), "import "+argName+` "`+argPath+`"`); err != nil {
		return err
	}
	in.fast.ready = true
	return nil
}

// startServer starts the call server (in.mu held).
func (in *Interp) startServer() (*callServer, error) {
	if err := in.prepareFast(); err != nil {
		return nil, err
	}
	prog, err := in.yi.Compile(argName + ".Serve()")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := &callServer{reqs: make(chan *callState), quit: make(chan struct{}), cancel: cancel,
		released: make(chan struct{}), exited: make(chan struct{})}
	in.fast.srv = srv
	go func() {
		defer close(srv.exited)
		_, srv.err = in.yi.ExecuteWithContext(ctx, prog)
		close(srv.released)
		cancel()
	}()
	return srv, nil
}

// serve is __args.Serve, on the execution's goroutine. After a
// cancellation it returns only once ExecuteWithContext has returned:
// yaegi's ExecuteWithContext writes its named results both when it returns
// on cancellation and when its goroutine's Execute ends, and this orders
// the two writes.
func (in *Interp) serve() {
	srv := in.fast.srv // written before the execution started
	for {
		select {
		case st := <-srv.reqs:
			out, err := callHost(st.fn, st.args)
			st.mu.Lock()
			st.finished = true
			cancelled := st.cancelled
			st.mu.Unlock()
			if cancelled {
				<-srv.released
				return
			}
			st.out, st.err = out, err
			close(st.done)
		case <-srv.quit:
			return
		}
	}
}

// closeServer stops the call server of an interpreter that will not be
// used again, and waits for it. An abandoned interpreter's has stopped.
func (in *Interp) closeServer() {
	in.mu.Lock()
	srv := in.fast.srv
	in.fast.stopped = true
	in.mu.Unlock()
	if srv == nil {
		return
	}
	select {
	case <-srv.released:
	default:
		close(srv.quit)
	}
	<-srv.exited
}

// callCancellable hands the call to the interpreter's call server (in.mu
// held) and waits for it, or for ctx: a call not yet taken is withdrawn,
// one running is stopped with its interpreter, which is abandoned.
func (in *Interp) callCancellable(ctx context.Context, fn reflect.Value, vals []reflect.Value) ([]any, error) {
	srv := in.fast.srv
	if in.fast.stopped {
		return nil, ErrAbandoned
	}
	if srv == nil {
		var err error
		if srv, err = in.startServer(); err != nil {
			return nil, err
		}
	}
	st := &callState{fn: fn, args: vals, done: make(chan struct{})}
	in.evalCtx = ctx // contained calls (http.Serve) stop with it
	select {
	case srv.reqs <- st:
	case <-srv.exited:
		in.abandoned = true // the execution failed: srv.err says why
		return nil, fmt.Errorf("repl: call server: %v", srv.err)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-st.done:
		return st.out, st.err
	case <-ctx.Done():
	}
	st.mu.Lock()
	finished := st.finished
	if !finished {
		st.cancelled = true
		srv.cancel()
	}
	st.mu.Unlock()
	if finished {
		<-st.done
		return st.out, st.err
	}
	in.abandoned = true
	in.fast.stopped = true
	<-srv.exited // prompt: ExecuteWithContext returns on cancellation; Serve's goroutine unwinds on its own
	return nil, ctx.Err()
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
