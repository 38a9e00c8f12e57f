package repl

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"
)

// inputState is what the shell loop tells serve about where it is, so
// that serve knows what a SIGINT means.
type inputState struct {
	evaluating atomic.Bool // a snippet runs
	terminal   atomic.Bool // the input is a terminal, read by readline
	raw        atomic.Bool // the terminal is in raw mode (term.TTYConfig.Raw)
}

// What a SIGINT does (inputState.onInterrupt).
type sigintAction int

const (
	sigintInterrupt sigintAction = iota // interrupt the snippet running
	sigintIgnore                        // a Ctrl-C that came too early or too late for a snippet
	sigintExit                          // end the node with exit code 130
)

// onInterrupt: a SIGINT interrupts the snippet that runs. On a terminal in
// raw mode (the prompt) Ctrl-C is a key, so a SIGINT there was sent by
// someone else and ends the node, as it does where the input is not a
// terminal. A terminal outside raw mode with no snippet running is a
// moment around a snippet: the line was read and the snippet has not
// started yet, or it ended and the prompt is not back yet. A Ctrl-C then
// was meant for that snippet and is dropped, rather than ending the node.
func (s *inputState) onInterrupt() sigintAction {
	switch {
	case s.evaluating.Load():
		return sigintInterrupt
	case s.terminal.Load() && !s.raw.Load():
		return sigintIgnore
	default:
		return sigintExit
	}
}

// serve runs the shell loop on a goroutine of its own and waits for its
// exit code, turning SIGINT into an interrupt of the snippet running (or
// exit code 130: see inputState.onInterrupt) and SIGTERM into a normal
// exit. quit closed ends it too, with the loop's verdict or, if the loop is
// blocked reading, quitCode(). With noHalt the end of the input does not
// end it.
func serve(noHalt bool, quit <-chan struct{}, quitCode func() int, run func(interrupts chan struct{}, in *inputState) int) int {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	interrupts := make(chan struct{}, 1)
	var in inputState
	done := make(chan int, 1)

	go func() {
		defer func() {
			// A bug in the shell itself: say so and end with a failure,
			// through Main's deferred clean-up (the terminal's modes, the
			// node), rather than die on this goroutine.
			if r := recover(); r != nil {
				fmt.Fprintf(os.Stderr, "gonode: internal error in the shell: %v\n%s", r, debug.Stack())
				done <- ExitFailed
			}
		}()
		done <- run(interrupts, &in)
	}()

	code := -1
	interrupted := false // a SIGINT was turned into an interrupt of a snippet
	for code < 0 {
		select {
		case code = <-done:
			if noHalt && code == ExitOK {
				if interrupted {
					// The input ended cleanly although a SIGINT came while
					// a snippet ran: it came as that snippet was finishing
					// and cancelled nothing (a cancelled snippet fails the
					// input). It was meant for the node.
					code = 130
					break
				}
				code = -1
				done = nil // the input ended; serve until told to stop
			}
		case <-quit:
			// The shell loop ends at its next read; take its verdict (a
			// snippet that failed before quit() makes it 1) unless it is
			// blocked reading, which a peer's node.Halt does not end.
			select {
			case code = <-done:
			case <-time.After(500 * time.Millisecond):
				code = quitCode()
			}
		case s := <-sigs:
			if s != os.Interrupt {
				code = ExitOK
				break
			}
			switch in.onInterrupt() {
			case sigintInterrupt:
				interrupted = true
				select {
				case interrupts <- struct{}{}:
				default:
				}
			case sigintExit:
				code = 130
			}
		}
	}
	return code
}
