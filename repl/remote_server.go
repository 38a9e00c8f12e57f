package repl

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"sync"

	"github.com/traefik/yaegi/interp"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/repl/eval"
)

// Remote shells (gonode --remsh NODE), the side of the node attached to.
// A node that serves them has four functions in its function table, which
// the remsh client calls by rpc (no wire message of their own, so an
// --rpc-allow without remsh.* refuses remote shells):
//
//	remsh.Open(out Pid) Ref                     a session: a shell process, an
//	                                            interpreter and bindings of its own
//	remsh.Eval(s Ref, src string) map[string]any  one snippet; see evalReply
//	remsh.Complete(s Ref, line string, pos int) []any  Tab: [candidates, start]
//	remsh.Close(s Ref) bool
//
// out is a process on the client's node, the session's group leader:
// what the session prints comes to it as [remshTag, stream, text], stream
// being "out" (the snippet's own output), "err" (warnings, reports) or
// "async" (processes printing between snippets); processes the session
// spawns on other nodes send it their output as to any shell's group
// leader ([outputTag, node, text]). The session ends when the client
// closes it, when out exits or its node goes (a monitor), or when the
// server closes. A cancelled rpc (Ctrl-C on the client) cancels the
// snippet, as it cancels any call.

// remshTag marks the output of a remote shell session sent to its client.
const remshTag = proc.Atom("gonode_remsh")

// Limits of RemoteShellOptions.
const (
	DefaultMaxRemoteShellsPerPeer = 4
	DefaultMaxRemoteShells        = 64
)

// RemoteShellOptions configures ServeRemoteShell.
type RemoteShellOptions struct {
	// MaxPerPeer caps the sessions one client node holds open at once
	// (0: DefaultMaxRemoteShellsPerPeer; negative: no cap); a remsh node
	// opens one. MaxSessions caps them all (0: DefaultMaxRemoteShells;
	// negative: no cap). Each session holds an interpreter (about 1.3 MiB).
	MaxPerPeer, MaxSessions int
	// Halt is what node.Halt() typed in a remote shell does: stop this
	// node, as System.halt() in iex --remsh stops the node attached to.
	// nil: node.Halt() fails with a message. quit() only ends the session.
	Halt func()
	// Exports are packages added to the sessions' interpreters, as
	// EmbedConfig.Exports are to an embedded node's.
	Exports interp.Exports
}

// RemoteShells serves the remote shell sessions of one node. Its methods
// are safe for concurrent use.
type RemoteShells struct {
	d       *dist.Node
	opts    RemoteShellOptions
	watcher proc.Pid // closes the sessions whose client goes

	mu       sync.Mutex
	sessions map[proc.Ref]*remoteSession // guarded by mu
	perPeer  map[string]int              // guarded by mu: open sessions by client node
	closed   bool                        // guarded by mu

	wg sync.WaitGroup // ends of sessions whose client went; Add under mu while !closed

	seed    *eval.Session    // the node's own shell, whose declarations a new session starts with; nil for none
	cluster *clusterServices // the node's services, owned by its runtime; nil for none
}

type remoteSession struct {
	ref  proc.Ref
	peer string   // the client's node
	out  proc.Pid // the client's output process
	rt   *Runtime // the session's own: shell process, interpreter, history

	monitor proc.Ref // guarded by RemoteShells.mu: the watcher's monitor of out
	notices proc.Pid // prints node up/down notices when the session turns them on

	evalMu sync.Mutex // one snippet at a time; held by close until the snippet running ends
}

// ServeRemoteShell lets `gonode --remsh NAME` attach shells to the node d:
// it registers remsh.Open, remsh.Eval, remsh.Complete and remsh.Close in
// funcs, which must be d's function table (dist.Config.Functions, or one
// it consults). Each session evaluates snippets on d in an interpreter of
// its own, as a process of its own (self()), and sends what it prints to
// the client's terminal. Close ends every session and waits for what
// they run; call it before stopping d. A gonode node, and one started
// with Embed, serves remote shells already; a Go program that starts its
// node with dist.Start calls this to allow them.
func ServeRemoteShell(d *dist.Node, funcs *dist.Funcs, opts RemoteShellOptions) (*RemoteShells, error) {
	return serveRemoteShell(d, funcs, opts, nil, nil)
}

