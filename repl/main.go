package repl

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang"
	"github.com/gonode/gonode/proc"
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
	// Web, if set, serves the web view there (web.Addr: ":8080" is
	// 127.0.0.1:8080); an address other hosts can reach needs WebToken,
	// which every request must then carry.
	Web, WebToken string
	// Started, if set, runs once the node is up, before the shell reads
	// any input, with its process table and its distribution (nil for a
	// node without a name); the stop function it returns runs first when
	// the node stops. The command adds services this way (gonode
	// --metrics) without the shell importing them. An error stops the
	// node: exit code ExitStartup.
	Started func(pn *proc.Node, d *dist.Node) (stop func(), err error)
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
	if cfg.Started != nil {
		stop, err := cfg.Started(rt.node, rt.dist)
		if err != nil {
			fmt.Fprintf(cfg.Stderr, "gonode: %v\n", err)
			return ExitStartup
		}
		defer stop() // before rt.close: it reads the node
	}
	return serve(cfg.NoHalt, rt.quit, func() int { return ExitOK },
		func(interrupts chan struct{}, in *inputState) int {
			return rt.runShell(cfg, interactive, interrupts, in)
		})
}
