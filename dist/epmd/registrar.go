package epmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultPort is epmd's well-known port.
const DefaultPort = 4369

const (
	// attemptTimeout bounds one dial-or-serve-then-register attempt made
	// by the re-registration loop.
	attemptTimeout = 5 * time.Second
	// startupAttempts bounds the attempts StartRegistrar makes when the
	// port mapper vanishes under it.
	startupAttempts = 20
)

// AddrFromEnv returns the local port mapper's address: 127.0.0.1 and
// $ERL_EPMD_PORT, or DefaultPort when that is unset or not a port number.
func AddrFromEnv() string {
	port := DefaultPort
	if p, err := strconv.ParseUint(os.Getenv("ERL_EPMD_PORT"), 10, 16); err == nil && p != 0 {
		port = int(p)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// Config configures a Registrar.
type Config struct {
	// Addr is the port mapper's host:port, e.g. 127.0.0.1:4369; ""
	// means AddrFromEnv().
	Addr string
	// Name is the short node name, the part before '@'.
	Name string
	// Port is the node's distribution port.
	Port uint16
	// Hidden registers the node as hidden.
	Hidden bool
	// Extra is stored with the entry and returned by lookups (PORT2_RESP's
	// Extra, kept per node by erl's epmd as by the embedded one): gonode
	// nodes register GonodeExtra, so that a dialer tells them from BEAM
	// nodes, which register none. At most 4*MaxNameChars bytes.
	Extra []byte
	// Logf receives log lines; nil discards them.
	Logf func(format string, args ...any)
	// StartDaemon, if set, is called when no port mapper answers: it
	// should start one that outlives this node (gonode epmd -daemon, as
	// erl starts epmd -daemon) and return once it listens. If it fails,
	// or is nil, this node serves an embedded port mapper, which another
	// node takes over when this one exits.
	StartDaemon func(ctx context.Context) error
}

// Registrar keeps a node registered in the port mapper at Config.Addr. If
// none answers, it serves an embedded one there; whenever its registration
// drops (the node serving the port mapper exited) it dials again, serving
// the port mapper itself if nobody does, and re-registers. Its methods are
// safe for concurrent use.
type Registrar struct {
	cfg        Config
	dialAddr   string // loopback form of cfg.Addr
	logf       func(format string, args ...any)
	creation   uint32
	cancel     context.CancelFunc
	loopDone   chan struct{} // closed when run returns
	closeOnce  sync.Once
	serveGroup sync.WaitGroup // the Serve goroutine of srv

	mu  sync.Mutex // guards reg and srv
	reg *Registration
	srv *Server // non-nil while this node serves the port mapper
}

// StartRegistrar registers cfg.Name, serving an embedded port mapper when
// none answers at cfg.Addr, and keeps it registered until Close. A name
// already held by another node gives an error wrapping ErrNameTaken, with
// everything started cleaned up. ctx bounds the startup only.
func StartRegistrar(ctx context.Context, cfg Config) (*Registrar, error) {
	if cfg.Addr == "" {
		cfg.Addr = AddrFromEnv()
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if err := checkShortName(cfg.Name); err != nil {
		return nil, err
	}
	dialAddr, err := loopbackAddr(cfg.Addr)
	if err != nil {
		return nil, err
	}
	r := &Registrar{cfg: cfg, dialAddr: dialAddr, logf: cfg.Logf, loopDone: make(chan struct{})}

	var reg *Registration
	for i := 0; ; i++ {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		reg, err = r.attempt(actx)
		cancel()
		if err == nil {
			break
		}
		if !transient(err) || i+1 >= startupAttempts || ctx.Err() != nil {
			r.stopServer()
			return nil, fmt.Errorf("epmd: registering %q at %s: %w", cfg.Name, cfg.Addr, err)
		}
		if !sleepCtx(ctx, backoff()) {
			r.stopServer()
			return nil, fmt.Errorf("epmd: registering %q at %s: %w", cfg.Name, cfg.Addr, ctx.Err())
		}
	}
	r.creation = reg.Creation()
	r.reg = reg
	loopCtx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go r.run(loopCtx, reg)
	return r, nil
}

// Creation is the creation of the first registration. It stays the same
// for the node's life, even when a re-registration gets another.
func (r *Registrar) Creation() uint32 { return r.creation }

// Serving reports whether this node currently serves the port mapper.
func (r *Registrar) Serving() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.srv != nil
}

// Close stops re-registering, unregisters the name, stops the embedded
// port mapper if this node serves it, and waits for every goroutine. It is
// idempotent.
func (r *Registrar) Close() error {
	r.closeOnce.Do(func() {
		r.cancel()
		<-r.loopDone
		r.mu.Lock()
		reg := r.reg
		r.reg = nil
		r.mu.Unlock()
		if reg != nil {
			reg.Close()
		}
		r.stopServer()
	})
	return nil
}

// run re-registers whenever the registration drops, until ctx ends.
func (r *Registrar) run(ctx context.Context, reg *Registration) {
	defer close(r.loopDone)
	for {
		select {
		case <-ctx.Done():
			return
		case <-reg.Done():
		}
		r.logf("epmd: registration of %q at %s lost; registering again", r.cfg.Name, r.cfg.Addr)
		for failures := 0; ; failures++ {
			if !sleepCtx(ctx, backoff()) {
				return
			}
			actx, cancel := context.WithTimeout(ctx, attemptTimeout)
			next, err := r.attempt(actx)
			cancel()
			if err == nil {
				r.mu.Lock()
				r.reg = next
				r.mu.Unlock()
				reg = next
				r.logf("epmd: %q registered again at %s (creation %d; keeping %d)",
					r.cfg.Name, r.cfg.Addr, next.Creation(), r.creation)
				break
			}
			if ctx.Err() != nil {
				return
			}
			if failures%20 == 0 {
				r.logf("epmd: registering %q at %s: %v; retrying", r.cfg.Name, r.cfg.Addr, err)
			}
		}
	}
}

// attempt dials the port mapper; if nobody listens it tries to serve one
// (dialing again if another node won that race), then registers.
func (r *Registrar) attempt(ctx context.Context) (*Registration, error) {
	daemon := r.cfg.StartDaemon != nil
	for tries := 0; ; tries++ {
		conn, err := dial(ctx, r.dialAddr)
		if err == nil {
			return registerConn(ctx, conn, r.cfg.Name, r.cfg.Port, r.cfg.Hidden, r.cfg.Extra)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) || tries >= 3 {
			return nil, err
		}
		if daemon {
			daemon = false // once an attempt; then the embedded one
			if err := r.cfg.StartDaemon(ctx); err == nil {
				continue
			} else {
				r.logf("epmd: starting a port mapper daemon: %v; this node serves one itself", err)
			}
		}
		if err := r.startServer(); err != nil && !errors.Is(err, syscall.EADDRINUSE) {
			return nil, err
		}
	}
}

// startServer listens on cfg.Addr and serves an embedded port mapper there.
func (r *Registrar) startServer() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv != nil {
		return nil
	}
	var lns []net.Listener
	for _, addr := range listenAddrs(r.cfg.Addr, os.Getenv("ERL_EPMD_ADDRESS")) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return fmt.Errorf("epmd: serving the port mapper: %w", err)
		}
		lns = append(lns, ln)
	}
	srv := NewServer(r.logf)
	r.srv = srv
	for _, ln := range lns {
		r.serve(srv, ln)
	}
	if r.creation != 0 { // at start-up, serving the port mapper is the quiet default
		r.logf("epmd: no port mapper answered at %s; this node serves it now", r.cfg.Addr)
	}
	return nil
}

