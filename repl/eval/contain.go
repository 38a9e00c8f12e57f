package eval

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
)

// Containment. Interpreted code runs inside a process: a panic ends that
// process (its links and monitors get the panic as the reason) and a kill
// cancels its interpreter. The standard library has calls that would run
// an interpreted function on a goroutine of their own, outside any
// process, where a panic ends the whole node (yaegi cannot recover it) and
// nothing can stop it: a timer's callback, a finalizer, a server's
// handlers. Every interpreter gets, in place of those symbols, a version
// that either runs the function inside the calling process or refuses
// with a message saying what to use instead. escapePaths lists them all,
// and contain_test.go has a case for each.

// escapeHow is what the shell does with an escape path.
type escapeHow int

const (
	refused   escapeHow = iota // the call fails with a message naming the way out
	contained                  // the function runs on the calling process's goroutine
)

// escapePath is a standard library symbol that runs code on a goroutine
// of its own.
type escapePath struct {
	key, name string // Exports key and symbol, e.g. "time/time", "AfterFunc"
	how       escapeHow
	instead   string // what to do instead (refused), or what happens (contained)
}

// escapePaths lists every standard library call known to run interpreted
// code outside the calling process. Calls that run their function on the
// caller's goroutine (sync.OnceFunc, sort.Slice, http.Client.Do with an
// interpreted RoundTripper) or only deliver to a channel (signal.Notify,
// time.NewTimer) are not escapes. os.Exit and log.Fatal are already
// panics in yaegi's restricted mode.
//
// Not covered, because the host calls the interpreted code through a
// field or a value no symbol can intercept: func fields of host structs
// that the host calls on goroutines of its own (http.Transport's
// DialContext, DialTLSContext and proxy hooks, net.Resolver's Dial,
// net.Dialer's Control in a dual-stack dial, tls.Config callbacks during a
// client handshake); an interpreted io.Reader assigned to a Request's Body
// field (http.NewRequest and http.Post read it in the process); an
// interpreted context.Context used as the parent of a host context.
var escapePaths = []escapePath{
	{"time/time", "AfterFunc", refused, "its function would run on a timer goroutine outside any process; spawn(func() { time.Sleep(d); ... }) runs it in a process of its own"},
	{"context/context", "AfterFunc", refused, "its function would run on a goroutine outside any process; spawn a process that waits on <-ctx.Done()"},
	{"runtime/runtime", "SetFinalizer", refused, "finalizers run on the runtime's goroutine outside any process (runtime.SetFinalizer(x, nil) is allowed)"},
	{"runtime/runtime", "Goexit", refused, "it would leave the interpreter waiting for ever; exit(reason) ends the process"},
	{"net/http/http", "ListenAndServe", contained, "serves from the calling process: handlers run one at a time on its goroutine; a panic in one ends the process and a kill stops the server"},
	{"net/http/http", "ListenAndServeTLS", contained, "as ListenAndServe"},
	{"net/http/http", "Serve", contained, "as ListenAndServe"},
	{"net/http/http", "ServeTLS", contained, "as ListenAndServe"},
	{"net/http/http", "Server", refused, "its handlers would run on server goroutines outside any process; http.ListenAndServe(addr, handler) and http.Serve(listener, handler) serve from the calling process"},
	{"net/http/http", "Post", contained, "an interpreted body is read on the calling process's goroutine before the request is sent (the transport reads bodies on a goroutine of its own)"},
	{"net/http/http", "NewRequest", contained, "as Post"},
	{"net/http/http", "NewRequestWithContext", contained, "as Post"},
	{"net/http/http", "Handle", refused, "http.DefaultServeMux is shared by the whole node; use a mux of your own, mux := http.NewServeMux(), and http.ListenAndServe(addr, mux)"},
	{"net/http/http", "HandleFunc", refused, "http.DefaultServeMux is shared by the whole node; use a mux of your own, mux := http.NewServeMux(), and http.ListenAndServe(addr, mux)"},
	{"net/http/http", "TimeoutHandler", refused, "it runs the handler on a goroutine of its own; use the request's context in the handler"},
	{"net/http/httptest/httptest", "NewServer", refused, "its handlers would run on server goroutines outside any process; http.Serve(listener, handler) serves from the calling process"},
	{"net/http/httptest/httptest", "NewTLSServer", refused, "its handlers would run on server goroutines outside any process; http.ServeTLS serves from the calling process"},
	{"net/http/httptest/httptest", "NewUnstartedServer", refused, "its handlers would run on server goroutines outside any process; http.Serve(listener, handler) serves from the calling process"},
	{"net/http/fcgi/fcgi", "Serve", refused, "its handlers would run on goroutines outside any process"},
	{"testing/testing", "Benchmark", refused, "it runs the function on a goroutine of its own; time a loop with time.Now and time.Since"},
	{"testing/testing", "Main", refused, "it runs tests on goroutines of their own and exits"},
	{"testing/testing", "MainStart", refused, "it runs tests on goroutines of their own"},
	{"testing/testing", "RunTests", refused, "it runs tests on goroutines of their own"},
	{"testing/testing", "RunBenchmarks", refused, "it runs benchmarks on goroutines of their own"},
	{"testing/testing", "RunExamples", refused, "it runs examples on goroutines of their own"},
	{"database/sql/sql", "Register", refused, "database/sql calls a driver from goroutines of its own; only drivers compiled into the node can be used"},
	{"database/sql/sql", "OpenDB", refused, "database/sql calls a connector from goroutines of its own; only drivers compiled into the node can be used"},
	{"log/slog/slog", "SetDefault", refused, "it would replace the node's own logger, which every goroutine of the node calls; use slog.New(handler) and log through it"},
}

