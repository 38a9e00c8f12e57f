package repl

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/epmd"
	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/repl/format"
	"github.com/gonode/gonode/repl/term"
)

// The remsh side of a remote shell (gonode --remsh NODE): a hidden node
// that reads and gathers snippets here, has each evaluated in a session on
// NODE (remsh.Eval, see remote_server.go), and prints what comes back.

// attachTimeout bounds connecting to the node and opening the session.
const attachTimeout = 15 * time.Second

// RemshName makes a name for the node of a remote shell to target, as
// iex --remsh does when neither --sname nor --name is given:
// remsh_<random>@HOST, HOST being the target's when it is localhost, else
// this machine's short or full host name, matching the target's kind.
func RemshName(target string) (string, error) {
	_, host, ok := strings.Cut(target, "@")
	if !ok || host == "" {
		return "", fmt.Errorf("%w: --remsh %q: want name@host", dist.ErrBadNodeName, target)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	alive := "remsh_" + hex.EncodeToString(b[:])
	switch {
	case host == "localhost" || isLoopback(host):
		return alive + "@" + host, nil
	case strings.Contains(host, ".") || net.ParseIP(host) != nil:
		return LongName(alive)
	}
	return ShortName(alive)
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// remoteClient is one remote shell: this terminal's node and its session
// on the target.
type remoteClient struct {
	rt      *Runtime // this node's: the output process (rt.groupLeader) and the writers
	target  string
	session proc.Ref

	out, errw, async swapWriter // where the session's streams go; set once the terminal is
	exited           string     // the last snippet's "** (EXIT) ...": the shell loop's only
	downCode         atomic.Int32
	leaving          atomic.Bool // quit() or node.Halt() ended the session: the target going down is expected

	// While a snippet runs, the target going down is the snippet's answer
	// to judge: the reply of a node.Halt() comes just before the node goes,
	// and the output process may hear of the end before the shell has read
	// that reply.
	downMu     sync.Mutex
	evaluating bool   // guarded by downMu
	downReason string // guarded by downMu: the target went down during the snippet
}

// remoteMain runs a remote shell on cfg.Remsh and returns the exit code:
// 2 if this node cannot start, 1 if the target cannot be reached or does
// not open a session, and otherwise as a local shell's.
func remoteMain(ctx context.Context, cfg Config) int {
	interactive := cfg.Eval == "" && cfg.Script == "" && term.IsTerminal(cfg.Stdin)
	c, code := attach(ctx, cfg)
	if c == nil {
		return code
	}
	defer c.close()
	return serve(false, c.rt.quit, func() int { return int(c.downCode.Load()) },
		func(interrupts chan struct{}, in *inputState) int {
			return c.runShell(cfg, interactive, interrupts, in)
		})
}

// attach starts this hidden node, connects to the target and opens a
// session there.
func attach(ctx context.Context, cfg Config) (*remoteClient, int) {
	c := &remoteClient{target: cfg.Remsh}
	c.out.set(cfg.Stdout)
	c.errw.set(cfg.Stderr)
	c.async.set(cfg.Stdout)
	if cfg.Quiet {
		c.async.set(cfg.Stderr)
	}
	transport, err := tlsTransport(cfg)
	if err == nil {
		var d *dist.Node
		d, err = dist.Start(ctx, dist.Config{
			Name: cfg.NodeName, Cookie: cfg.Cookie, Hidden: true, TickTime: cfg.TickTime, Transport: transport,
			// No port-mapper daemon: with none running there is no node
			// to attach to, and a remsh node should leave nothing behind.
			StartPortMapper: nil,
			Logf:            func(format string, args ...any) { fmt.Fprintf(&c.errw, "gonode: "+format+"\n", args...) },
		})
		if d != nil {
			c.rt = &Runtime{node: d.Proc(), dist: d, async: &c.async, quit: make(chan struct{})}
			c.rt.reports.set(&c.errw)
			c.rt.ctx, c.rt.cancel = context.WithCancel(context.Background())
			c.rt.groupLeader, err = d.Proc().SpawnHandler(c.print, proc.SpawnOptions{Label: "remote shell output from " + cfg.Remsh})
		}
	}
	if err != nil {
		if errors.Is(err, epmd.ErrNameTaken) {
			err = errors.New("the name is already in use on this host")
		}
		fmt.Fprintf(cfg.Stderr, "gonode: cannot start %s: %v\n", cfg.NodeName, err)
		if c.rt != nil {
			c.rt.close()
		}
		return nil, ExitStartup
	}
	c.rt.dist.MonitorNodes(c.rt.groupLeader, true, true) // hidden: this node's connections all are
	actx, cancel := context.WithTimeout(ctx, attachTimeout)
	defer cancel()
	if err := c.rt.dist.Connect(actx, c.target); err != nil {
		fmt.Fprintf(cfg.Stderr, "gonode: cannot attach a remote shell to %s: %s\n", c.target, connectReason(c.target, err))
		c.rt.close()
		return nil, ExitFailed
	}
	v, err := c.rt.dist.RPC(actx, c.target, "remsh.Open", c.rt.groupLeader)
	ref, ok := v.(proc.Ref)
	if err == nil && !ok {
		err = fmt.Errorf("remsh.Open answered %v", format.Value(v))
	}
	if err != nil {
		if errors.Is(err, dist.ErrUndef) {
			err = errors.New("it does not serve remote shells (a Go program that embeds a node allows them with repl.ServeRemoteShell)")
		}
		fmt.Fprintf(cfg.Stderr, "gonode: cannot attach a remote shell to %s: %v\n", c.target, err)
		c.rt.close()
		return nil, ExitFailed
	}
	c.session = ref
	return c, ExitOK
}

// close ends the session (the target keeps running) and stops this node.
func (c *remoteClient) close() {
	c.rt.dist.MonitorNodes(c.rt.groupLeader, false, false) // leaving is not the target going down
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	_, _ = c.rt.dist.RPC(ctx, c.target, "remsh.Close", c.session)
	cancel()
	c.rt.close()
}
