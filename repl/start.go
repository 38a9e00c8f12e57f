package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sync"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/epmd"
	"github.com/gonode/gonode/dist/erlang"
	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/repl/eval"
)

func start(ctx context.Context, cfg Config, interactive bool) (*Runtime, error) {
	// The writers are switched to the terminal's once it is set up, while
	// the node's goroutines (logs, notices, output) may be writing.
	var out, errw, async swapWriter
	out.set(cfg.Stdout)
	errw.set(cfg.Stderr)
	async.set(cfg.Stdout)
	if cfg.Quiet {
		async.set(cfg.Stderr)
	}
	rt := &Runtime{out: &out, errw: &errw, async: &async, quit: make(chan struct{}), startup: make(chan struct{}), web: &webState{}}
	rt.reports.set(cfg.Stderr)
	rt.notices.Store(interactive && !cfg.Quiet)
	rt.ctx, rt.cancel = context.WithCancel(context.Background())
	// The session comes first: once distribution starts, peers can call
	// into it (rpc, spawn).
	s, err := eval.NewSession(eval.Options{
		Exports: cfg.embed.withExports(rt.exports()), Prelude: prelude, ShipCalls: shipCalls, ShipLiterals: shipLiterals, TypedCalls: typedCalls,
		Stdout: asyncWriter{rt}, Stderr: traceFilter{asyncWriter{rt}},
	})
	if err != nil {
		rt.cancel()
		return nil, err
	}
	rt.session = s
	var remsh *dist.Funcs // remote shells' functions, registered once the node is up
	if cfg.NodeName != "" {
		transport, err := tlsTransport(cfg)
		if err != nil {
			rt.cancel()
			return nil, fmt.Errorf("cannot start %s: %w", cfg.NodeName, err)
		}
		remsh = dist.NewFuncs()
		d, err := dist.Start(ctx, dist.Config{
			Name: cfg.NodeName, Cookie: cfg.Cookie, Hidden: cfg.Hidden, TickTime: cfg.TickTime, Transport: transport,
			Functions: firstResolver{remsh, cfg.embed.functions(sessionFuncs{rt})}, Sources: sessionSources{rt}, StartPortMapper: cfg.StartPortMapper,
			RPCAllow: cfg.RPCAllow, MaxCallsPerPeer: cfg.MaxCallsPerPeer, Foreign: erlangProtocol(cfg, transport),
			Types: rt.structTypes(), // session types cross by name (typed.go)
			Logf:  func(format string, args ...any) { fmt.Fprintf(rt.errw, "gonode: "+format+"\n", args...) },
		})
		if err != nil {
			rt.cancel()
			if errors.Is(err, epmd.ErrNameTaken) {
				return nil, fmt.Errorf("cannot start %s: the name is already in use on this host", cfg.NodeName)
			}
			return nil, fmt.Errorf("cannot start %s: %w", cfg.NodeName, err)
		}
		rt.dist, rt.node = d, d.Proc()
		// The services come before the remote shells, whose sessions use them.
		if rt.cluster, err = startCluster(d, func(format string, args ...any) { fmt.Fprintf(rt.errw, "gonode: "+format+"\n", args...) }); err != nil {
			rt.close()
			return nil, err
		}
		if cfg.Erlang && transport == nil { // after the cluster services: global_name_server is theirs
			if err = erlang.StartSystem(rt.node, func(format string, args ...any) { fmt.Fprintf(rt.errw, "gonode: "+format+"\n", args...) }); err != nil {
				rt.close()
				return nil, err
			}
			// BEAM nodes do not introduce gonodes to their peers: ask them (mesh.go).
			if _, err = erlang.StartMesh(d, erlang.MeshOptions{Logf: func(format string, args ...any) { fmt.Fprintf(rt.errw, "gonode: "+format+"\n", args...) }}); err != nil {
				rt.close()
				return nil, err
			}
		}
		if rt.remote, err = serveRemoteShell(d, remsh, RemoteShellOptions{Halt: rt.halt, Exports: cfg.embed.packages()}, s, rt.cluster); err != nil {
			rt.close()
			return nil, err
		}
		if _, err = startCodeLoader(s, remsh); err != nil { // peers' push() (push.go)
			rt.close()
			return nil, err
		}
		if err = remsh.Register(webNodeFn, rt.webNodeJSON); err != nil { // peers' web views (web.go)
			rt.close()
			return nil, err
		}
		if err = rt.startDiscovery(cfg, d, func(format string, args ...any) { fmt.Fprintf(rt.errw, "gonode: "+format+"\n", args...) }); err != nil {
			rt.close()
			return nil, err
		}
	} else {
		n, err := proc.NewNode("nonode@nohost", 1)
		if err != nil {
			rt.cancel()
			return nil, err
		}
		rt.node = n
	}
	rt.node.SetCrashReporter(rt.reportCrash)
	if err = rt.startTracer(remsh); err != nil { // trace() and getState() here and for peers (trace.go)
		rt.close()
		return nil, err
	}
	policy := proc.DropNewest
	if cfg.KillOnFullMailbox {
		policy = proc.KillOnFull
	}
	rt.node.SetMailboxLimit(cfg.MaxMailbox, policy)
	rt.node.SetMailboxWarning(mailboxWarnAt, rt.warnMailbox)
	otp.SetReporter(rt.node, rt.reportEvent)
	if rt.groupLeader, err = rt.node.SpawnHandler(rt.printOutput, proc.SpawnOptions{Label: "group leader: prints remote output"}); err != nil {
		rt.close()
		return nil, err
	}
	if rt.dist != nil {
		notices, err := rt.node.SpawnHandler(rt.printNotice, proc.SpawnOptions{Label: "prints node up/down notices"})
		if err != nil {
			rt.close()
			return nil, err
		}
		rt.noticer = notices
		// Visible nodes only, as list() and Erlang's monitor_nodes without
		// {node_type, all}: a remote shell attaching (a hidden node) is
		// not a node joining.
		rt.dist.MonitorNodes(notices, true, false)
	}
	if cfg.Web != "" { // gonode --web
		url, err := rt.web.start(rt, cfg.Web, cfg.WebToken)
		if err != nil {
			rt.close()
			return nil, err
		}
		fmt.Fprintf(rt.errw, "gonode: web view at %s\n", url)
	}
	return rt, nil
}

