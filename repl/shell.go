package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/gonode/gonode/repl/eval"
	"github.com/gonode/gonode/repl/syntax"
	"github.com/gonode/gonode/repl/term"
)

// ErrUnfinished is returned by Shell.Run with StopOnError when the input
// ends in the middle of a snippet.
var ErrUnfinished = errors.New("repl: input ended in the middle of a snippet")

// Shell is the read-eval-print loop: it reads lines, gathers them until
// they form a complete snippet (showing the continuation prompt meanwhile),
// evaluates the snippet in the session and prints the result. Set the
// fields, then call Run once, from one goroutine.
type Shell struct {
	Session *eval.Session
	// Eval, if set, evaluates each snippet instead of Session.Eval: a
	// remote shell's, which has another node's session evaluate it.
	Eval  func(ctx context.Context, src string) (eval.Result, error)
	Lines term.LineReader
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
	AfterEval  func(res eval.Result, err error)
	// ErrorValuesFail makes a snippet whose printed value is an error
	// ("** (error) ...": an rpc's remote undef, a node down, a timeout)
	// count as failed, as scripts, -e and piped input want; the value is
	// printed on Err either way.
	ErrorValuesFail bool
	// Check, if set, is called after each snippet; an error it returns
	// (the shell's process exited meanwhile, killed through a link) is
	// printed and counts the snippet as failed.
	Check func() error
	// Source names the input in error messages: set (a script's path),
	// every failure is printed with the file and line it comes from
	// ("** (error) setup.gos:4: undefined: nosuch"); empty, a failure in a
	// snippet of several lines names the line within the snippet.
	Source string
	// Failed counts the snippets that failed (incomplete input at the end
	// included).
	Failed int
}

// ErrErrorValue is returned by Shell.Run with StopOnError and
// ErrorValuesFail when a snippet's value is an error.
var ErrErrorValue = errors.New("repl: the snippet's value is an error")

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
	line, first := 0, 0 // lines read; the first line of the snippet being gathered
	for {
		sh.Lines.SetPrompt(prompt(n, buf.Len() > 0))
		text, err := sh.Lines.ReadLine()
		switch {
		case errors.Is(err, term.ErrInterrupt):
			buf.Reset()
			continue
		case errors.Is(err, io.EOF):
			if strings.TrimSpace(buf.String()) != "" {
				sh.Failed++
				fmt.Fprintln(errw, sh.locate(FormatError(ErrUnfinished), first, line))
				if sh.StopOnError {
					return ErrUnfinished
				}
			}
			// The session plays main: what was deferred at the prompt runs
			// now, the last first (repl/eval/lower_defer.go).
			if sh.Eval == nil && sh.Session != nil && sh.Session.HasDeferred() {
				if _, err := sh.eval(ctx, eval.RunDeferredSrc); err != nil {
					sh.Failed++
					fmt.Fprintln(errw, FormatError(err))
					if sh.StopOnError {
						return err
					}
				}
			}
			return nil
		case err != nil:
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		line++
		if strings.TrimSpace(buf.String()) == "" {
			first = line
		}
		buf.WriteString(text)
		buf.WriteString("\n")
		src := buf.String()
		if syntax.NeedsMore(src) {
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
		if ex := (shellExit{}); sh.StopOnError && errors.As(err, &ex) && ex.normal() {
			return nil // exit(:normal) ends a script quietly, with success, as in elixir
		}
		switch {
		case err != nil:
			sh.Failed++
			fmt.Fprintln(errw, sh.locate(FormatError(err), first, line))
		case res.IsError():
			fmt.Fprintln(errw, sh.locate(res.String(), first, line))
			if sh.ErrorValuesFail {
				sh.Failed++
				err = ErrErrorValue
			}
		default:
			if s := res.String(); s != "" {
				fmt.Fprintln(out, s)
			}
		}
		if res.Notice != "" {
			fmt.Fprintln(errw, "** ("+res.Notice+")")
		}
		if sh.Check != nil {
			if cerr := sh.Check(); cerr != nil {
				fmt.Fprintln(errw, sh.locate(FormatError(cerr), first, line))
				if err == nil {
					sh.Failed++
					err = cerr
				}
			}
		}
		if err != nil && sh.StopOnError {
			return err
		}
	}
}

// lineRE matches the position an error message starts with, relative to
// its snippet: "3:7: " (syntax) or "line 3: " (compile errors).
var lineRE = regexp.MustCompile(`^(?:line )?(\d+)(?::\d+)?: `)

// locate adds the file and line to a printed failure ("** (kind) text")
// of the snippet on lines first..last of the input, when Source is set:
// the line the message names (counted within the snippet), else the
// snippet's first line.
func (sh *Shell) locate(msg string, first, last int) string {
	if sh.Source == "" || !strings.HasPrefix(msg, "** (") {
		return msg
	}
	i := strings.Index(msg, ") ")
	if i < 0 {
		return msg
	}
	head, body := msg[:i+2], msg[i+2:]
	at := first
	if m := lineRE.FindStringSubmatch(body); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil && n >= 1 && first+n-1 <= last {
			at = first + n - 1
			body = body[len(m[0]):]
		}
	}
	return fmt.Sprintf("%s%s:%d: %s", head, sh.Source, at, body)
}

// eval evaluates one snippet, cancelling it when an interrupt arrives.
func (sh *Shell) eval(ctx context.Context, src string) (eval.Result, error) {
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
	if sh.Eval != nil {
		return sh.Eval(ectx, src)
	}
	return sh.Session.Eval(ectx, src)
}
