package main

import "testing"

// A linked process that crashes while the prompt waits replaces the
// shell's process at once, and says so above the prompt, as iex does: no
// later input is needed to see it, and the next snippet runs normally.
func TestInteractiveLinkedCrashNoticeAtOnce(t *testing.T) {
	tm := startTerm(t, t.TempDir(), "--sname", "notice@localhost", "--cookie", "c")
	at := tm.waitFor(0, `notice@localhost> `)
	tm.send("old := self()\n")
	at = tm.waitFor(at, `notice@localhost> `)
	// The crash comes well after the snippet that spawned the child has
	// ended; nothing is typed after it.
	tm.send(`spawnLink(func() { time.Sleep(300 * time.Millisecond); panic("late") }); 1` + "\n")
	at = tm.waitFor(at, `\*\* \(EXIT\) the shell process <notice@localhost\.\d+\.0> exited: .*late.*; new shell process <notice@localhost\.\d+\.0>`)
	tm.send("self() != old\n")
	tm.waitFor(at, `\ntrue\r?\n`)
}