// close stops the node and waits for the runtime's goroutines.
func (rt *Runtime) close() {
	rt.web.close()     // its viewers' snapshots and actions use the node
	rt.stopDiscovery() // no new connections while the node closes
	if rt.remote != nil {
		_ = rt.remote.Close() // their shell processes end before the node
	}
	rt.flushOutput()
	rt.cancel()
	rt.tracing.close()
	rt.cluster.close() // before the node: their processes end, peers drop this node's groups and record
	if rt.dist != nil {
		_ = rt.dist.Close()
	} else if rt.node != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = rt.node.Stop(ctx)
		cancel()
	}
	rt.wg.Wait()
	if rt.session != nil {
		rt.session.Close() // the idle pooled interpreters' call servers
	}
	otp.SetReporter(rt.node, nil)
}

// asyncWriter sends what interpreted code prints to the runtime's current
// asynchronous output (above the prompt once the terminal is set up).
// asyncWriter is where interpreted code prints: while a snippet runs,
// the snippet's own output (rt.out, stdout even with -q; what a local
// process prints meanwhile goes there too, since one interpreter writer
// cannot tell them apart); otherwise a process printing on its own
// (rt.async).
type asyncWriter struct{ rt *Runtime }

func (w asyncWriter) Write(b []byte) (int, error) {
	if w.rt.inSnippet.Load() {
		return w.rt.out.Write(b)
	}
	return w.rt.async.Write(b)
}

// traceFilter drops the trace lines yaegi prints when a host function
// panics ("10:64: panic: main.spawn(...)"): the shell reports the failure
// itself, once, as an error.
type traceFilter struct{ w io.Writer }

var yaegiTrace = regexp.MustCompile(`^(\d+:\d+: panic: [\w.]+\(\.\.\.\)\n)+$`)

func (f traceFilter) Write(b []byte) (int, error) {
	if yaegiTrace.Match(b) {
		return len(b), nil
	}
	return f.w.Write(b)
}

// swapWriter is a writer whose destination the shell changes once the
// terminal is set up, while other goroutines may be writing.
type swapWriter struct {
	mu sync.Mutex
	w  io.Writer // guarded by mu
}

func (s *swapWriter) set(w io.Writer) {
	s.mu.Lock()
	s.w = w
	s.mu.Unlock()
}

func (s *swapWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		return len(b), nil
	}
	return s.w.Write(b)
}
