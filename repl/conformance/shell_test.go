package conformance

import (
	"bytes"
	"context"
	"os"
	"sync"
	"time"

	"github.com/gonode/gonode/repl"
)

// shelled is what typing a form into the shell did.
type shelled struct {
	stdout string // what the snippets printed, and the values the shell showed
	stderr string // the shell's errors ("** (error) ...", "** (panic) ...")
	log    string // lines written through the standard log package meanwhile
	hung   bool   // the shell had not finished the input when the time ran out
	took   time.Duration
}

// syncBuffer is a bytes.Buffer for a writer that may still be writing
// when the reader looks: the shell of a form that hung.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

// runShell types text into a fresh shell, the one gonode runs (its node,
// helpers and prelude), with the input piped in as `gonode < file` does:
// each line is read as at the prompt, errors do not stop the session.
// logs receives the standard logger's output during the run (the caller
// points the logger at it). A shell still busy after timeout is left
// behind: nothing in the shell can stop a snippet blocked in a host call,
// so its goroutines live on until the test binary exits.
func runShell(text string, timeout time.Duration, logs *syncBuffer) (shelled, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return shelled{}, err
	}
	// The pipe holds the whole form (far below its 64 KiB buffer), so the
	// write does not wait for the shell to read.
	_, err = w.WriteString(text)
	w.Close()
	if err != nil {
		r.Close()
		return shelled{}, err
	}
	logs.Reset()
	var stdout, stderr syncBuffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer r.Close()
		repl.Main(context.Background(), repl.Config{Stdin: r, Stdout: &stdout, Stderr: &stderr})
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	start := time.Now()
	sh := shelled{}
	select {
	case <-done:
	case <-timer.C:
		sh.hung = true
	}
	sh.took = time.Since(start)
	sh.stdout, sh.stderr, sh.log = normalize(stdout.String()), normalize(stderr.String()), normalize(logs.String())
	return sh, nil
}
