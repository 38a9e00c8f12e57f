package trace

import (
	"fmt"
	"strings"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// Kind says what an Event reports.
type Kind uint8

// The kinds' numbers cross nodes in remote traces' events: only append.
const (
	Sent         Kind = 1 // Pid sent Msg to To (or ToName)
	Received     Kind = 2 // Msg was put in Pid's mailbox
	Exited       Kind = 3 // Pid exited with reason Msg
	NodeSent     Kind = 4 // this node sent Peer a message: Signal, From, To, Msg
	NodeReceived Kind = 5 // Peer sent this node a message
	Stopped      Kind = 6 // the trace stopped itself; Msg says why (a string)
	Dropped      Kind = 7 // Msg (an int) events were dropped: the tracer fell behind
)

// Event is one thing a trace saw. Events reach a trace's sink and the
// tracer's subscribers on the tracer's goroutine, in the order the tracer
// took them.
type Event struct {
	Kind   Kind
	Time   time.Time
	Node   string   // the node where it happened
	Pid    proc.Pid // the traced process; node traffic: the message's sender, if any
	To     proc.Pid // Sent: the receiver, zero for a name; node traffic: the message's receiver
	ToName string   // Sent to a registered name, node traffic to one: the name
	Peer   string   // node traffic: the other node
	Signal string   // node traffic: what the message is (send, link, exit, call, reply, ...)
	Fn     string   // node traffic: the function of a call, cast or spawn
	Msg    any      // the message, the exit reason, the call's arguments; Stopped: why
	// Text is Msg as the node where it happened printed it, for a remote
	// process (its message may not cross as a value); "" for local events.
	Text string
}

// Line is the event as the shell prints it, one line without a newline:
//
//	[trace] <a@localhost.7.0> received {:ping, 1}
//	[trace] <a@localhost.7.0> sent :pong to <a@localhost.5.0>
//	[trace] <a@localhost.7.0> exited: normal
//	[trace] a@localhost -> b@localhost: send "hi" to <b@localhost.9.0>
//	[trace] stopped: more than 100 events in 1s
//
// format prints a message or reason (nil: proc.FormatReason).
func (e Event) Line(format func(any) string) string {
	if format == nil {
		format = proc.FormatReason
	}
	msg := e.Text
	if msg == "" && e.Kind != Stopped && e.Kind != Dropped {
		msg = format(e.Msg)
	}
	switch e.Kind {
	case Sent:
		return fmt.Sprintf("[trace] %v sent %s to %s", e.Pid, msg, e.target())
	case Received:
		return fmt.Sprintf("[trace] %v received %s", e.Pid, msg)
	case Exited:
		return fmt.Sprintf("[trace] %v exited: %s", e.Pid, msg)
	case NodeSent, NodeReceived:
		return e.trafficLine(msg)
	case Stopped:
		return fmt.Sprintf("[trace] stopped: %v", e.Msg)
	case Dropped:
		return fmt.Sprintf("[trace] %v events dropped here: the tracer fell behind", e.Msg)
	}
	return fmt.Sprintf("[trace] %d %s", e.Kind, msg)
}

func (e Event) target() string {
	if e.ToName != "" {
		return e.ToName
	}
	return e.To.String()
}

// trafficLine is a node traffic event's line: the direction, the kind of
// message, and what of From, To, Fn and Msg it has.
func (e Event) trafficLine(msg string) string {
	var b strings.Builder
	from, to := e.Node, e.Peer
	if e.Kind == NodeReceived {
		from, to = e.Peer, e.Node
	}
	fmt.Fprintf(&b, "[trace] %s -> %s: %s", from, to, e.Signal)
	if e.Fn != "" {
		b.WriteString(" " + e.Fn)
	}
	if e.Msg != nil || e.Text != "" {
		b.WriteString(" " + msg)
	}
	if !e.Pid.IsZero() {
		fmt.Fprintf(&b, " from %v", e.Pid)
	}
	if e.ToName != "" || !e.To.IsZero() {
		b.WriteString(" to " + e.target())
	}
	return b.String()
}

// trafficEvent makes the event of a node's message to or from peer.
func trafficEvent(node, peer string, sent bool, m *dist.Message) Event {
	e := Event{Kind: NodeReceived, Time: time.Now(), Node: node, Peer: peer, Signal: m.Kind.String(),
		Pid: m.From, To: m.To, ToName: m.ToName, Fn: m.Fn, Msg: m.Payload}
	if sent {
		e.Kind = NodeSent
	}
	switch m.Kind {
	case dist.KindCall, dist.KindCast, dist.KindSpawnRequest:
		e.Msg = m.Args // the payload is the caller's group leader
	case dist.KindReply, dist.KindSpawnReply:
		if m.Err != nil {
			e.Msg = m.Err
		}
	}
	if e.To.ID == 0 && e.To.Serial == 0 {
		e.To = proc.Pid{} // the node only: a name's or a call's
	}
	return e
}

// shownKind says whether a message kind is traffic a user would call a
// message: the connection's own bookkeeping (peers, tick time) is not.
func shownKind(k dist.Kind) bool {
	return k != dist.KindPeers && k != dist.KindTickTime
}
