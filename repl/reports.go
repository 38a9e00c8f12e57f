package repl

import (
	"fmt"
	"strings"

	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
)

// What the node reports on its own, not as a snippet's result: crashes,
// supervisors' events and growing mailboxes, written to rt.reports as
// iex's logger writes them (stderr, or above the prompt).

// reportEvent prints supervisors' reports and crash reports where the user
// sees them, as iex's logger does.
func (rt *Runtime) reportEvent(e otp.Event) {
	level := "info"
	switch e.Action {
	case otp.ActionNotRestarted, otp.ActionGaveUp, otp.ActionStartFailed:
		level = "error"
	}
	fmt.Fprintf(&rt.reports, "[%s] %v\n", level, e)
}

// reportCrash prints a crash report for a process that ended abnormally
// on this node. (runShipped sends it to the shell of a peer that spawned
// the process.)
func (rt *Runtime) reportCrash(r proc.CrashReport) {
	fmt.Fprint(&rt.reports, crashText(r))
}

// mailboxWarnAt is the mailbox length at which the shell warns, once per
// process: far above what a process that keeps up holds.
const mailboxWarnAt = 100_000

// warnMailbox warns that a process's mailbox grows: it may never receive.
func (rt *Runtime) warnMailbox(pid proc.Pid, length int) {
	fmt.Fprintf(&rt.reports, "[warning] Process %v has %d messages waiting; a mailbox that only grows fills the node's memory (limit them with --max-mailbox)\n", pid, length)
}

// crashText is the report iex prints as "[error] Process #PID<0.120.0>
// raised an exception", with the first frames of the stack.
func crashText(r proc.CrashReport) string {
	var b strings.Builder
	who := r.Pid.String()
	if r.Name != "" {
		who += " (" + r.Name + ")"
	}
	reason := r.Reason
	var pr proc.PanicReason
	if isPanic(reason, &pr) {
		fmt.Fprintf(&b, "[error] Process %s on %s raised an exception\n** (panic) %v\n", who, r.Pid.Node, pr.Value)
		for _, line := range stackLines(pr.StackText(), 4) {
			b.WriteString("    " + line + "\n")
		}
		return b.String()
	}
	fmt.Fprintf(&b, "[error] Process %s on %s exited: %s\n", who, r.Pid.Node, proc.FormatReason(reason))
	return b.String()
}

func isPanic(v any, out *proc.PanicReason) bool {
	switch p := v.(type) {
	case proc.PanicReason:
		*out = p
		return true
	case *proc.PanicReason:
		*out = *p
		return true
	}
	return false
}

// stackLines picks the first n frames of a goroutine stack that are not
// the runtime's, gonode's or the interpreter's own.
func stackLines(stack string, n int) []string {
	var out []string
	lines := strings.Split(stack, "\n")
	for i := 0; i+1 < len(lines) && len(out) < n; i++ {
		fn := strings.TrimSpace(lines[i])
		if fn == "" || strings.HasPrefix(fn, "goroutine ") || strings.HasPrefix(lines[i], "\t") {
			continue
		}
		if strings.HasPrefix(fn, "runtime/") || strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "panic(") ||
			strings.Contains(fn, "github.com/gonode/gonode/") || strings.Contains(fn, "github.com/traefik/yaegi") ||
			strings.HasPrefix(fn, "reflect.") {
			continue
		}
		out = append(out, fn+" "+strings.TrimSpace(lines[i+1]))
	}
	return out
}
