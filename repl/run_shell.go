package repl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gonode/gonode/repl/eval"
	"github.com/gonode/gonode/repl/term"
)

// runShell reads and evaluates the input in the mode cfg asks for and
// returns the exit code.
func (rt *Runtime) runShell(cfg Config, interactive bool, interrupts chan struct{}, in *inputState) int {
	defer rt.startupDone()
	sh := &Shell{
		Session: rt.session, Out: rt.out, Err: rt.errw, Interrupts: interrupts,
		BeforeEval: func(ctx context.Context) {
			rt.snippetStarted()
			rt.evalCtx.Store(&ctx)
			in.evaluating.Store(true)
			rt.inSnippet.Store(true)
		},
		AfterEval: func(res eval.Result, err error) {
			rt.inSnippet.Store(false)
			in.evaluating.Store(false)
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
			HistoryFile: hist, Complete: rt.session.Complete, TTY: cfg.Stdin, Raw: &in.raw,
		})
		if err != nil {
			fmt.Fprintf(rt.errw, "gonode: terminal: %v\n", err)
			return ExitStartup
		}
		defer lr.Close()
		in.terminal.Store(true)
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
