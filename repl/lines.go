package repl

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/chzyer/readline"
)

// ErrInterrupt is returned by LineReader.ReadLine for Ctrl-C at the prompt.
var ErrInterrupt = errors.New("repl: interrupt")

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
	// Complete is called for Tab; see Session.Complete.
	Complete func(line string, pos int) (cands []string, start int)
	// TTY is the terminal, os.Stdin when nil. Input is read from it and,
	// unless Stdout is set, output written to it.
	TTY    *os.File
	Stdout io.Writer
}

type ttyReader struct {
	rl *readline.Instance
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
	fd := int(tty.Fd())
	var state *readline.State
	var stateMu sync.Mutex // guards state: readline enters and leaves raw mode from its own goroutines
	rc := &readline.Config{
		Prompt:          cfg.Prompt,
		HistoryFile:     cfg.HistoryFile,
		Stdin:           readline.NewCancelableStdin(tty),
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
			}
			return err
		},
		FuncExitRaw: func() error {
			stateMu.Lock()
			defer stateMu.Unlock()
			if state == nil {
				return nil
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
	return &ttyReader{rl: rl}, nil
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
func (t *ttyReader) Close() error       { return t.rl.Close() }

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
