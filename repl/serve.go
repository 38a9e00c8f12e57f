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

// serve runs the shell loop on a goroutine of its own and waits for its
// exit code, turning SIGINT into an interrupt of the snippet running (or
// exit code 130 at the prompt, where the terminal is not raw) and SIGTERM
// into a normal exit. quit closed ends it too, with the loop's verdict or,
// if the loop is blocked reading, quitCode(). With noHalt the end of the
// input does not end it.
func serve(noHalt bool, quit <-chan struct{}, quitCode func() int, run func(interrupts chan struct{}, evaluating *atomic.Bool) int) int {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	interrupts := make(chan struct{}, 1)
	var evaluating atomic.Bool
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
		done <- run(interrupts, &evaluating)
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
			switch {
			case s == os.Interrupt && evaluating.Load():
				interrupted = true
				select {
				case interrupts <- struct{}{}:
				default:
				}
			case s == os.Interrupt:
				code = 130
			default:
				code = ExitOK
			}
		}
	}
	return code
}
