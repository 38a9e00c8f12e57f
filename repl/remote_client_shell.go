package repl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/repl/eval"
	"github.com/gonode/gonode/repl/term"
)

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
func (c *remoteClient) runShell(cfg Config, interactive bool, interrupts chan struct{}, in *inputState) int {
	sh := &Shell{
		Eval: c.eval, Out: &c.out, Err: &c.errw, Interrupts: interrupts, Check: c.check,
		BeforeEval:      func(context.Context) { in.evaluating.Store(true) },
		AfterEval:       func(eval.Result, error) { in.evaluating.Store(false) },
		Prompt:          func(int, bool) string { return "" },
		ErrorValuesFail: !interactive,
	}
	var close func()
	var err error
	if sh.Lines, sh.StopOnError, sh.Source, close, err = c.input(cfg, interactive, in); err != nil {
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
func (c *remoteClient) input(cfg Config, interactive bool, in *inputState) (term.LineReader, bool, string, func(), error) {
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
		lr, err := term.NewTTYReader(term.TTYConfig{HistoryFile: hist, Complete: c.complete, TTY: cfg.Stdin, Raw: &in.raw})
		if err != nil {
			return nil, false, "", nil, fmt.Errorf("terminal: %w", err)
		}
		in.terminal.Store(true)
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
