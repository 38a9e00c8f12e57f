package repl

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// Output crosses nodes as in Erlang: a process prints through the group
// leader of the shell that spawned it, which prints each line marked with
// the node.

// outputTag marks the messages that carry a remote process's output to the
// group leader of the node that spawned it: [outputTag, node, text].
// reportTag marks its crash report, which the group leader prints where
// reports go (stderr in scripts): [reportTag, node, text].
const (
	outputTag = proc.Atom("gonode_output")
	reportTag = proc.Atom("gonode_report")
)

// withOutput makes the calls made under ctx carry this shell's group
// leader, so that what the called function prints comes out here, as with
// erpc (dist.WithGroupLeader).
func (rt *Runtime) withOutput(ctx context.Context) context.Context {
	if rt.groupLeader.IsZero() {
		return ctx
	}
	return dist.WithGroupLeader(ctx, rt.groupLeader)
}

// callOutput is where a call from a peer prints: the caller's group
// leader when the call brought one (see withOutput), else nil (this
// node's own output).
func (rt *Runtime) callOutput(ctx context.Context) io.Writer {
	if gl, ok := dist.GroupLeader(ctx); ok && gl != rt.groupLeader {
		return &groupLeaderWriter{node: rt.node, gl: gl}
	}
	return nil
}

// groupLeaderWriter sends what a process writes to its group leader on
// the spawning node, as Erlang's group leader does.
type groupLeaderWriter struct {
	node *proc.Node
	gl   proc.Pid
	tag  proc.Atom // outputTag if zero
}

func (w *groupLeaderWriter) Write(b []byte) (int, error) {
	tag := w.tag
	if tag == "" {
		tag = outputTag
	}
	_ = w.node.Send(w.gl, []any{tag, w.node.Name(), string(b)})
	return len(b), nil
}

// printOutput is the group leader: it prints the output and crash reports
// of processes spawned from this shell on other nodes, each line marked
// with the node.
func (rt *Runtime) printOutput(_ *proc.Process, msg any) {
	if f, ok := msg.(outputFlush); ok {
		close(f)
		return
	}
	m, ok := msg.([]any)
	if !ok || len(m) != 3 || m[0] != outputTag && m[0] != reportTag {
		return
	}
	node, _ := m[1].(string)
	text, _ := m[2].(string)
	var b strings.Builder
	for _, line := range strings.SplitAfter(text, "\n") {
		if line != "" {
			b.WriteString("[" + node + "] " + line)
		}
	}
	if s := b.String(); s != "" && !strings.HasSuffix(s, "\n") {
		b.WriteString("\n")
	}
	w := rt.async
	if m[0] == reportTag {
		w = &rt.reports
	}
	io.WriteString(w, b.String())
}

// outputFlush is the message flushOutput sends the group leader: closed
// once what came before it has been printed.
type outputFlush chan struct{}

// flushOutput waits (a second at most) until the group leader has printed
// the remote output already in its mailbox, so that a node that stops right
// after a remote process ended (its DOWN came after its output) still
// prints that process's last lines.
func (rt *Runtime) flushOutput() {
	deadline := time.NewTimer(time.Second)
	defer deadline.Stop()
	// The notices too: a node up that connect() caused prints before its
	// true.
	for _, pid := range []proc.Pid{rt.groupLeader, rt.noticer} {
		done := make(outputFlush)
		if pid.IsZero() || rt.node.Send(pid, done) != nil {
			continue
		}
		select {
		case <-done:
		case <-deadline.C:
			return
		}
	}
}

// printNotice prints node up and down notices when they are turned on.
func (rt *Runtime) printNotice(_ *proc.Process, msg any) {
	if f, ok := msg.(outputFlush); ok {
		close(f)
		return
	}
	if !rt.notices.Load() {
		return
	}
	switch m := msg.(type) {
	case dist.NodeUp:
		fmt.Fprintf(rt.async, "** node %s up\n", m.Node)
	case dist.NodeDown:
		fmt.Fprintf(rt.async, "** node %s down: %s\n", m.Node, m.Reason)
	}
}
