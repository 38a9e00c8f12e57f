package term

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creack/pty"
)

func TestPipeReader(t *testing.T) {
	var out strings.Builder
	lr := NewPipeReader(strings.NewReader("x := 1\r\nfunc f() {\n}\nlast"), &out)
	lr.SetPrompt("ignored> ")
	var got []string
	for {
		line, err := lr.ReadLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, line)
	}
	want := []string{"x := 1", "func f() {", "}", "last"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines %q, want %q", got, want)
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			io.WriteString(lr.Stdout(), "async\n")
		}()
	}
	wg.Wait()
	if out.String() != strings.Repeat("async\n", 4) {
		t.Errorf("output %q: prompts or echo leaked", out.String())
	}
	if err := lr.Close(); err != nil {
		t.Error(err)
	}
}

// term drives a LineReader through a pseudo-terminal and collects what it
// draws, with ANSI escapes and carriage returns stripped.
type term struct {
	ptmx *os.File
	mu   sync.Mutex // guards out
	out  strings.Builder
	more chan struct{} // signalled after each read
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\r`)

func newTerm(t *testing.T) (*term, *os.File) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	tm := &term{ptmx: ptmx, more: make(chan struct{}, 1)}
	done := make(chan struct{}) // closed when the reader below returns
	// pty.Open leaves ptmx in blocking mode: closing it does not end a
	// read. Closing tty first does (the read fails with EIO once no one
	// holds the terminal end), then ptmx is closed for good.
	t.Cleanup(func() {
		tty.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second): // a failsafe, not a sleep
			t.Errorf("the pty reader did not end after the terminal was closed")
		}
		ptmx.Close()
	})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.mu.Unlock()
			select {
			case tm.more <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	return tm, tty
}

// waitFor blocks until the screen output contains s.
func (tm *term) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.After(10 * time.Second) // a failsafe, not a sleep
	for {
		tm.mu.Lock()
		text := ansi.ReplaceAllString(tm.out.String(), "")
		tm.mu.Unlock()
		if strings.Contains(text, s) {
			return
		}
		select {
		case <-tm.more:
		case <-deadline:
			t.Fatalf("terminal never showed %q; it shows:\n%s", s, text)
		}
	}
}

func (tm *term) reset() {
	tm.mu.Lock()
	tm.out.Reset()
	tm.mu.Unlock()
}

// complete stands for the shell's completion (eval.Session.Complete):
// one candidate for "strings.ToUp", none for anything else.
func complete(line string, pos int) ([]string, int) {
	if strings.HasSuffix(line[:pos], "strings.ToUp") {
		return []string{"strings.ToUpper"}, pos - len("strings.ToUp")
	}
	return nil, pos
}

func TestTTYReader(t *testing.T) {
	tm, tty := newTerm(t)
	hist := filepath.Join(t.TempDir(), "history")
	raw := make(chan struct{}, 16)
	onRaw := func() {
		select {
		case raw <- struct{}{}:
		default:
		}
	}
	var inRaw atomic.Bool
	lr, err := NewTTYReader(TTYConfig{TTY: tty, Prompt: "iex(n1)1> ", HistoryFile: hist, Complete: complete, Raw: &inRaw, onRaw: onRaw})
	if err != nil {
		t.Fatal(err)
	}
	type read struct {
		line string
		err  error
	}
	// next starts a ReadLine and waits until it has put the terminal in
	// raw mode and drawn its prompt: keys typed earlier would be cooked
	// (the line discipline eats Ctrl-C and Ctrl-D). The prompt alone is not
	// enough: readline may redraw the previous line's prompt after that
	// line has returned (leaving completion mode), in cooked mode.
	next := func(prompt string) chan read {
		t.Helper()
		for len(raw) > 0 {
			<-raw
		}
		tm.reset()
		ch := make(chan read, 1)
		go func() {
			line, err := lr.ReadLine()
			ch <- read{line, err}
		}()
		select {
		case <-raw:
		case <-time.After(10 * time.Second): // a failsafe, not a sleep
			t.Fatalf("ReadLine never put the terminal in raw mode")
		}
		tm.waitFor(t, prompt)
		return ch
	}
	expect := func(ch chan read, line string, want error) {
		t.Helper()
		var r read
		select {
		case r = <-ch:
		case <-time.After(10 * time.Second): // a failsafe, not a sleep
			t.Fatalf("ReadLine did not return; want %q, %v", line, want)
		}
		if r.line != line || !errors.Is(r.err, want) {
			t.Fatalf("ReadLine = %q, %v; want %q, %v", r.line, r.err, line, want)
		}
	}

	ch := next("iex(n1)1> ")
	if !inRaw.Load() {
		t.Fatal("Raw is false while a line is read")
	}
	tm.ptmx.WriteString("x := 1 +\r")
	expect(ch, "x := 1 +", nil)
	if inRaw.Load() {
		t.Fatal("Raw is still true once the line is read")
	}

	lr.SetPrompt("...(n1)1> ") // continuation
	ch = next("...(n1)1> ")
	tm.ptmx.WriteString("2\r")
	expect(ch, "2", nil)

	lr.SetPrompt("iex(n1)2> ")
	ch = next("iex(n1)2> ")
	io.WriteString(lr.Stdout(), "node n2@h up\n") // asynchronous notice
	tm.waitFor(t, "node n2@h up")
	tm.ptmx.WriteString("strings.ToUp\t") // a single candidate: inserted
	tm.waitFor(t, "strings.ToUpper")
	tm.ptmx.WriteString("\r")
	expect(ch, "strings.ToUpper", nil)

	ch = next("iex(n1)2> ")
	tm.ptmx.WriteString("half typed\x03") // Ctrl-C at the prompt
	expect(ch, "half typed", ErrInterrupt)

	ch = next("iex(n1)2> ")
	tm.ptmx.WriteString("\x04") // Ctrl-D on an empty line
	expect(ch, "", io.EOF)

	closed := make(chan error, 1)
	go func() { closed <- lr.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second): // a failsafe, not a sleep
		t.Fatal("Close did not return: readline still waits for a read of the terminal")
	}
	data, err := os.ReadFile(hist)
	if err != nil || !strings.Contains(string(data), "x := 1 +\n") || !strings.Contains(string(data), "strings.ToUpper\n") {
		t.Errorf("history file %q, %v", data, err)
	}
}

// A ReadLine waiting for a key ends with io.EOF once the quit channel
// given to CancelReadOn is closed (a peer's node.Halt), and Close then
// restores the terminal without waiting for a key.
func TestTTYReaderCancelledOnQuit(t *testing.T) {
	tm, tty := newTerm(t)
	raw := make(chan struct{}, 16)
	lr, err := NewTTYReader(TTYConfig{TTY: tty, Prompt: "p> ", onRaw: func() {
		select {
		case raw <- struct{}{}:
		default:
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	quit := make(chan struct{})
	stop := CancelReadOn(lr, quit)
	ch := make(chan error, 1)
	go func() { _, err := lr.ReadLine(); ch <- err }()
	<-raw
	tm.waitFor(t, "p> ")
	close(quit)
	select {
	case err := <-ch:
		if !errors.Is(err, io.EOF) {
			t.Fatalf("ReadLine after quit: %v, want io.EOF", err)
		}
	case <-time.After(10 * time.Second): // a failsafe, not a sleep
		t.Fatal("ReadLine did not return after quit")
	}
	stop()
	closed := make(chan struct{})
	go func() { lr.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second): // a failsafe, not a sleep
		t.Fatal("Close hung after the read was cancelled")
	}
}

func TestCompleterAdapter(t *testing.T) {
	c := completer(func(line string, pos int) ([]string, int) {
		return []string{"strings.ToUpper", "strings.ToLower"}, 2
	})
	got, n := c.Do([]rune("f(strings.To"), 12)
	want := [][]rune{[]rune("Upper"), []rune("Lower")}
	if n != 10 || !reflect.DeepEqual(got, want) {
		t.Errorf("Do = %q, %d", got, n)
	}
}
