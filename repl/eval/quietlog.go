package eval

import (
	"bytes"
	"io"
	"log"
	"sync"
)

// yaegi's compiler reports some inputs it cannot type ("for i := range
// 3" in v0.16.1) with log.Panic("nil type"): the standard logger prints a
// timestamped line on stderr before the panic becomes the evaluation's
// error. The shell reports that error itself, so the standard logger's
// output is filtered, for the whole program: those lines are dropped,
// every other line passes through to the writer it had.

var quietMu sync.Mutex

// quietYaegiLog installs the filter on the standard logger unless it is
// there. Each new environment checks again: a program (or a test) that
// sets the logger's output after the first one would otherwise get
// yaegi's lines back.
func quietYaegiLog() {
	quietMu.Lock()
	defer quietMu.Unlock()
	if _, ok := log.Writer().(*yaegiLogFilter); !ok {
		log.SetOutput(&yaegiLogFilter{w: log.Writer()})
	}
}

// yaegiLogFilter drops the lines of yaegi's compiler panics. The logger
// writes one whole line per Write, under its own lock.
type yaegiLogFilter struct{ w io.Writer }

// yaegiPanics are the messages yaegi v0.16.1 logs before panicking
// (interp/scope.go).
var yaegiPanics = [][]byte{[]byte(" nil type\n"), []byte(" nil reflect type\n")}

func (f *yaegiLogFilter) Write(p []byte) (int, error) {
	for _, m := range yaegiPanics {
		if bytes.HasSuffix(p, m) || bytes.Equal(p, m[1:]) {
			return len(p), nil
		}
	}
	return f.w.Write(p)
}
