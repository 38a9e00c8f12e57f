package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ErrExposed is Start's refusal to bind an address other hosts can reach
// without a token: the page can kill processes.
var ErrExposed = errors.New("the page has no accounts and can kill processes: bind a loopback address (127.0.0.1:PORT, or just :PORT), or give a token (gonode --web-token, web(addr, token))")

// Server is a Handler listening on an address. Close stops it.
type Server struct {
	h    *Handler
	srv  *http.Server
	ln   net.Listener
	url  string
	done chan struct{} // closed when Serve has returned
	once sync.Once
}

// Addr normalizes a listening address: a bare port or ":PORT" means
// 127.0.0.1:PORT, the view being for this machine unless said otherwise.
func Addr(addr string) (string, error) {
	if addr != "" && !strings.Contains(addr, ":") {
		addr = ":" + addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("web: address %q: want PORT, :PORT or HOST:PORT", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// Loopback reports whether addr's host is reachable from this machine only.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackHost reports whether a request's Host names this machine's
// loopback, with or without a port.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Start listens on addr (see Addr) and serves the view of src there. An
// address that is not loopback needs o.Token (ErrExposed).
func Start(addr string, src Source, o Options) (*Server, error) {
	addr, err := Addr(addr)
	if err != nil {
		return nil, err
	}
	if !Loopback(addr) && o.Token == "" {
		return nil, fmt.Errorf("web: %s: %w", addr, ErrExposed)
	}
	o.LoopbackHosts = o.Token == ""
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	h := NewHandler(src, o)
	s := &Server{h: h, ln: ln, done: make(chan struct{}),
		srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}}
	s.url = "http://" + ln.Addr().String() + "/"
	if o.Token != "" {
		s.url += "?token=" + o.Token
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln) // returns ErrServerClosed once Close runs
	}()
	return s, nil
}

// URL is the page's address (with the token, if any).
func (s *Server) URL() string { return s.url }

// Handler is the served Handler.
func (s *Server) Handler() *Handler { return s.h }

// Close ends every stream, stops listening and returns once the server's
// goroutines are done. Idempotent.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.h.Close() // ends the streams, so that Shutdown need not wait for them
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := s.srv.Shutdown(ctx); err != nil {
			_ = s.srv.Close() // an action still running past the grace time
		}
		cancel()
		<-s.done
	})
	return nil
}

// authorized checks the token, if one is set.
func (h *Handler) authorized(r *http.Request) bool {
	if h.o.Token == "" {
		return true
	}
	got := r.URL.Query().Get("token")
	if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		got = b
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(h.o.Token)) == 1
}
