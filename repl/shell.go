package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// ErrUnfinished is returned by Shell.Run with StopOnError when the input
// ends in the middle of a snippet.
var ErrUnfinished = errors.New("repl: input ended in the middle of a snippet")

// Shell is the read-eval-print loop: it reads lines, gathers them until
// they form a complete snippet (showing the continuation prompt meanwhile),
// evaluates the snippet in the session and prints the result. Set the
// fields, then call Run once, from one goroutine.
type Shell struct {
	Session *Session
	Lines   LineReader
	// Out receives results, Err errors and notices; both default to
	// Lines.Stdout().
	Out, Err io.Writer
	// Prompt returns the prompt before input number n (counting evaluated
	// snippets from 1); cont is set for continuation lines. Default
	// "gonode(n)> " and "...(n)> ".
	Prompt func(n int, cont bool) string
	// Interrupts delivers Ctrl-C while a snippet runs, when the terminal is
	// in normal mode and Ctrl-C arrives as SIGINT: the snippet is cancelled
	// (see Session.Eval). The wiring feeds it from os/signal. Ctrl-C at the
	// prompt comes from Lines instead and discards the unfinished input.
	Interrupts <-chan struct{}
	// StopOnError makes Run return at the first error, as a script runner
	// does; otherwise errors are printed and the loop goes on, as iex does.
	StopOnError bool
	// BeforeEval, if set, is called with each snippet's context just before
	// it is evaluated, and AfterEval with its outcome.
	BeforeEval func(ctx context.Context)
	AfterEval  func(res Result, err error)
	// Failed counts the snippets that failed (incomplete input at the end
	// included).
	Failed int
}

// Run loops until the input ends (returning nil), ctx is done (returning
// ctx.Err()), reading fails, or, with StopOnError, a snippet fails.
func (sh *Shell) Run(ctx context.Context) error {
	out, errw := sh.Out, sh.Err
	if out == nil {
		out = sh.Lines.Stdout()
	}
	if errw == nil {
		errw = sh.Lines.Stdout()
	}
	prompt := sh.Prompt
	if prompt == nil {
		prompt = func(n int, cont bool) string {
			if cont {
				return fmt.Sprintf("...(%d)> ", n)
			}
			return fmt.Sprintf("gonode(%d)> ", n)
		}
	}
	n := 1
	var buf strings.Builder
	for {
		sh.Lines.SetPrompt(prompt(n, buf.Len() > 0))
		line, err := sh.Lines.ReadLine()
		switch {
		case errors.Is(err, ErrInterrupt):
			buf.Reset()
			continue
		case errors.Is(err, io.EOF):
			if strings.TrimSpace(buf.String()) != "" {
				sh.Failed++
				fmt.Fprintln(errw, FormatError(ErrUnfinished))
				if sh.StopOnError {
					return ErrUnfinished
				}
			}
			return nil
		case err != nil:
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		buf.WriteString(line)
		buf.WriteString("\n")
		src := buf.String()
		if NeedsMore(src) {
			continue
		}
		buf.Reset()
		if strings.TrimSpace(src) == "" {
			continue
		}
		n++
		res, err := sh.eval(ctx, src)
		if sh.AfterEval != nil {
			sh.AfterEval(res, err)
		}
		if err != nil {
			sh.Failed++
			fmt.Fprintln(errw, FormatError(err))
		} else if s := res.String(); s != "" {
			fmt.Fprintln(out, s)
		}
		if res.Notice != "" {
			fmt.Fprintln(errw, "** ("+res.Notice+")")
		}
		if err != nil && sh.StopOnError {
			return err
		}
	}
}

// eval evaluates one snippet, cancelling it when an interrupt arrives.
func (sh *Shell) eval(ctx context.Context, src string) (Result, error) {
	ectx, cancel := context.WithCancel(ctx)
	defer cancel()
	if sh.Interrupts != nil {
		var wg sync.WaitGroup
		done := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-sh.Interrupts:
				cancel()
			case <-done:
			}
		}()
		defer wg.Wait()
		defer close(done)
	}
	if sh.BeforeEval != nil {
		sh.BeforeEval(ectx)
	}
	return sh.Session.Eval(ectx, src)
}
