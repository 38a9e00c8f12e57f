// Package term is the shell's terminal: it reads input one line at a time,
// with line editing, history and Tab completion on a terminal (readline)
// and plainly from a pipe, writes asynchronous output above the prompt, and
// saves and restores the terminal's modes. It knows nothing of what the
// lines mean: completion is a function it is given, so that a remote shell
// (--remsh) uses it without an evaluator. Imports: readline,
// golang.org/x/sys and the standard library.
package term

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chzyer/readline"
)

// ErrInterrupt is returned by LineReader.ReadLine for Ctrl-C at the prompt.
var ErrInterrupt = errors.New("term: interrupt")

// LineReader reads shell input one line at a time. ReadLine, SetPrompt and
// Close are for the shell loop's goroutine; Stdout is safe for concurrent
// use by any goroutine.
type LineReader interface {
	// ReadLine returns the next line without its line ending. On a
	// terminal, Ctrl-C at the prompt returns ErrInterrupt and Ctrl-D on an
	// empty line io.EOF; piped input ends with io.EOF.
	ReadLine() (string, error)
	// SetPrompt sets the prompt of the next ReadLine: the continuation
	// prompt while input is unfinished. Piped input shows no prompt.
	SetPrompt(prompt string)
	// Stdout is where output that arrives while the user types (messages,
	// node up/down notices) goes: on a terminal it is written above the
	// prompt, which is redrawn.
	Stdout() io.Writer
	// Close restores the terminal and saves history. Do not call it while
	// ReadLine runs in another goroutine (readline may hang).
	Close() error
}

// IsTerminal reports whether f is a terminal: the shell uses readline then,
// and bufio otherwise.
func IsTerminal(f *os.File) bool { return readline.IsTerminal(int(f.Fd())) }

// TTYConfig configures a terminal LineReader; NewTTYReader only reads it.
type TTYConfig struct {
	Prompt      string
	HistoryFile string // "" for no history across sessions
	// Complete is called for Tab with the line and the cursor position; it
	// returns the candidates and where the fragment they complete starts.
	Complete func(line string, pos int) (cands []string, start int)
	// TTY is the terminal, os.Stdin when nil. Input is read from it and,
	// unless Stdout is set, output written to it.
	TTY    *os.File
	Stdout io.Writer
	// Raw, if set, is true while the terminal is in raw mode, that is
	// while a line is being read: Ctrl-C is then a key, not a SIGINT.
	Raw *atomic.Bool

	onRaw func() // for tests: called each time the terminal enters raw mode
}

type ttyReader struct {
	rl  *readline.Instance
	in  *readline.CancelableStdin // what readline reads the terminal through
	tty *os.File
}

// NewTTYReader returns a readline LineReader on a terminal.
func NewTTYReader(cfg TTYConfig) (LineReader, error) {
	tty := cfg.TTY
	if tty == nil {
		tty = os.Stdin
	}
	out := cfg.Stdout
	if out == nil {
		out = tty
		if cfg.TTY == nil {
			out = os.Stdout
		}
	}
	fd, err := fdOf(tty)
	if err != nil {
		return nil, err
	}
	// A deadline left by an earlier reader's Close (see ttyReader.Close)
	// would fail every read; files without deadlines return an error here.
	tty.SetReadDeadline(time.Time{})
	in := readline.NewCancelableStdin(tty)
	var state *readline.State
	var stateMu sync.Mutex // guards state: readline enters and leaves raw mode from its own goroutines
	rc := &readline.Config{
		Prompt:          cfg.Prompt,
		HistoryFile:     cfg.HistoryFile,
		Stdin:           in,
		Stdout:          out,
		Stderr:          out,
		InterruptPrompt: "^C",
		EOFPrompt:       "\n",
		FuncIsTerminal:  func() bool { return true },
		FuncGetWidth: func() int {
			if w, _, err := readline.GetSize(fd); err == nil && w > 0 {
				return w
			}
			return 80
		},
		FuncMakeRaw: func() error {
			stateMu.Lock()
			defer stateMu.Unlock()
			st, err := readline.MakeRaw(fd)
			if err == nil {
				state = st
				if cfg.Raw != nil {
					cfg.Raw.Store(true)
				}
				if cfg.onRaw != nil {
					cfg.onRaw()
				}
			}
			return err
		},
		FuncExitRaw: func() error {
			stateMu.Lock()
			defer stateMu.Unlock()
			if state == nil {
				return nil
			}
			if cfg.Raw != nil {
				cfg.Raw.Store(false)
			}
			err := readline.Restore(fd, state)
			state = nil
			return err
		},
	}
	if cfg.Complete != nil {
		rc.AutoComplete = completer(cfg.Complete)
	}
	rl, err := readline.NewEx(rc)
	if err != nil {
		return nil, err
	}
	return &ttyReader{rl: rl, in: in, tty: tty}, nil
}

