package eval

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
// channel). Only the evaluation or execution whose context ends does that,
// and starting one while a call runs, just to cancel it, would race with
// the call: an execution's start rewrites the top-level frame the call's
// frames read.
//
// So an interpreter that takes cancellable calls runs one long execution,
// of __args.Serve(), a host function that only waits: the interpreter's
// call server. Its run id is the one the interpreter's function values
// carry (their frames take it from the top-level frame they were made in,
// which every execution resets to the current id), so a call made through
// reflect on the caller's goroutine stops when that execution is
// cancelled, as code of the execution itself would; its channel operations
// wake on that execution's done channel. The execution started before the
// call (the call waits for it to run), so cancelling it only moves the run
// id and closes the done channel, which the running call reads safely. The
// call costs a reflect call and a context.AfterFunc; cancelling it cancels
// the call server, and the interpreter is abandoned. An execution per call cost 10 us more (a
// goroutine each time, whose stack grows to yaegi's depth), and handing
// each call to the server's goroutine 5 us more (two wake-ups).

// fastPaths are an interpreter's call server and Assign's setters;
// guarded by Interp.mu.
type fastPaths struct {
	srv     *callServer // set once, at the first cancellable call
	assigns map[string]*assignProg
	nset    int  // getters exported under argPath so far
	ready   bool // argName is imported
}

// callServer is the execution of __args.Serve() in one interpreter. It is
// owned by the interpreter: stopped by closeServer (its pool drops it) or
// cancelled with a call (the interpreter is abandoned), never both.
type callServer struct {
	ready    chan struct{} // closed by Serve: the execution runs
	quit     chan struct{} // closed by closeServer: Serve returns
	released chan struct{} // closed once ExecuteWithContext has returned
	exited   chan struct{} // closed when the goroutine running the execution ends
	err      error         // the execution's error; read after exited

	mu     sync.Mutex         // guards the fields below
	state  int                // serverRunning, serverQuitting or serverCancelled
	cancel context.CancelFunc // cancels the execution: the interpreter stops
	ctx    context.Context    // the execution's
}

const (
	serverRunning = iota
	serverQuitting
	serverCancelled
)

// stop cancels the execution, unless closeServer came first; it reports
// whether it did.
func (srv *callServer) stop() bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.state != serverRunning {
		return false
	}
	srv.state = serverCancelled
	srv.cancel()
	return true
}