// listenAddrs are where an embedded port mapper for the dial address addr
// listens, as epmd does: on every interface, or, when $ERL_EPMD_ADDRESS
// (epmdAddress) lists addresses, on those and the loopback address, which
// epmd always adds. A port mapper reached at a host other than the
// loopback address listens on that host only.
func listenAddrs(addr, epmdAddress string) []string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		return []string{addr}
	}
	var out []string
	for _, a := range strings.FieldsFunc(epmdAddress, func(r rune) bool { return r == ',' || r == ' ' }) {
		if ip := net.ParseIP(a); ip != nil && !ip.Equal(net.IPv4(127, 0, 0, 1)) {
			out = append(out, net.JoinHostPort(a, port))
		}
	}
	if len(out) == 0 && epmdAddress == "" {
		return []string{net.JoinHostPort("", port)}
	}
	return append(out, addr)
}

// serve runs srv on ln until either stops.
func (r *Registrar) serve(srv *Server, ln net.Listener) {
	r.serveGroup.Add(1)
	go func() {
		defer r.serveGroup.Done()
		if err := srv.Serve(ln); !errors.Is(err, ErrServerClosed) {
			// The listener broke: stop serving altogether, so that every
			// node's registration drops and one of them serves anew.
			r.logf("epmd: embedded port mapper on %s stopped: %v", ln.Addr(), err)
			r.mu.Lock()
			if r.srv == srv {
				r.srv = nil
			}
			r.mu.Unlock()
			srv.Close()
		}
	}()
}

// stopServer closes the embedded port mapper, if any, and waits for it.
func (r *Registrar) stopServer() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
	r.serveGroup.Wait()
}

// transient reports errors worth another attempt: the port mapper went
// away or is being taken over.
func transient(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.EADDRINUSE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// backoff is the jittered pause between attempts, 50-250 ms.
func backoff() time.Duration {
	return 50*time.Millisecond + rand.N(200*time.Millisecond+1)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// loopbackAddr turns a listen address into one to dial: an empty or
// unspecified host becomes 127.0.0.1.
func loopbackAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("epmd: address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}
