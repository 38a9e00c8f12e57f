// Command gonode boots an Erlang-style node (a process table and a
// distribution listener) and drops into a shell of Go snippets, as
// `iex --sname node1 --cookie secret` does for Elixir. This package only
// parses flags and wires the pieces; the shell is package repl.
package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gonode/gonode/metrics"
	"github.com/gonode/gonode/repl"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// exitError carries an exit code out of cobra.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	cmd := newRootCmd()
	cmd.SetArgs(args)
	err := cmd.Execute()
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	default:
		// An argument error (cobra's Args checks): errors are silenced, so
		// print it here.
		fmt.Fprintf(cmd.ErrOrStderr(), "gonode: %v\nRun 'gonode --help' for usage.\n", err)
		return 2
	}
}

func newRootCmd() *cobra.Command {
	var (
		sname, name, cookie, eval string
		remsh                     string
		tlsDir, tlsCert, tlsKey   string
		tlsCA                     string
		hidden, noHalt, quiet     bool
		erlangDist                bool
		tickTime                  time.Duration
		maxMailbox                int
		mailboxFull               string
		rpcAllow                  []string
		maxPeerCalls              int
		discover                  string
		join                      []string
		gossipPort                int
		webAddr, webToken         string
		metricsAddr               string
	)
	cmd := &cobra.Command{
		Use:   "gonode [flags] [FILE.gos]",
		Short: "An Erlang-style node with a Go shell",
		Long: `gonode starts a node: a table of lightweight processes (mailboxes, links,
monitors, registered names) reachable by other nodes under its name, and
a shell where Go snippets call connect, list, spawn, send, rpc and more.
Type help() in the shell for the list of helpers.

Nodes find each other through the port mapper on 127.0.0.1:4369, or the
port in $ERL_EPMD_PORT; if none answers, the first node starts one that
outlives it (gonode epmd -daemon).`,
		Example: `  # two terminals, two nodes
  gonode --sname node1@localhost --cookie secret
  gonode --sname node2@localhost --cookie secret
  node1@localhost> connect("node2@localhost")
  true

  # evaluate and exit (exit code 1 if the snippet fails, or its value is an error)
  gonode --sname n@localhost --cookie secret -e 'waitFor("node2@localhost", 10*time.Second); rpc("node2@localhost", "Compute", 5)'

  # run a script of shell input (keep .gos files out of Go packages), then keep serving (a peer for CI)
  gonode --sname node2@localhost --cookie secret --no-halt /tmp/setup.gos &

  # a shell on a running node: snippets run on node2, which keeps running after Ctrl-D
  gonode --remsh node2@localhost --cookie secret

  # nodes over mutual TLS: certificates once, then one flag per node
  gonode cert node1@localhost node2@localhost
  gonode --sname node1@localhost --cookie secret --tls-dir certs`,
		Args:          cobra.MaximumNArgs(1),
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if sname != "" && name != "" {
				return usageErr(cmd, "use either --sname or --name, not both")
			}
			if mailboxFull != "drop" && mailboxFull != "kill" {
				return usageErr(cmd, "--mailbox-full is drop or kill")
			}
			cfg := repl.Config{
				Hidden: hidden, TickTime: tickTime, Eval: eval, NoHalt: noHalt, Quiet: quiet,
				MaxMailbox: maxMailbox, KillOnFullMailbox: mailboxFull == "kill",
				StartPortMapper: repl.StartPortMapperDaemon,
				Stdin:           os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Version: version,
				RPCAllow: rpcAllow, MaxCallsPerPeer: maxPeerCalls, Erlang: erlangDist,
			}
			if len(args) == 1 {
				cfg.Script = args[0]
			}
			if eval != "" && cfg.Script != "" {
				return usageErr(cmd, "use either -e or a script file, not both")
			}
			var err error
			if remsh != "" {
				if noHalt {
					return usageErr(cmd, "--no-halt does not go with --remsh: the node attached to keeps running anyway")
				}
				if cfg.Remsh, err = repl.ShortName(remsh); err != nil { // a bare name is on this host, as iex's
					return usageErr(cmd, err.Error())
				}
			}
			switch {
			case sname != "":
				cfg.NodeName, err = repl.ShortName(sname)
			case name != "":
				cfg.NodeName, err = repl.LongName(name)
			case remsh != "":
				cfg.NodeName, err = repl.RemshName(cfg.Remsh)
			}
			if err != nil {
				return usageErr(cmd, err.Error())
			}
			if cfg.NodeName != "" {
				if cfg.Cookie, err = resolveCookie(cookie); err != nil {
					fmt.Fprintln(os.Stderr, "gonode:", err)
					return exitError{2}
				}
			} else if hidden || cookie != "" {
				return usageErr(cmd, "--cookie and --hidden need --sname or --name")
			}
			cfg.Discover, cfg.Join, cfg.GossipPort = discover, join, gossipPort
			if err := repl.CheckDiscoveryFlags(cfg); err != nil {
				return usageErr(cmd, err.Error())
			}
			if remsh != "" && webAddr != "" {
				return usageErr(cmd, "--web does not go with --remsh: start the web view on the node itself")
			}
			cfg.Web, cfg.WebToken = webAddr, webToken
			if metricsAddr != "" {
				if remsh != "" {
					return usageErr(cmd, "--metrics does not go with --remsh: serve the metrics on the node itself")
				}
				if _, err := metrics.Addr(metricsAddr); err != nil {
					return usageErr(cmd, err.Error())
				}
				cfg.Started = metrics.Hook(metricsAddr, cmd.ErrOrStderr())
			}
			cfg.TLSDir, cfg.TLSCert, cfg.TLSKey, cfg.TLSCA = tlsDir, tlsCert, tlsKey, tlsCA
			if err := repl.CheckTLSFlags(cfg); err != nil {
				return usageErr(cmd, err.Error())
			}
			return exitError{repl.Main(cmd.Context(), cfg)}
		},
	}
	f := cmd.Flags()
	f.StringVar(&sname, "sname", "", "short node name, `NAME[@HOST]` (HOST defaults to this machine's short host name)")
	f.StringVar(&name, "name", "", "long node name, `NAME@HOST.DOMAIN` or NAME@IP")
	f.StringVar(&cookie, "cookie", "", "the shared secret (default: $"+cookieEnv+", else ~/.erlang.cookie, created if missing)")
	f.StringVarP(&eval, "eval", "e", "", "evaluate `CODE`, print its value, and exit")
	f.StringVar(&remsh, "remsh", "", "attach a shell to the running node `NAME@HOST` instead of running one here (iex --remsh): snippets run there; this terminal's node is hidden, named remsh_<random>@HOST unless --sname or --name is given")
	f.BoolVar(&erlangDist, "erlang", true, "speak Erlang's distribution protocol with Erlang and Elixir nodes too (same cookie, e.g. ~/.erlang.cookie): accept them, and dial a node whose port mapper entry lacks gonode's mark with it; --erlang=false: gonode's protocol only; off with TLS")
	f.BoolVar(&hidden, "hidden", false, "start a hidden node: it connects only where asked and is not listed by peers")
	f.BoolVar(&noHalt, "no-halt", false, "keep the node running after the script or piped input ends, until killed")
	f.BoolVarP(&quiet, "quiet", "q", false, "keep asynchronous notices (node up/down, remote output) off stdout")
	f.IntVar(&maxMailbox, "max-mailbox", 0, "the most messages a process's mailbox holds (0: no limit); see --mailbox-full")
	f.StringVar(&mailboxFull, "mailbox-full", "drop", "what a send to a full mailbox does: drop (the message) or kill (the process, reason :mailbox_full)")
	f.StringSliceVar(&rpcAllow, "rpc-allow", nil, "let peers call, cast and spawn only functions whose names match a `PATTERN` (path.Match globs such as strings.*; repeat or separate with commas; <literal> allows function literals); default: anything, as in Erlang")
	f.IntVar(&maxPeerCalls, "max-peer-calls", 0, "the most calls of one peer running at once; more are answered with a busy error (0: 1024; negative: no limit)")
	f.DurationVar(&tickTime, "tick-time", 60*time.Second, "drop a silent peer after this long; ticks are sent every quarter (Erlang's net_ticktime)")
	f.StringVar(&discover, "discover", "", "find nodes and connect to them: `HOW` is local (this host's port mapper), static:HOST1,HOST2, dns:NAME, dns:BASE@NAME, dns-srv:NAME or gossip (see README, Discovery)")
	f.StringSliceVar(&join, "join", nil, "join the gossip membership through a member at `HOST:PORT` (its --gossip-port) and connect to every node in it; repeat or separate with commas")
	f.IntVar(&gossipPort, "gossip-port", 0, "the gossip port, TCP and UDP, for --join and --discover gossip (0: 7946)")
	f.StringVar(&webAddr, "web", "", "serve the live web view at `ADDR` (PORT or :PORT bind 127.0.0.1; another host needs --web-token): nodes, loads, processes, supervision trees, names, groups, and actions that send to or kill a process")
	f.StringVar(&webToken, "web-token", "", "the `TOKEN` every web view request must carry (?token=TOKEN), needed to bind an address other hosts can reach")
	f.StringVar(&metricsAddr, "metrics", "", "serve Prometheus metrics at http://`ADDR`/metrics (PORT or :PORT bind 127.0.0.1; 0.0.0.0:PORT for a Prometheus on another host): processes, mailboxes, peers and their traffic, rpc served and failed, Go's and the process's figures")
	f.StringVar(&tlsDir, "tls-dir", "", "talk to peers over mutual TLS with the certificates in `DIR` (made by gonode cert: DIR/ca.pem, DIR/NODE.pem, DIR/NODE-key.pem)")
	f.StringVar(&tlsCert, "tls-cert", "", "mutual TLS: this node's certificate, `FILE` (PEM); with --tls-key and --tls-ca")
	f.StringVar(&tlsKey, "tls-key", "", "mutual TLS: this node's private key, `FILE` (PEM)")
	f.StringVar(&tlsCA, "tls-ca", "", "mutual TLS: the cluster CA's certificate, `FILE` (PEM): peers must present a certificate it signed")
	cmd.AddCommand(&cobra.Command{
		Use:                "cert [-dir DIR] [-days N] NODE...",
		Short:              "Make a cluster CA and node certificates for --tls-dir",
		Long:               repl.CertUsage,
		DisableFlagParsing: true,
		RunE: func(c *cobra.Command, args []string) error {
			if code := repl.RunCert(args, c.OutOrStdout(), c.ErrOrStderr()); code != 0 {
				return exitError{code}
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:                "epmd [-port N] [-daemon | -names | -kill]",
		Short:              "Run the port mapper, or ask the running one (epmd's options)",
		Long:               repl.EPMDUsage,
		DisableFlagParsing: true,
		RunE: func(c *cobra.Command, args []string) error {
			if code := repl.RunEPMD(args, c.OutOrStdout(), c.ErrOrStderr()); code != 0 {
				return exitError{code}
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:       "completion bash|zsh|fish",
		Short:     "Print a shell completion script",
		Example:   "  source <(gonode completion bash)",
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		RunE: func(c *cobra.Command, args []string) error {
			out := c.OutOrStdout()
			switch args[0] {
			case "bash":
				return cmd.GenBashCompletionV2(out, true)
			case "zsh":
				return cmd.GenZshCompletion(out)
			default:
				return cmd.GenFishCompletion(out, true)
			}
		},
	})
	cmd.CompletionOptions.DisableDefaultCmd = true
	cmd.SetVersionTemplate("gonode {{.Version}}\n")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr(c, err.Error()) })
	return cmd
}

// usageErr prints a one-line reason and the hint to --help; exit code 2.
func usageErr(cmd *cobra.Command, msg string) error {
	fmt.Fprintf(cmd.ErrOrStderr(), "gonode: %s\nRun 'gonode --help' for usage.\n", msg)
	return exitError{2}
}
