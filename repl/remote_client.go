package repl

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/epmd"
	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/repl/eval"
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
		func(interrupts chan struct{}, evaluating *atomic.Bool) int {
			return c.runShell(cfg, interactive, interrupts, evaluating)
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

// print is this node's output process: the session's streams, the output
// of processes it spawned on other nodes (as a shell's group leader), and
// the target going down, which ends the shell.
func (c *remoteClient) print(p *proc.Process, msg any) {
	switch m := msg.(type) {
	case []any:
		if len(m) == 3 && m[0] == remshTag {
			stream, _ := m[1].(string)
			text, _ := m[2].(string)
			w := &c.out
			switch stream {
			case "err":
				w = &c.errw
			case "async":
				w = &c.async
			}
			_, _ = w.Write([]byte(text))
			return
		}
	case dist.NodeDown:
		if m.Node != c.target {
			return
		}
		reason := fmt.Sprint(m.Reason)
		c.downMu.Lock()
		if c.evaluating {
			c.downReason = reason // eval decides, once it has the reply
			c.downMu.Unlock()
			return
		}
		c.downMu.Unlock()
		c.targetDown(reason)
		return
	case dist.NodeUp:
		return
	}
	c.rt.printOutput(p, msg)
}

// eval has the session evaluate one snippet, then waits until what it
// printed (which came before the answer, on the same connection) is out.
func (c *remoteClient) eval(ctx context.Context, src string) (eval.Result, error) {
	c.downMu.Lock()
	c.evaluating = true
	c.downMu.Unlock()
	v, err := c.rt.dist.RPC(ctx, c.target, "remsh.Eval", c.session, src)
	c.rt.flushOutput()
	res, err := c.evalAnswer(ctx, v, err)
	c.downMu.Lock()
	c.evaluating = false
	reason := c.downReason
	c.downReason = ""
	c.downMu.Unlock()
	if reason != "" {
		c.targetDown(reason)
	}
	return res, err
}

// targetDown ends the shell when the target went down, unless the session
// ended itself (quit(), node.Halt()).
func (c *remoteClient) targetDown(reason string) {
	if c.leaving.Load() {
		return
	}
	fmt.Fprintf(&c.errw, "** node %s down: %s; the remote shell is over\n", c.target, reason)
	c.downCode.Store(ExitFailed)
	c.rt.halt()
}

// evalAnswer turns the session's answer to a snippet into its result.
func (c *remoteClient) evalAnswer(ctx context.Context, v any, err error) (eval.Result, error) {
	switch {
	case err != nil && ctx.Err() != nil:
		return eval.Result{}, ctx.Err() // Ctrl-C: the rpc's cancel reached the session
	case errors.Is(err, dist.ErrNodeDown):
		return eval.Result{}, shellError{Err: fmt.Errorf("%s is down: the remote shell is over", c.target)}
	case err != nil:
		return eval.Result{}, shellError{Err: err}
	}
	r, err := evalReplyFrom(v)
	if err != nil {
		return eval.Result{}, err
	}
	c.exited = r.Exited
	if r.Quit {
		c.leaving.Store(true)
		c.rt.halt()
	}
	return r.result()
}

// check is the shell loop's Check: the session's shell process died
// during the snippet.
func (c *remoteClient) check() error {
	e := c.exited
	c.exited = ""
	if e == "" {
		return nil
	}
	return failureFrom(e)
}

// complete asks the session for Tab completions; nothing if it does not
// answer within a second, so that Tab never hangs the terminal.
func (c *remoteClient) complete(line string, pos int) ([]string, int) {
	ctx, cancel := context.WithTimeout(c.rt.ctx, time.Second)
	defer cancel()
	v, err := c.rt.dist.RPC(ctx, c.target, "remsh.Complete", c.session, line, pos)
	r, ok := v.([]any)
	if err != nil || !ok || len(r) != 2 {
		return nil, pos
	}
	list, _ := r[0].([]any)
	start, ok := r[1].(int)
	if s64, old := r[1].(int64); old { // a peer of before the codec decoded integers as int
		start, ok = int(s64), true
	}
	if !ok || start < 0 || start > pos {
		return nil, pos
	}
	var cands []string
	for _, x := range list {
		if s, ok := x.(string); ok && strings.HasPrefix(s, line[start:pos]) {
			cands = append(cands, s)
		}
	}
	return cands, int(start)
}

// runShell reads snippets here and has the session evaluate them.
func (c *remoteClient) runShell(cfg Config, interactive bool, interrupts chan struct{}, evaluating *atomic.Bool) int {
	sh := &Shell{
		Eval: c.eval, Out: &c.out, Err: &c.errw, Interrupts: interrupts, Check: c.check,
		BeforeEval:      func(context.Context) { evaluating.Store(true) },
		AfterEval:       func(eval.Result, error) { evaluating.Store(false) },
		Prompt:          func(int, bool) string { return "" },
		ErrorValuesFail: !interactive,
	}
	var close func()
	var err error
	if sh.Lines, sh.StopOnError, sh.Source, close, err = c.input(cfg, interactive); err != nil {
		fmt.Fprintf(cfg.Stderr, "gonode: %v\n", err)
		return ExitStartup
	}
	defer close()
	if interactive {
		name := c.target
		sh.Prompt = func(_ int, cont bool) string {
			if cont {
				return strings.Repeat(" ", max(0, len(name)-3)) + "...> "
			}
			return name + "> "
		}
		fmt.Fprintf(&c.out, "gonode %s: a remote shell on %s (this terminal is the hidden node %s). Ctrl-D or quit() leaves; %s keeps running.\n",
			cfg.Version, c.target, c.rt.node.Name(), c.target)
	}
	sh.Lines = haltReader{sh.Lines, c.rt.quit}
	err = sh.Run(c.rt.ctx)
	switch {
	case err != nil && !errors.Is(err, context.Canceled) && sh.Failed == 0:
		fmt.Fprintf(&c.errw, "gonode: %v\n", err)
		return ExitFailed
	case sh.Failed > 0 || c.downCode.Load() != 0:
		return ExitFailed
	}
	return ExitOK
}

// input opens what the shell reads, as a local shell does: -e, a script,
// the terminal (whose Stdout then takes every stream), or piped input.
func (c *remoteClient) input(cfg Config, interactive bool) (term.LineReader, bool, string, func(), error) {
	switch {
	case cfg.Eval != "":
		return term.NewPipeReader(strings.NewReader(cfg.Eval+"\n"), &c.out), true, "", func() {}, nil
	case cfg.Script != "":
		f, err := os.Open(cfg.Script)
		if err != nil {
			return nil, false, "", nil, err
		}
		return term.NewPipeReader(f, &c.out), true, cfg.Script, func() { f.Close() }, nil
	case interactive:
		hist := ""
		if home, _ := os.UserHomeDir(); home != "" {
			hist = filepath.Join(home, ".gonode_history")
		}
		lr, err := term.NewTTYReader(term.TTYConfig{HistoryFile: hist, Complete: c.complete, TTY: cfg.Stdin})
		if err != nil {
			return nil, false, "", nil, fmt.Errorf("terminal: %w", err)
		}
		c.out.set(lr.Stdout())
		c.errw.set(lr.Stdout())
		if !cfg.Quiet {
			c.async.set(lr.Stdout())
		}
		stop := term.CancelReadOn(lr, c.rt.quit) // the target going down ends the read: the terminal is restored
		return lr, false, "", func() { stop(); lr.Close() }, nil
	}
	return term.NewPipeReader(cfg.Stdin, &c.out), false, "", func() {}, nil
}

// close ends the session (the target keeps running) and stops this node.
func (c *remoteClient) close() {
	c.rt.dist.MonitorNodes(c.rt.groupLeader, false, false) // leaving is not the target going down
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	_, _ = c.rt.dist.RPC(ctx, c.target, "remsh.Close", c.session)
	cancel()
	c.rt.close()
}
