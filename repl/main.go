package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/epmd"
	"github.com/gonode/gonode/dist/erlang"
	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/repl/eval"
	"github.com/gonode/gonode/repl/term"
)

// Config is what the command line decided.
type Config struct {
	NodeName string // full name; "" for a node without distribution
	Cookie   string
	Hidden   bool
	TickTime time.Duration
	Eval     string // -e: evaluate this and exit
	Script   string // a file of shell input to run and exit
	NoHalt   bool   // keep serving after the input ends
	Quiet    bool   // asynchronous notices and remote output go to stderr
	// MaxMailbox bounds every process's mailbox (0: no limit); a send to a
	// full one drops the message, or kills the process with
	// KillOnFullMailbox.
	MaxMailbox        int
	KillOnFullMailbox bool
	// StartPortMapper starts a port mapper daemon when none answers (see
	// dist.Config.StartPortMapper).
	StartPortMapper func(ctx context.Context) error
	Version         string
	// TLS between nodes (see CheckTLSFlags): a directory made by gonode
	// cert, or the three files; none of them means plain TCP.
	TLSDir, TLSCert, TLSKey, TLSCA string
	// RPCAllow, if not nil, limits what peers may run here to the function
	// names these patterns match ("<literal>" for function literals); see
	// dist.Config.RPCAllow. MaxCallsPerPeer caps each peer's calls running
	// at once (dist.Config.MaxCallsPerPeer).
	RPCAllow        []string
	MaxCallsPerPeer int
	// Discover, Join and GossipPort are the discovery flags (see
	// CheckDiscoveryFlags and DiscoveryUsage): nodes found are connected
	// to.
	Discover   string
	Join       []string
	GossipPort int
	// Erlang makes the node speak Erlang's distribution protocol with BEAM
	// (Erlang and Elixir) nodes as well (dist/erlang): it accepts their
	// connections, dials nodes whose port mapper entry lacks gonode's mark
	// with it, and answers net_kernel's is_auth (net_adm:ping). Not over
	// TLS, which BEAM nodes do not speak to gonode.
	Erlang bool
	// Remsh, if set, names a node to attach a remote shell to (iex
	// --remsh): snippets run there; NodeName is this terminal's own
	// hidden node (see RemshName).
	Remsh string
	// embed is what a Go program that embeds the node adds (Embed); nil
	// for gonode.
	embed *embedding

	Stdin          *os.File
	Stdout, Stderr io.Writer
}

// erlangProtocol is the dialect for BEAM peers when cfg asks for it and
// the node runs without TLS.
func erlangProtocol(cfg Config, transport dist.Transport) dist.Protocol {
	if !cfg.Erlang || transport != nil {
		return dist.Protocol{}
	}
	return erlang.Protocol()
}

// ShortName resolves an --sname argument (see dist.ShortName).
func ShortName(s string) (string, error) { return dist.ShortName(s) }

// LongName resolves a --name argument (see dist.LongName).
func LongName(s string) (string, error) { return dist.LongName(s) }

// Exit codes.
const (
	ExitOK      = 0
	ExitFailed  = 1 // a snippet failed in a script, -e or piped input
	ExitStartup = 2 // the node could not start
)