// assignProg assigns a package-level variable the value of slot.
type assignProg struct {
	slot reflect.Value
	set  reflect.Value // an interpreted func() doing the assignment
	// direct is the variable's own storage, when yaegi gives it settable
	// and of the value's type: setting it is what set does, without a
	// call into the interpreter.
	direct reflect.Value
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

// startServer starts the call server and waits until it runs (in.mu
// held).
func (in *Interp) startServer() (*callServer, error) {
	if err := in.prepareFast(); err != nil {
		return nil, err
	}
	prog, err := in.yi.Compile(argName + ".Serve()")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := &callServer{ready: make(chan struct{}), quit: make(chan struct{}), released: make(chan struct{}),
		exited: make(chan struct{}), cancel: cancel, ctx: ctx}
	in.fast.srv = srv
	go func() {
		defer close(srv.exited)
		_, srv.err = in.yi.ExecuteWithContext(ctx, prog)
		close(srv.released)
		cancel()
	}()
	select {
	case <-srv.ready:
		return srv, nil
	case <-srv.exited:
		in.abandoned = true
		return nil, fmt.Errorf("repl: call server: %v", srv.err)
	}
}

// serve is __args.Serve, on the execution's goroutine: it waits. After a
// cancellation it returns only once ExecuteWithContext has returned:
// yaegi's ExecuteWithContext writes its named results both when it returns
// on cancellation and when its goroutine's Execute ends, and this orders
// the two writes.
func (in *Interp) serve() {
	srv := in.fast.srv // written before the execution started
	close(srv.ready)
	select {
	case <-srv.quit:
	case <-srv.ctx.Done():
		<-srv.released
	}
}

// serverStopped reports whether the call server was stopped or cancelled:
// the interpreter cannot take cancellable calls any more.
func (in *Interp) serverStopped() bool {
	in.mu.Lock()
	srv := in.fast.srv
	in.mu.Unlock()
	if srv == nil {
		return false
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.state != serverRunning
}

// Close stops the goroutine that the first cancellable call into the
// interpreter started (its call server) and waits for it; cancellable calls
// fail with ErrAbandoned afterwards. Interpreters of a Session's pool are
// closed by the pool; call Close on one from NewInterp or NewWorker that
// took cancellable calls, when done with it.
func (in *Interp) Close() { in.closeServer() }

// closeServer stops the call server of an interpreter that will not be
// used again, and waits for it. An abandoned interpreter's has stopped.
func (in *Interp) closeServer() {
	in.mu.Lock()
	srv := in.fast.srv
	in.mu.Unlock()
	if srv == nil {
		return
	}
	srv.mu.Lock()
	if srv.state == serverRunning {
		srv.state = serverQuitting
		close(srv.quit)
	}
	srv.mu.Unlock()
	<-srv.exited
}

// callCancellable calls fn through reflect on this goroutine (in.mu held),
// under the interpreter's call server: when ctx ends first, the server is
// cancelled, which stops the call at its next step, and the interpreter
// is abandoned.
func (in *Interp) callCancellable(ctx context.Context, fn reflect.Value, vals []reflect.Value) (out []any, err error) {
	srv := in.fast.srv
	if srv == nil {
		if srv, err = in.startServer(); err != nil {
			return nil, err
		}
	}
	srv.mu.Lock()
	state := srv.state
	srv.mu.Unlock()
	if state != serverRunning {
		return nil, ErrAbandoned
	}
	in.evalCtx = ctx // contained calls (http.Serve) stop with it
	finished := make(chan struct{})
	watched := make(chan struct{})
	var cancelled bool // written by the AfterFunc, read after it ended
	stop := context.AfterFunc(ctx, func() {
		defer close(watched)
		select {
		case <-finished:
		default:
			cancelled = srv.stop()
		}
	})
	// Deferred, because the call may not return: exit(reason) in a
	// spawned process ends its goroutine (runtime.Goexit) after ending the
	// process, which cancels ctx.
	defer func() {
		close(finished)
		if stop() {
			return // ctx did not end during the call
		}
		<-watched
		if cancelled {
			in.abandoned = true
			<-srv.exited // prompt: ExecuteWithContext returns on cancellation
			out, err = nil, ctx.Err()
		}
	}()
	return callHost(fn, vals)
}

// Assign sets the package-level variable name to v, through an interpreted
// function made on the first Assign of name with v's type and called
// through reflect: about 1.5 us, where an evaluation takes a hundred and
// executing a compiled program 4.5. Where yaegi's storage of the variable
// is settable and of v's type (a package-level variable of the main
// package), later Assigns of the same type set it directly instead. A
// worker's __self is bound this way to each process that uses it.
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
		fn := "__gonode_set" + strconv.Itoa(in.fast.nset-1)
		if err := in.evalRaw(context.Background(), fn+" := func() { "+name+" = "+argName+"."+g+"() }"); err != nil {
			return err
		}
		in.takeResult()
		if err := in.evalRaw(context.Background(), rtName+".Result("+fn+")"); err != nil {
			return err
		}
		vals := in.takeResult()
		if len(vals) != 1 || reflect.ValueOf(vals[0]).Kind() != reflect.Func {
			return fmt.Errorf("repl: Assign %s: no setter", name)
		}
		if in.fast.assigns == nil {
			in.fast.assigns = map[string]*assignProg{}
		}
		a = &assignProg{slot: slot, set: reflect.ValueOf(vals[0])}
		if g, ok := in.yi.Globals()[name]; ok && g.CanSet() && g.Type() == rv.Type() {
			a.direct = g
		}
		in.fast.assigns[name] = a
	}
	if a.direct.IsValid() {
		a.direct.Set(rv)
		return nil
	}
	a.slot.Set(rv)
	_, err := callHost(a.set, nil)
	return err
}
