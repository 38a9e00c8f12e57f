// Package conformance measures how much of ordinary Go the shell runs
// correctly: its one job is the test that types each form of
// testdata/forms.txtar into a fresh shell, compiles the same form as a Go
// program, compares the two outputs and publishes the verdicts in
// docs/go-in-the-shell.md.
//
// A form gets one of four statuses:
//
//   - pass: the shell prints what the compiled program prints (and fails
//     where it panics, with the same message);
//   - refused: the shell fails with a message a student can act on;
//   - wrong: the shell prints something else, or hangs, and says nothing:
//     a silent wrong result, the worst outcome;
//   - unclear: the shell fails with a message about its own insides (nil
//     type, definition loop, a bare reflect message, a runtime error of the
//     interpreter) or writes a stray log line.
//
// Each form carries its expected status in forms.txtar, so the suite stays
// green while the shell is imperfect and fails on any change: a
// regression, or an improvement to record by editing the status. Run
//
//	go test ./repl/conformance/              # check
//	go test ./repl/conformance/ -update      # rewrite docs/go-in-the-shell.md
//
// The shell is the one gonode runs, through repl.Main with the form piped
// in: its node, prelude helpers (spawn, self, ...) and error printing, so
// what passes here passes for a user. The compiled forms are packages of
// one program in a temporary module, built with one go build while the
// shell runs them. A form that does not end within the time limit counts
// as hung; its shell is left behind, since nothing stops a snippet blocked
// in a host call (wg.Wait). Under the race detector the test is skipped:
// it measures the shell's Go, and yaegi under -race is slow enough to
// make the time limit a matter of luck on a busy machine.
//
// The package has no code of its own outside its tests.
package conformance