// serveRemoteShell is ServeRemoteShell with the node's own shell, whose
// declarations each session starts with (eval.Session.Seed), and its
// cluster services, which the sessions' helpers use (nil: none).
func serveRemoteShell(d *dist.Node, funcs *dist.Funcs, opts RemoteShellOptions, seed *eval.Session, cluster *clusterServices) (*RemoteShells, error) {
	s := &RemoteShells{d: d, opts: opts, sessions: map[proc.Ref]*remoteSession{}, perPeer: map[string]int{}, seed: seed, cluster: cluster}
	watcher, err := d.Proc().SpawnHandler(s.watch, proc.SpawnOptions{Label: "remote shells: ends the sessions of clients that go"})
	if err != nil {
		return nil, err
	}
	s.watcher = watcher
	for name, fn := range map[string]any{
		"remsh.Open": s.open, "remsh.Eval": s.eval, "remsh.Complete": s.complete, "remsh.Close": s.closeByClient,
	} {
		if err := funcs.Register(name, fn); err != nil {
			_ = d.Proc().Exit(watcher, proc.Kill)
			return nil, err
		}
	}
	return s, nil
}

// Close ends every session (their shell processes exit with :shutdown)
// and refuses new ones. It waits for the snippets running to end.
func (s *RemoteShells) Close() error {
	s.mu.Lock()
	s.closed = true
	var all []*remoteSession
	for _, rs := range s.sessions {
		all = append(all, rs)
	}
	s.mu.Unlock()
	for _, rs := range all {
		s.end(rs.ref, proc.Shutdown)
	}
	_ = s.d.Proc().Exit(s.watcher, proc.Kill)
	s.wg.Wait()
	return nil
}

// Sessions reports how many sessions are open.
func (s *RemoteShells) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// watchMsg asks the watcher to monitor a session's client output process.
type watchMsg struct {
	session proc.Ref
	out     proc.Pid
}

// unwatchMsg asks the watcher to drop its monitor of an ended session's
// client, which may live on (a program opening one session after another).
type unwatchMsg proc.Ref

// watch is the watcher process: it monitors each session's client, and
// ends the session when the client's output process exits or its node
// goes (the monitor fires with :noconnection).
func (s *RemoteShells) watch(p *proc.Process, msg any) {
	switch m := msg.(type) {
	case watchMsg:
		ref := p.Monitor(m.out)
		s.mu.Lock()
		rs := s.sessions[m.session]
		if rs != nil {
			rs.monitor = ref
		}
		s.mu.Unlock()
		if rs == nil {
			p.Demonitor(ref, true) // ended already
		}
	case unwatchMsg:
		p.Demonitor(proc.Ref(m), true)
	case proc.DownMsg:
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, rs := range s.sessions {
			if rs.monitor == m.Ref && !s.closed {
				// The client went without closing: its shell process
				// exits as a process linked across a lost connection
				// would. Not on the watcher's goroutine: end waits for
				// the snippet running, and the watcher serves every
				// session. Close waits for it.
				s.wg.Add(1)
				go func() {
					defer s.wg.Done()
					s.end(rs.ref, proc.NoConnection)
				}()
			}
		}
	}
}

func (s *RemoteShells) session(ref proc.Ref) (*remoteSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rs := s.sessions[ref]; rs != nil {
		return rs, nil
	}
	return nil, fmt.Errorf("no remote shell session %v on %s: it was closed (its client's connection dropped, or quit())", ref, s.d.Name())
}

// open starts a session for the client whose output process is out.
func (s *RemoteShells) open(out proc.Pid) (proc.Ref, error) {
	peer := out.Node
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return proc.Ref{}, fmt.Errorf("%s no longer serves remote shells", s.d.Name())
	case limit(s.opts.MaxPerPeer, DefaultMaxRemoteShellsPerPeer) > 0 && s.perPeer[peer] >= limit(s.opts.MaxPerPeer, DefaultMaxRemoteShellsPerPeer):
		s.mu.Unlock()
		return proc.Ref{}, fmt.Errorf("%s has %d remote shells of %s open already, its limit", s.d.Name(), s.perPeer[peer], peer)
	case limit(s.opts.MaxSessions, DefaultMaxRemoteShells) > 0 && len(s.sessions) >= limit(s.opts.MaxSessions, DefaultMaxRemoteShells):
		s.mu.Unlock()
		return proc.Ref{}, fmt.Errorf("%s has %d remote shells open already, its limit", s.d.Name(), len(s.sessions))
	}
	s.perPeer[peer]++ // held while the session is made, so that concurrent opens count it
	s.mu.Unlock()
	rs, err := s.newSession(out)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && s.closed {
		err = fmt.Errorf("%s no longer serves remote shells", s.d.Name())
		rs.stop(s.d, proc.Shutdown)
	}
	if err != nil {
		s.release(peer)
		return proc.Ref{}, err
	}
	s.sessions[rs.ref] = rs
	// Sent under mu, so that the watcher finds the session when it records the monitor.
	if serr := s.d.Proc().Send(s.watcher, watchMsg{session: rs.ref, out: out}); serr != nil {
		delete(s.sessions, rs.ref)
		s.release(peer)
		rs.stop(s.d, proc.Shutdown)
		return proc.Ref{}, serr
	}
	return rs.ref, nil
}