// ErrEscape is wrapped by the error of a refused escape path.
var ErrEscape = errors.New("not allowed in the shell")

// refuse fails the call of an escape path with its message. The failure
// is a helper failure: "** (error) ..." in the shell, the exit reason of
// a process.
func refuse(key, name string) {
	for _, e := range escapePaths {
		if e.key == key && e.name == name {
			Fail("%s.%s is %w: %s", pkgName(key), name, ErrEscape, e.instead)
		}
	}
	Fail("%s.%s is %w", pkgName(key), name, ErrEscape)
}

// Refused returns the escape paths that interpreted code cannot call, as
// "pkg.Name" ("time.AfterFunc", "http.Server" for its serving methods):
// each fails with an error wrapping ErrEscape that says what to use
// instead.
func Refused() []string {
	var names []string
	for _, e := range escapePaths {
		if e.how == refused {
			names = append(names, pkgName(e.key)+"."+e.name)
		}
	}
	return names
}

func pkgName(key string) string {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == '/' {
			return key[i+1:]
		}
	}
	return key
}

// containSymbols returns the replacements of the escape paths for the
// interpreter in, to Use after the standard library: a refused call keeps
// its signature (so code using it still compiles, and fails when it runs).
func containSymbols(in *Interp) interp.Exports {
	ex := interp.Exports{}
	for _, e := range escapePaths {
		if ex[e.key] == nil {
			ex[e.key] = map[string]reflect.Value{}
		}
		orig, ok := stdlib.Symbols[e.key][e.name]
		if !ok {
			continue // not in this yaegi's standard library (contain_test.go checks)
		}
		if e.how == refused && orig.Kind() == reflect.Func {
			e := e
			ex[e.key][e.name] = reflect.MakeFunc(orig.Type(), func([]reflect.Value) []reflect.Value {
				refuse(e.key, e.name)
				return nil
			})
		}
	}
	// Clearing a finalizer runs nothing.
	ex["runtime/runtime"]["SetFinalizer"] = reflect.ValueOf(func(obj, finalizer any) {
		if finalizer != nil {
			refuse("runtime/runtime", "SetFinalizer")
		}
	})
	h := ex["net/http/http"]
	h["Server"] = reflect.ValueOf((*httpServer)(nil))
	h["Post"] = reflect.ValueOf(func(url, contentType string, body io.Reader) (*http.Response, error) {
		body, err := hostBody(body)
		if err != nil {
			return nil, err
		}
		return http.Post(url, contentType, body)
	})
	h["NewRequest"] = reflect.ValueOf(func(method, url string, body io.Reader) (*http.Request, error) {
		body, err := hostBody(body)
		if err != nil {
			return nil, err
		}
		return http.NewRequest(method, url, body)
	})
	h["NewRequestWithContext"] = reflect.ValueOf(func(ctx context.Context, method, url string, body io.Reader) (*http.Request, error) {
		body, err := hostBody(body)
		if err != nil {
			return nil, err
		}
		return http.NewRequestWithContext(ctx, method, url, body)
	})
	h["ListenAndServe"] = reflect.ValueOf(func(addr string, hd http.Handler) error {
		return in.serveHTTP(hd, func(s *http.Server) error { s.Addr = addr; return s.ListenAndServe() })
	})
	h["ListenAndServeTLS"] = reflect.ValueOf(func(addr, cert, key string, hd http.Handler) error {
		return in.serveHTTP(hd, func(s *http.Server) error { s.Addr = addr; return s.ListenAndServeTLS(cert, key) })
	})
	h["Serve"] = reflect.ValueOf(func(l net.Listener, hd http.Handler) error {
		return in.serveHTTP(hd, func(s *http.Server) error { return s.Serve(l) })
	})
	h["ServeTLS"] = reflect.ValueOf(func(l net.Listener, hd http.Handler, cert, key string) error {
		return in.serveHTTP(hd, func(s *http.Server) error { return s.ServeTLS(l, cert, key) })
	})
	return ex
}

// interpreted reports whether v is a value of a type declared in
// interpreted code: yaegi hands those to the host as unnamed structs, or
// inside the interface wrappers of its stdlib package.
func interpreted(v any) bool {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Ptr {
		t = t.Elem()
	}
	return t.Name() == "" || strings.HasPrefix(t.PkgPath(), "github.com/traefik/yaegi/")
}

// startedContext returns a context that ends with ctx, but not before
// started is closed: a call into an interpreter closes it as its first
// statement. yaegi stops an evaluation by moving the interpreter to a new
// run id, which the running code compares with the one it started with;
// an evaluation whose goroutine has not started yet when it is cancelled
// takes the new id and is never stopped (a killed process's busy loop went
// on for ever, now and then). stop releases the context.
func startedContext(ctx context.Context, started <-chan struct{}) (context.Context, func()) {
	c, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		select {
		case <-started:
		case <-c.Done():
			return
		}
		select {
		case <-ctx.Done():
			cancel()
		case <-c.Done():
		}
	}()
	return c, cancel
}
