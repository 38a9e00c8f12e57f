package global

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// ServerName is the local name of each node's name server.
const ServerName = "global_name_server"

// Errors callers branch on; compare with errors.Is.
var (
	ErrNameTaken     = errors.New("global: name already registered")
	ErrNotRegistered = errors.New("global: name not registered")
	ErrNoProc        = errors.New("global: no such process") // the pid is dead, or its node takes no part
	ErrTimeout       = errors.New("global: timeout")         // the context ended first (also wraps ctx.Err())
	ErrClosed        = errors.New("global: name server closed")
	ErrBadName       = errors.New("global: empty name")
)

// Resolve says what the loser of a name conflict is told (see the package
// comment for who loses).
type Resolve int64

const (
	// ResolveExit sends the loser an exit signal with reason
	// {global_name_conflict, Name}, as :global's default resolve function
	// kills one of the two.
	ResolveExit Resolve = 0
	// ResolveNotify sends the loser a Conflict message and lets it live.
	ResolveNotify Resolve = 1
)

// Conflict is the message a loser registered with ResolveNotify gets: it
// no longer holds Name, which Winner holds.
type Conflict struct {
	Name   string
	Winner proc.Pid
}

func (c Conflict) String() string {
	return fmt.Sprintf("{:global_name_conflict, %q, %v}", c.Name, c.Winner)
}

// Options tune a Server; the zero value is ready.
type Options struct {
	// Resolve is how losers of conflicts over names registered through
	// this server are told (default ResolveExit).
	Resolve Resolve
	// Timeout bounds an operation whose context has no deadline (default 5 s).
	Timeout time.Duration
	// ReconnectInterval is how often lost peers are dialled again
	// (default 200 ms); ForgetAfter is how long they are (default 5 min).
	ReconnectInterval time.Duration
	ForgetAfter       time.Duration
	// Logf is where bad input and conflicts are logged (default log.Printf).
	Logf func(format string, args ...any)
}

const (
	defaultTimeout   = 5 * time.Second
	defaultReconnect = 200 * time.Millisecond
	defaultForget    = 5 * time.Minute
	// closeGrace bounds how long an API call waits for the server's last
	// word after its context ended (the server answers a cancel at once
	// unless it is gone, which done tells).
	closeGrace = 5 * time.Second
)

// Server is one node's name server. Its methods are safe for concurrent
// use by any goroutine, and none needs a process: the shell's helpers map
// onto them one to one (registerGlobal: Register under the shell's call
// timeout; whereisGlobal: Whereis; unregisterGlobal: Unregister; a send
// to a global name: Send; registered names: Names).
type Server struct {
	node *dist.Node
	opts Options
	pid  proc.Pid      // the server process
	done chan struct{} // closed when the server process has ended

	mu    sync.RWMutex
	names map[string]proc.Pid // guarded by mu: the replica, written only by the server process

	npeers    atomic.Int64 // participants, as the server process last counted (for tests)
	rc        *reconnector
	closeOnce sync.Once
}

func (s *Server) participants() int { return int(s.npeers.Load()) }

// Start starts the name server on node: it registers ServerName there,
// exchanges names with the peers connected now and with every peer that
// comes up later. One per node; Close stops it.
func Start(node *dist.Node, opts Options) (*Server, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = defaultTimeout
	}
	if opts.ReconnectInterval <= 0 {
		opts.ReconnectInterval = defaultReconnect
	}
	if opts.ForgetAfter <= 0 {
		opts.ForgetAfter = defaultForget
	}
	if opts.Logf == nil {
		opts.Logf = log.Printf
	}
	s := &Server{node: node, opts: opts, done: make(chan struct{}), names: make(map[string]proc.Pid)}
	s.rc = newReconnector(node, opts.ReconnectInterval, opts.ForgetAfter)
	started := make(chan struct{})
	pid, err := node.Proc().SpawnOpt(func(p *proc.Process) {
		defer close(s.done)
		newState(s, p).run(started)
	}, proc.SpawnOptions{Name: ServerName, TrapExit: true, Label: "global name server"})
	if err != nil {
		s.rc.stop()
		return nil, fmt.Errorf("global: starting the name server on %s: %w", node.Name(), err)
	}
	// Start returns once the server watches for peers and has sent its
	// names to those connected now (or has died, with the node stopping).
	select {
	case <-started:
	case <-s.done:
		s.rc.stop()
		return nil, fmt.Errorf("%w: it ended as it started (is %s stopping?)", ErrClosed, node.Name())
	}
	s.pid = pid
	return s, nil
}