// release gives back a client's slot (s.mu held).
func (s *RemoteShells) release(peer string) {
	if s.perPeer[peer]--; s.perPeer[peer] <= 0 {
		delete(s.perPeer, peer)
	}
}

func limit(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// newSession makes a session's runtime: the node's, with a session, a
// shell process and outputs of its own, all going to the client.
func (s *RemoteShells) newSession(out proc.Pid) (*remoteSession, error) {
	n := s.d.Proc()
	to := func(stream string) io.Writer { return &remshWriter{node: n, to: out, stream: stream} }
	rt := &Runtime{node: n, dist: s.d, cluster: s.cluster, out: to("out"), errw: to("err"), async: to("async"),
		quit: make(chan struct{}), startup: make(chan struct{}), groupLeader: out}
	rt.startupDone()
	rt.reports.set(to("err"))
	rt.ctx, rt.cancel = context.WithCancel(context.Background())
	exports := rt.exports()
	for k, v := range s.opts.Exports {
		if _, own := exports[k]; !own {
			exports[k] = v
		}
	}
	halt := s.opts.Halt
	// node.Halt stops the node, as System.halt() does in iex --remsh;
	// quit() (rt.halt) ends only the session.
	exports[apiKey]["Halt"] = reflect.ValueOf(func() {
		if halt == nil {
			fail("node.Halt: %s cannot be halted from a remote shell", n.Name())
		}
		rt.halt() // first: the session ends by its own snippet's doing (eval)
		halt()
	})
	sess, err := eval.NewSession(eval.Options{
		Exports: exports, Prelude: prelude, ShipCalls: shipCalls, ShipLiterals: shipLiterals, TypedCalls: typedCalls,
		Stdout: asyncWriter{rt}, Stderr: traceFilter{asyncWriter{rt}},
	})
	if err != nil {
		rt.cancel()
		return nil, err
	}
	rt.session = sess
	if s.seed != nil {
		sess.Seed(s.seed)
	}
	p, err := n.Attach(proc.SpawnOptions{Label: "remote shell of " + out.Node})
	if err != nil {
		rt.cancel()
		return nil, err
	}
	rt.shellP = p
	rt.watchShell(p) // replaced at once if it dies between snippets, as the local shell's is
	// nodeNotices(true) in the session prints node up/down notices there
	// (off at first: node2's own terminal has them).
	notices, err := n.SpawnHandler(rt.printNotice, proc.SpawnOptions{Label: "node notices for the remote shell of " + out.Node})
	if err != nil {
		rt.cancel()
		rt.wg.Wait() // watchShell's goroutine
		p.Exit(proc.Shutdown)
		return nil, err
	}
	s.d.MonitorNodes(notices, true, true)
	return &remoteSession{ref: n.MakeRef(), peer: out.Node, out: out, rt: rt, notices: notices}, nil
}

// end closes a session: it cancels the snippet running and the session's
// tasks, waits for them, and ends its shell process with reason.
func (s *RemoteShells) end(ref proc.Ref, reason any) bool {
	s.mu.Lock()
	rs := s.sessions[ref]
	var monitor proc.Ref
	if rs != nil {
		delete(s.sessions, ref)
		s.release(rs.peer)
		monitor = rs.monitor // zero if the watcher has not set it yet: it drops it then
	}
	s.mu.Unlock()
	if rs == nil {
		return false
	}
	if !monitor.IsZero() {
		_ = s.d.Proc().Send(s.watcher, unwatchMsg(monitor))
	}
	rs.stop(s.d, reason)
	return true
}

func (s *RemoteShells) closeByClient(ref proc.Ref) bool { return s.end(ref, proc.Normal) }
