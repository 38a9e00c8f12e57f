package repl

import (
	"context"
	"errors"

	"github.com/gonode/gonode/repl/eval"
	"github.com/gonode/gonode/repl/format"
)

// FormatError renders an evaluation error as the shell prints it:
// "** (panic) value" for panics, "** (interrupted)" for a cancelled
// evaluation, "** (error) message" for the rest. It lives with the wiring,
// not in package format, because it knows the shell's own kinds of failure
// (an exit, an exit notice, a helper's error) besides the evaluator's.
func FormatError(err error) string {
	var pe *eval.PanicError
	var se shellError
	var en exitNotice
	var ex shellExit
	switch {
	case errors.As(err, &en):
		return "** (EXIT) " + en.Error()
	case errors.As(err, &ex):
		return "** (exit) " + ex.Error()
	case errors.As(err, &se):
		return "** (error) " + se.Error()
	case errors.As(err, &pe):
		return "** (panic) " + format.Panic(pe.Value)
	case errors.Is(err, context.Canceled):
		return "** (interrupted)"
	case errors.Is(err, context.DeadlineExceeded):
		return "** (timeout)"
	}
	return "** (error) " + err.Error()
}