// Pid returns the server process's pid.
func (s *Server) Pid() proc.Pid { return s.pid }

// Close stops the server and its reconnector and waits for both. The
// names stay registered on the other nodes while their holders live.
// Idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		_ = s.node.Proc().Exit(s.pid, proc.Kill)
		<-s.done
		s.rc.stop()
	})
	return nil
}

// Whereis returns the holder of name from this node's replica, without
// talking to any other node or process.
func (s *Server) Whereis(name string) (proc.Pid, bool) {
	s.mu.RLock()
	pid, ok := s.names[name]
	s.mu.RUnlock()
	return pid, ok
}

// Names returns the names registered, sorted (global:registered_names).
func (s *Server) Names() []string {
	s.mu.RLock()
	out := make([]string, 0, len(s.names))
	for n := range s.names {
		out = append(out, n)
	}
	s.mu.RUnlock()
	slices.Sort(out)
	return out
}

// Send sends msg to the holder of name, wherever it runs (global:send).
func (s *Server) Send(name string, msg any) error {
	pid, ok := s.Whereis(name)
	if !ok {
		return fmt.Errorf("%w: %q", ErrNotRegistered, name)
	}
	return s.node.Proc().Send(pid, msg)
}

// Register gives name to pid in the whole cluster, agreed with every
// participating node, and returns when all of them have stored it. A name
// held by another process gives ErrNameTaken; a dead pid, or one on a node
// that takes no part, ErrNoProc; registering a name the pid already holds
// succeeds. When ctx ends first (or Options.Timeout passes, for a ctx
// without a deadline) the registration is abandoned and the error wraps
// ErrTimeout, unless it had already been decided, in which case Register
// returns nil: the answer always says whether the name is pid's.
func (s *Server) Register(ctx context.Context, name string, pid proc.Pid) error {
	if name == "" {
		return ErrBadName
	}
	if pid.IsZero() {
		return fmt.Errorf("%w: zero pid", ErrNoProc)
	}
	return s.ask(ctx, &request{kind: opRegister, name: name, pid: pid})
}

// Unregister removes name on every participating node, and returns when
// all of them have done so, or when ctx ends (the name is then gone here
// and on the nodes that answered). A name not registered is not an error.
func (s *Server) Unregister(ctx context.Context, name string) error {
	if name == "" {
		return ErrBadName
	}
	return s.ask(ctx, &request{kind: opUnregister, name: name})
}

// ask hands a request to the server process and waits for its answer.
func (s *Server) ask(ctx context.Context, r *request) error {
	select {
	case <-s.done:
		return ErrClosed
	default:
	}
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(s.opts.Timeout)
	}
	r.deadline, r.ctxDeadline = dl, ok
	r.reply = make(chan error, 1)
	if err := s.node.Proc().Send(s.pid, r); err != nil {
		return fmt.Errorf("%w: %v", ErrClosed, err)
	}
	select {
	case err := <-r.reply:
		return err
	case <-s.done:
		return ErrClosed
	case <-ctx.Done():
	}
	// The caller gives up: the server abandons the operation unless it
	// has been decided, and says which.
	_ = s.node.Proc().Send(s.pid, cancel{reply: r.reply, err: ctx.Err()})
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case err := <-r.reply:
		return err
	case <-s.done:
		return ErrClosed
	case <-t.C:
		return fmt.Errorf("%w: no answer from the name server (%w)", ErrTimeout, ctx.Err())
	}
}

type opKind uint8

const (
	opRegister opKind = iota + 1
	opUnregister
)

// request is what the API puts in the server's mailbox: a Go value that
// never crosses the wire (a peer cannot forge it).
type request struct {
	kind     opKind
	name     string
	pid      proc.Pid
	deadline time.Time
	// ctxDeadline: deadline is the caller's ctx's, not Options.Timeout.
	ctxDeadline bool
	reply       chan error // buffered 1: the server never waits on it
}

// cancel asks the server to abandon the request answering on reply.
type cancel struct {
	reply chan error
	err   error
}
