package repl

import "testing"

// OTP 25: a function that exits in an rpc gives the caller the exit
// reason, not a crash of the rpc machinery (with two nodes,
// :erpc.call(node, :erlang, :exit, [:bye]) exits {:exception, :bye}, and
// :rpc.call(node, :erlang, :exit, [:bye]) returns {:badrpc, {:EXIT, :bye}}).
// Here: an error of kind exit carrying the reason.
func TestRPCExitGivesTheReason(t *testing.T) {
	port := freeEPMDPort(t)
	n1 := startShell(t, "exit1@localhost", port)
	n2 := startShell(t, "exit2@localhost", port)
	n1.must(`connect("exit2@localhost")`, "true")
	n2.must(`func Leave() { exit(node.Atom("bye")) }`, "")
	n1.must(`rpc("exit2@localhost", "Leave")`, "** (error) remote exit: :bye") // an error value: "** (error)"
	n2.must(`func Fine() int { return 1 }`, "")
	n1.must(`rpc("exit2@localhost", "Fine")`, "1") // the node serves on
}

// OTP 25: a process that dies of a failing BIF exits with the BIF's error
// atom, which a monitor can match (spawn_monitor(fn -> Process.link(dead)
// end) gives DOWN reason {:noproc, stack}; spawn_monitor(fn ->
// send(:nobody_here, :hi) end) gives {:badarg, stack}). The shell's
// helpers give the atom alone, having no Erlang stack.
func TestHelperFailureExitReasonIsAnAtom(t *testing.T) {
	port := freeEPMDPort(t)
	n1 := startShell(t, "atoms@localhost", port)
	n1.must(`dead, _ := spawnMonitor(func() {}); _ = receive(10*time.Second); dead == self()`, "false")
	n1.must(`_, r1 := spawnMonitor(func() { link(dead) }); receive(10*time.Second).(node.DownMsg).Reason == node.NoProc`, "true")
	n1.must(`_, r2 := spawnMonitor(func() { send("nobody_here", 1) }); receive(10*time.Second).(node.DownMsg).Reason == node.Atom("badarg")`, "true")
	n1.must(`_, r3 := spawnMonitor(func() { unregister("nobody_here") }); receive(10*time.Second).(node.DownMsg).Reason`, ":badarg")
}
