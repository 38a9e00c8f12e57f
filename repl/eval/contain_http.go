package eval

// The http server of interpreted code: see serveHTTP.

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"
)

// httpCall is one request handed by a server goroutine to the process
// that serves.
type httpCall struct {
	w    http.ResponseWriter
	r    *http.Request
	done chan struct{} // closed when the handler returned (or panicked)
	died bool          // the handler panicked; set before done is closed
}

// serveHTTP is http.Serve and its kin for interpreted code: the server's
// goroutines only accept connections and read requests; each request is
// handed to the calling goroutine, which runs the handler inside the
// calling process, one request at a time. A panic in a handler closes the
// server and goes on up: the process ends with it. When the evaluation is
// cancelled (the process is killed, Ctrl-C in the shell) the server is
// closed and the call returns.
func (in *Interp) serveHTTP(h http.Handler, start func(*http.Server) error) error {
	if h == nil {
		h = http.DefaultServeMux
	}
	ctx := in.evalCtx
	if ctx == nil {
		ctx = context.Background()
	}
	calls := make(chan *httpCall)
	stop := make(chan struct{}) // closed once srv is closed: no new connections

	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := &httpCall{w: w, r: r, done: make(chan struct{})}
			select {
			case calls <- c:
			case <-r.Context().Done():
				return
			case <-stop:
				http.Error(w, "the process serving this address has stopped", http.StatusServiceUnavailable)
				return
			}
			<-c.done
			if c.died {
				// Cut the connection only once the listener is closed: a
				// client retrying the request (Go's transport retries a GET
				// cut on a reused connection) then finds nothing to dial,
				// instead of a server that is half down.
				<-stop
				panic(http.ErrAbortHandler)
			}
		}),
	}
	errc := make(chan error, 1)
	go func() { errc <- start(srv) }()
	defer func() {
		srv.Close()
		close(stop)
		<-errc // the server's goroutine has returned
	}()
	for {
		select {
		case c := <-calls:
			func() {
				returned := false
				defer func() {
					c.died = !returned
					close(c.done)
				}()
				h.ServeHTTP(c.w, c.r)
				returned = true
			}()
		case err := <-errc:
			errc <- err // for the deferred wait
			return err
		case <-ctx.Done():
			return fmt.Errorf("http server stopped: %w", ctx.Err())
		}
	}
}

// httpServer is http.Server as interpreted code sees it: the same fields,
// so that code declaring one compiles, and methods that refuse to serve
// (its handlers would run on the server's goroutines, outside any
// process). A method of a host type cannot tell which interpreter calls
// it, so it cannot serve from the calling process as http.Serve does.
type httpServer struct {
	Addr                         string
	Handler                      http.Handler
	DisableGeneralOptionsHandler bool
	TLSConfig                    *tls.Config
	ReadTimeout                  time.Duration
	ReadHeaderTimeout            time.Duration
	WriteTimeout                 time.Duration
	IdleTimeout                  time.Duration
	MaxHeaderBytes               int
	TLSNextProto                 map[string]func(*http.Server, *tls.Conn, http.Handler)
	ConnState                    func(net.Conn, http.ConnState)
	ErrorLog                     *log.Logger
	BaseContext                  func(net.Listener) context.Context
	ConnContext                  func(ctx context.Context, c net.Conn) context.Context
	HTTP2                        *http.HTTP2Config
	Protocols                    *http.Protocols
}

func refuseServer(method string) {
	Fail("(*http.Server).%s is %w: %s", method, ErrEscape, escapeInstead("net/http/http", "Server"))
}

func escapeInstead(key, name string) string {
	for _, e := range escapePaths {
		if e.key == key && e.name == name {
			return e.instead
		}
	}
	return ""
}

func (s *httpServer) ListenAndServe() error { refuseServer("ListenAndServe"); return nil }
func (s *httpServer) ListenAndServeTLS(cert, key string) error {
	refuseServer("ListenAndServeTLS")
	return nil
}
func (s *httpServer) Serve(l net.Listener) error { refuseServer("Serve"); return nil }
func (s *httpServer) ServeTLS(l net.Listener, cert, key string) error {
	refuseServer("ServeTLS")
	return nil
}
func (s *httpServer) RegisterOnShutdown(f func()) { refuseServer("RegisterOnShutdown") }

// Close, Shutdown and SetKeepAlivesEnabled have nothing to act on: the
// server never served.
func (s *httpServer) Close() error                       { return nil }
func (s *httpServer) Shutdown(ctx context.Context) error { return nil }
func (s *httpServer) SetKeepAlivesEnabled(v bool)        {}

// hostBody returns a request body that host goroutines may read: body
// itself when it is a host value, or what it yields, read to its end here
// (on the calling process's goroutine, so that a panic in its Read ends
// that process) when it is an interpreted one.
func hostBody(body io.Reader) (io.Reader, error) {
	if body == nil || !interpreted(body) {
		return body, nil
	}
	b, err := io.ReadAll(body)
	if c, ok := body.(io.Closer); ok {
		c.Close()
	}
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}
