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
// The package has no code of its own outside its tests.
package conformance