// fdOf returns f's descriptor without f.Fd, which would switch f to
// blocking mode: a read of a pseudo-terminal opened by a test could then no
// longer be interrupted by a deadline or by closing it.
func fdOf(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return int(f.Fd()), nil
	}
	fd := -1
	if err := rc.Control(func(u uintptr) { fd = int(u) }); err != nil {
		return 0, err
	}
	return fd, nil
}

func (t *ttyReader) ReadLine() (string, error) {
	line, err := t.rl.Readline()
	if errors.Is(err, readline.ErrInterrupt) {
		return line, ErrInterrupt
	}
	return line, err
}

func (t *ttyReader) SetPrompt(p string) { t.rl.SetPrompt(p) }
func (t *ttyReader) Stdout() io.Writer  { return t.rl.Stdout() }

// Close ends readline's read of the terminal before closing readline.
// readline wraps Config.Stdin in a reader whose Close does not close the
// reader it wraps, and Instance.Close waits for its terminal loop, which
// may be inside a read (a kick left over from an earlier line starts one
// after Ctrl-D): without closing in first, Close could wait for ever for a
// key. The goroutine that CancelableStdin runs may still sit in a read of
// the terminal; where the terminal supports deadlines, one in the past ends
// that read too, so no goroutine is left reading it. On a blocking
// terminal (os.Stdin), that read ends with the next key or with the process.
func (t *ttyReader) Close() error {
	t.in.Close()
	t.tty.SetReadDeadline(time.Unix(1, 0))
	return t.rl.Close()
}

// cancel ends a ReadLine running in another goroutine, which returns
// io.EOF, as does every later one; Close still restores the terminal.
// Safe from any goroutine: readline reads the terminal through in, whose
// Close is made for that.
func (t *ttyReader) cancel() { t.in.Close() }

// CancelReadOn ends the input of lr once quit is closed: a ReadLine that
// waits for a key returns io.EOF then, so that the shell loop ends and
// restores the terminal (a peer's node.Halt, the node of a remote shell
// going down). Input that cannot be cancelled (a pipe) is left alone.
// stop ends the watch and waits for it.
func CancelReadOn(lr LineReader, quit <-chan struct{}) (stop func()) {
	t, ok := lr.(*ttyReader)
	if !ok {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-quit:
			t.cancel()
		case <-done:
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// completer adapts a completion function to readline, which wants the
// remainders of the candidates after the typed fragment.
type completer func(line string, pos int) ([]string, int)

func (c completer) Do(line []rune, pos int) ([][]rune, int) {
	prefix := string(line[:pos])
	cands, start := c(string(line), len(prefix))
	frag := []rune(prefix[start:])
	out := make([][]rune, 0, len(cands))
	for _, s := range cands {
		out = append(out, []rune(s)[len(frag):])
	}
	return out, len(frag)
}

// pipeReader reads piped input: no prompt, no echo, no editing.
type pipeReader struct {
	r   *bufio.Reader
	out io.Writer
}

// NewPipeReader returns a LineReader for input that is not a terminal.
// Stdout writes to out, serialized.
func NewPipeReader(in io.Reader, out io.Writer) LineReader {
	return &pipeReader{r: bufio.NewReader(in), out: &syncWriter{w: out}}
}

func (p *pipeReader) ReadLine() (string, error) {
	line, err := p.r.ReadString('\n')
	if err == io.EOF && line != "" {
		err = nil
	}
	return strings.TrimRight(line, "\r\n"), err
}

func (p *pipeReader) SetPrompt(string)  {}
func (p *pipeReader) Stdout() io.Writer { return p.out }
func (p *pipeReader) Close() error      { return nil }

// syncWriter serializes writes from concurrent goroutines.
type syncWriter struct {
	mu sync.Mutex // guards w
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}