// Main starts the node, runs the shell in the mode cfg asks for, stops the
// node and returns the exit code. With cfg.Remsh it runs a remote shell
// instead (see remoteMain).
func Main(ctx context.Context, cfg Config) int {
	if ctx == nil {
		ctx = context.Background()
	}
	if term.IsTerminal(cfg.Stdin) {
		defer term.SaveModes(cfg.Stdin)()
	}
	if cfg.Remsh != "" {
		return remoteMain(ctx, cfg)
	}
	interactive := cfg.Eval == "" && cfg.Script == "" && term.IsTerminal(cfg.Stdin)
	rt, err := start(ctx, cfg, interactive)
	if err != nil {
		fmt.Fprintf(cfg.Stderr, "gonode: %v\n", err)
		return ExitStartup
	}
	defer rt.close()
	return serve(cfg.NoHalt, rt.quit, func() int { return ExitOK },
		func(interrupts chan struct{}, evaluating *atomic.Bool) int {
			return rt.runShell(cfg, interactive, interrupts, evaluating)
		})
}

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
	rt := &Runtime{out: &out, errw: &errw, async: &async, quit: make(chan struct{}), startup: make(chan struct{})}
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
	if cfg.NodeName != "" {
		transport, err := tlsTransport(cfg)
		if err != nil {
			rt.cancel()
			return nil, fmt.Errorf("cannot start %s: %w", cfg.NodeName, err)
		}
		remsh := dist.NewFuncs() // remote shells' functions, registered once the node is up
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
		}
		if rt.remote, err = serveRemoteShell(d, remsh, RemoteShellOptions{Halt: rt.halt, Exports: cfg.embed.packages()}, s, rt.cluster); err != nil {
			rt.close()
			return nil, err
		}
		if _, err = startCodeLoader(s, remsh); err != nil { // peers' push() (push.go)
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
	return rt, nil
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

// runShell reads and evaluates the input in the mode cfg asks for and
// returns the exit code.
func (rt *Runtime) runShell(cfg Config, interactive bool, interrupts chan struct{}, evaluating *atomic.Bool) int {
	defer rt.startupDone()
	sh := &Shell{
		Session: rt.session, Out: rt.out, Err: rt.errw, Interrupts: interrupts,
		BeforeEval: func(ctx context.Context) {
			rt.snippetStarted()
			rt.evalCtx.Store(&ctx)
			evaluating.Store(true)
			rt.inSnippet.Store(true)
		},
		AfterEval: func(res eval.Result, err error) {
			rt.inSnippet.Store(false)
			evaluating.Store(false)
			rt.evalCtx.Store(nil)
			// What the snippet's remote calls printed reached the group
			// leader before their replies: print it before the value.
			rt.flushOutput()
			if err == nil {
				rt.record(res)
			}
		},
		Prompt: func(int, bool) string { return "" },
	}
	switch {
	case cfg.Eval != "":
		sh.Lines, sh.StopOnError = term.NewPipeReader(strings.NewReader(cfg.Eval+"\n"), rt.out), true
	case cfg.Script != "":
		f, err := os.Open(cfg.Script)
		if err != nil {
			fmt.Fprintf(rt.errw, "gonode: %v\n", err)
			return ExitStartup
		}
		defer f.Close()
		sh.Lines, sh.StopOnError = term.NewPipeReader(f, rt.out), true
		sh.Source = cfg.Script
	case interactive:
		home, _ := os.UserHomeDir()
		hist := ""
		if home != "" {
			hist = filepath.Join(home, ".gonode_history")
		}
		lr, err := term.NewTTYReader(term.TTYConfig{
			HistoryFile: hist, Complete: rt.session.Complete, TTY: cfg.Stdin,
		})
		if err != nil {
			fmt.Fprintf(rt.errw, "gonode: terminal: %v\n", err)
			return ExitStartup
		}
		defer lr.Close()
		defer term.CancelReadOn(lr, rt.quit)() // a peer's node.Halt ends the read, and the terminal is restored
		sh.Lines = lr
		sh.Out, sh.Err = lr.Stdout(), lr.Stdout()
		if !cfg.Quiet {
			rt.async.(*swapWriter).set(lr.Stdout())
		}
		rt.out.(*swapWriter).set(lr.Stdout())
		rt.errw.(*swapWriter).set(lr.Stdout())
		rt.reports.set(lr.Stdout())
		name := rt.node.Name()
		sh.Prompt = func(_ int, cont bool) string {
			if cont {
				return strings.Repeat(" ", max(0, len(name)-3)) + "...> "
			}
			return name + "> "
		}
		fmt.Fprintf(sh.Out, "gonode %s on %s. help() lists the helpers; Ctrl-D or quit() leaves.\n", cfg.Version, name)
		rt.startupDone()
	default:
		sh.Lines = term.NewPipeReader(cfg.Stdin, rt.out)
	}
	sh.ErrorValuesFail = !interactive
	sh.Check = rt.shellExited
	sh.Lines = haltReader{sh.Lines, rt.quit}
	err := sh.Run(rt.ctx)
	switch {
	case err != nil && !errors.Is(err, context.Canceled) && sh.Failed == 0:
		fmt.Fprintf(rt.errw, "gonode: %v\n", err)
		return ExitFailed
	case sh.Failed > 0:
		return ExitFailed
	}
	return ExitOK
}

// haltReader ends the input once quit() was called: the snippets after it
// must not run while the node stops.
type haltReader struct {
	term.LineReader
	quit <-chan struct{}
}

func (r haltReader) ReadLine() (string, error) {
	select {
	case <-r.quit:
		return "", context.Canceled
	default:
		return r.LineReader.ReadLine()
	}
}

// close stops the node and waits for the runtime's goroutines.
func (rt *Runtime) close() {
	rt.stopDiscovery() // no new connections while the node closes
	if rt.remote != nil {
		_ = rt.remote.Close() // their shell processes end before the node
	}
	rt.flushOutput()
	rt.cancel()
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
