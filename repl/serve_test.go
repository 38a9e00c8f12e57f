package repl

import "testing"

// What a SIGINT does depends on where the shell is: it interrupts a
// snippet; at a terminal's prompt (raw mode, where Ctrl-C is a key) or on
// input that is not a terminal, it was sent by someone else and ends the
// node; on a terminal between a line read and its snippet, or between a
// snippet's end and the next prompt, it is a Ctrl-C that came for a
// snippet and is dropped.
func TestInterruptDependsOnWhereTheShellIs(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		evaluating, terminal, raw bool
		want                      sigintAction
	}{
		{"snippet running, terminal", true, true, false, sigintInterrupt},
		{"snippet running, piped input", true, false, false, sigintInterrupt},
		{"terminal at its prompt", false, true, true, sigintExit},
		{"terminal around a snippet", false, true, false, sigintIgnore},
		{"piped input between snippets", false, false, false, sigintExit},
	} {
		var in inputState
		in.evaluating.Store(tc.evaluating)
		in.terminal.Store(tc.terminal)
		in.raw.Store(tc.raw)
		if got := in.onInterrupt(); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
