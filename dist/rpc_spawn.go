package dist

import (
	"context"
	"errors"
	"fmt"

	"github.com/gonode/gonode/proc"
)

type ctxKey struct{}

type spawnCtx struct {
	p           *proc.Process
	groupLeader proc.Pid
}

// ProcessFrom returns the process a spawned Callable runs as, and the
// group leader its output should go to (the spawning node's shell, or the
// zero pid).
func ProcessFrom(ctx context.Context) (*proc.Process, proc.Pid, bool) {
	s, ok := ctx.Value(ctxKey{}).(spawnCtx)
	return s.p, s.groupLeader, ok
}

// SpawnOptions for SpawnRemote.
type SpawnOptions struct {
	Link, Monitor bool
	Supervised    bool     // a supervisor reports the new process's crashes; the node does not (proc.SpawnOptions.Supervised)
	Source        string   // source of a function literal to run instead of a named function
	GroupLeader   proc.Pid // where the new process's output goes (usually the caller's shell)
}

// SpawnRemote starts fn(args...) as a process on node and returns its pid
// (Erlang's spawn_request). With Link or Monitor, the process parent (which
// must be alive) is linked to it or monitors it; the link or monitor is in
// place before the new process runs, and the monitor's Ref is returned.
func (n *Node) SpawnRemote(ctx context.Context, parent *proc.Process, node, fn string, args []any, o SpawnOptions) (proc.Pid, proc.Ref, error) {
	if (o.Link || o.Monitor) && parent == nil {
		return proc.Pid{}, proc.Ref{}, errors.New("dist: link or monitor at spawn needs a spawning process")
	}
	if err := n.Connect(ctx, node); err != nil {
		return proc.Pid{}, proc.Ref{}, fmt.Errorf("spawn on %s: %w: %w", node, ErrNodeDown, err)
	}
	c := n.connFor(node)
	if c == nil {
		return proc.Pid{}, proc.Ref{}, fmt.Errorf("spawn on %s: %w", node, ErrNodeDown)
	}
	m := Message{Kind: KindSpawnRequest, Ref: n.proc.MakeRef(), Fn: fn, Args: args, Source: o.Source,
		Link: o.Link, Monitor: o.Monitor, Supervised: o.Supervised, Payload: o.GroupLeader}
	p := &pendingReq{node: node, conn: c, reply: make(chan Message, 1), link: o.Link, monitor: o.Monitor}
	if parent != nil {
		m.From, p.parent = parent.Pid(), parent.Pid()
	}
	n.rpc.add(m.Ref, p)
	if err := c.sendCtx(ctx, m); err != nil {
		n.rpc.take(m.Ref)
		return proc.Pid{}, proc.Ref{}, fmt.Errorf("spawn on %s: %w", node, err)
	}
	select {
	case r := <-p.reply:
		if r.Err != nil {
			return proc.Pid{}, proc.Ref{}, r.Err
		}
		var ref proc.Ref
		if o.Monitor {
			ref = m.Ref
		}
		return r.From, ref, nil
	case <-ctx.Done():
		// The process may still start; without the reply we cannot link it.
		n.rpc.take(m.Ref)
		return proc.Pid{}, proc.Ref{}, fmt.Errorf("spawn on %s: %w (%w)", node, proc.ErrTimeout, ctx.Err())
	}
}

// spawnReplied completes a SpawnRemote. It runs on the connection's reader,
// before any later frame, so the link or monitor is in place before any
// exit signal of the new process is delivered.
func (n *Node) spawnReplied(m Message) {
	p := n.rpc.take(m.Ref)
	if p == nil {
		if m.Err == nil && !m.From.IsZero() {
			// Nobody waits any more (timed out): the orphan is not ours to keep.
			_ = n.Forward(proc.Signal{Kind: proc.SigExit2, To: m.From, Msg: proc.Kill})
		}
		return
	}
	if m.Err == nil && (p.link || p.monitor) {
		var ref proc.Ref
		if p.monitor {
			ref = m.Ref
		}
		n.proc.AdoptRemote(p.parent, m.From, p.link, ref)
	}
	p.reply <- m
}

// handleSpawn starts the process a peer asked for. The new process sends
// the reply itself before running, so the reply precedes on the wire any
// signal the process causes.
func (n *Node) handleSpawn(c *conn, m Message) {
	if !n.allowed(&m) {
		n.refuse(c, &m)
		return
	}
	fn, rerr := n.resolve(&m)
	if rerr != nil {
		_ = c.send(Message{Kind: KindSpawnReply, To: m.From, Ref: m.Ref, Err: rerr}, false)
		return
	}
	gl, _ := m.Payload.(proc.Pid)
	var monitor proc.Ref
	if m.Monitor {
		monitor = m.Ref
	}
	_, err := n.proc.SpawnFor(m.From, m.Link, monitor, func(p *proc.Process) {
		_ = c.send(Message{Kind: KindSpawnReply, From: p.Pid(), To: m.From, Ref: m.Ref}, false)
		ctx := context.WithValue(p.Context(), ctxKey{}, spawnCtx{p: p, groupLeader: gl})
		if _, err := fn(ctx, m.Args); err != nil {
			p.Exit(AsRemoteError(err))
		}
	}, proc.SpawnOptions{Label: "spawned by " + c.peer.Name, Supervised: m.Supervised})
	if err != nil {
		_ = c.send(Message{Kind: KindSpawnReply, To: m.From, Ref: m.Ref, Err: AsRemoteError(err)}, false)
	}
}
