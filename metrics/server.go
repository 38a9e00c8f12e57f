package metrics

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// NewRegistry returns a registry (not Prometheus's global one, which
// would mix in whatever else the program registers) holding the node's
// collector and Go's and the OS process's standard ones (go_*,
// process_*). d is nil for a node without distribution: no peer or rpc
// figures then.
func NewRegistry(pn *proc.Node, d *dist.Node) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCollector(pn, d), collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Handler serves the node's metrics in Prometheus's text format (or
// whatever format the scraper asks for).
func Handler(pn *proc.Node, d *dist.Node) http.Handler {
	// Each scrape walks the process table: a few at once is plenty.
	return promhttp.HandlerFor(NewRegistry(pn, d), promhttp.HandlerOpts{MaxRequestsInFlight: 4})
}

// Addr normalizes a listening address as gonode --web does: a bare PORT
// or ":PORT" means 127.0.0.1:PORT; a Prometheus on another host needs the
// host said, 0.0.0.0:PORT for every interface.
func Addr(addr string) (string, error) {
	if addr != "" && !strings.Contains(addr, ":") {
		addr = ":" + addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("metrics: address %q: want PORT, :PORT or HOST:PORT", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// Server serves /metrics on an address. Close stops it.
type Server struct {
	srv  *http.Server
	url  string
	done chan struct{} // closed when Serve has returned
	once sync.Once
}

// Start listens on addr (see Addr) and serves the node's metrics at
// /metrics.
func Start(addr string, pn *proc.Node, d *dist.Node) (*Server, error) {
	addr, err := Addr(addr)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", Handler(pn, d))
	s := &Server{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10},
		url:  "http://" + ln.Addr().String() + "/metrics",
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln) // ErrServerClosed once Close runs
	}()
	return s, nil
}

// URL is where the metrics are: http://HOST:PORT/metrics.
func (s *Server) URL() string { return s.url }

// Close stops listening, lets a scrape under way finish (2 s at most)
// and returns once the server's goroutine is done. Idempotent.
func (s *Server) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := s.srv.Shutdown(ctx); err != nil {
			_ = s.srv.Close()
		}
		cancel()
		<-s.done
	})
	return nil
}

// Hook returns what gonode --metrics ADDR hands the shell to run once its
// node is up (repl.Config.Started): it starts a Server on addr, writes
// its URL to w, and gives back the Server's Close.
func Hook(addr string, w io.Writer) func(pn *proc.Node, d *dist.Node) (stop func(), err error) {
	return func(pn *proc.Node, d *dist.Node) (func(), error) {
		s, err := Start(addr, pn, d)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "gonode: metrics at %s\n", s.URL())
		return func() { _ = s.Close() }, nil
	}
}
