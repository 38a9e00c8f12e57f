package repl

import (
	"io"
	"reflect"
	"testing"

	"github.com/gonode/gonode/repl/eval"
	"github.com/traefik/yaegi/interp"
)

// host is the fake host package the Shell's tests need: Started says that
// a snippet runs. The evaluator's own tests have a fuller one.
type host struct {
	started chan struct{}
}

func newHost() *host { return &host{started: make(chan struct{}, 1)} }

func newTestSession(t testing.TB, h *host) *eval.Session {
	t.Helper()
	return newTestSessionOut(t, h, io.Discard)
}

// newTestSessionOut is a session without a node, what snippets print
// going to out.
func newTestSessionOut(t testing.TB, h *host, out io.Writer) *eval.Session {
	t.Helper()
	s, err := eval.NewSession(eval.Options{
		Exports: interp.Exports{"example.com/node/node": {
			"Started": reflect.ValueOf(func() { h.started <- struct{}{} }),
		}},
		Prelude: `import . "example.com/node"`,
		Stdout:  out,
		Stderr:  io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}
