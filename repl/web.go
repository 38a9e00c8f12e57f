package repl

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/trace"
	"github.com/gonode/gonode/web"
)

// The web view's data (package web serves it; gonode --web or web(addr)
// starts it). The node gathers its own part of a snapshot; each connected
// peer is asked for its part by rpc to webNodeFn, which every gonode node
// registers, with a time limit: a peer that does not answer is shown with
// the reason. The shell helpers cluster() and supervisionTrees() print
// the same data (web_api.go), so that a script sees what the page shows.

// webNodeFn is the function a node's web view calls on every peer: this
// node's part of a snapshot, as JSON (a string crosses any peer's codec
// unchanged, where a struct would arrive as a map to rebuild).
const webNodeFn = "gonode.web.node"

// webPeerTimeout bounds the wait for one peer's part; the snapshot is
// taken every second.
const webPeerTimeout = 800 * time.Millisecond

// webTreeTimeout bounds the wait for one supervisor's answer: one busy
// restarting its children is shown without its tree rather than holding
// up the snapshot.
const webTreeTimeout = 200 * time.Millisecond

// webSource is the Runtime seen as a web.Source. Safe for concurrent use:
// each call uses a process of its own.
type webSource struct {
	rt   *Runtime
	flow *flowLog // the trace events the view keeps (web_flow.go); nil for the shell's helpers
}

// Snapshot gathers this node's part and, at once, every peer's.
func (s webSource) Snapshot(ctx context.Context) (web.Snapshot, error) {
	rt := s.rt
	snap := web.Snapshot{Time: time.Now(), From: rt.node.Name(), Global: []web.Name{}, Groups: []web.Group{}, Flow: s.flow.recent()}
	var peers []string
	if rt.dist != nil {
		peers = rt.dist.Nodes()
	}
	nodes := make([]web.Node, 1+len(peers))
	var wg sync.WaitGroup
	for i, peer := range peers {
		wg.Add(1)
		go func() { // each ends within webPeerTimeout
			defer wg.Done()
			nodes[1+i] = rt.peerView(ctx, peer)
		}()
	}
	nodes[0] = rt.nodeView()
	wg.Wait()
	slices.SortFunc(nodes[1:], func(a, b web.Node) int { return cmp.Compare(a.Name, b.Name) })
	snap.Nodes = nodes
	if c := rt.cluster; c != nil {
		for _, name := range c.global.Names() {
			if pid, ok := c.global.Whereis(name); ok {
				snap.Global = append(snap.Global, web.Name{Name: name, Pid: pid.String()})
			}
		}
		for _, g := range c.pg.Groups() {
			snap.Groups = append(snap.Groups, web.Group{Name: g, Members: pidStrings(c.pg.Members(g))})
		}
	}
	return snap, nil
}

// Act sends a message to a process or kills it, from a process of its
// own labelled as the web view's, or traces it into the flow view.
func (s webSource) Act(ctx context.Context, a web.Action) error {
	rt := s.rt
	pid, err := proc.ParsePid(a.Pid)
	if err != nil {
		return fmt.Errorf("%w: %v", web.ErrBadAction, err)
	}
	pid = rt.node.Resolve(pid)
	if rt.node.IsLocal(pid) {
		if _, ok := rt.node.Info(pid); !ok {
			return fmt.Errorf("%w: no process %v on %s", web.ErrBadAction, pid, rt.node.Name())
		}
	} else if rt.dist == nil || !rt.dist.Connected(pid.Node) {
		return fmt.Errorf("%w: %s is not connected", web.ErrBadAction, pid.Node)
	}
	if a.Kind == web.ActTrace {
		return s.trace(ctx, pid)
	}
	p, err := rt.node.Attach(proc.SpawnOptions{Label: "web view: " + a.Kind})
	if err != nil {
		return err
	}
	defer p.Exit(proc.Normal)
	switch a.Kind {
	case web.ActSend:
		return p.Send(pid, a.Message)
	case web.ActKill:
		return p.SendExit(pid, proc.Kill)
	}
	return fmt.Errorf("%w: unknown action %q", web.ErrBadAction, a.Kind)
}

// trace traces pid with the tracer's default rate limit; its events reach
// the flow view through the view's subscription, so the trace's own sink
// has nothing to do.
func (s webSource) trace(ctx context.Context, pid proc.Pid) error {
	t := trace.Of(s.rt.node)
	if t == nil || s.flow == nil {
		return errors.New("this node runs no tracer")
	}
	tr, err := t.Process(ctx, pid, trace.Options{Sink: func(trace.Event) {}})
	if err != nil {
		return err
	}
	s.flow.keep(tr)
	return nil
}

// peerView asks peer for its part of a snapshot.
func (rt *Runtime) peerView(ctx context.Context, peer string) web.Node {
	ctx, cancel := context.WithTimeout(ctx, webPeerTimeout)
	defer cancel()
	v, err := rt.dist.RPC(ctx, peer, webNodeFn)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %v", webPeerTimeout)
		}
		return web.Node{Name: peer, Error: "not shown: " + err.Error()}
	}
	text, ok := v.(string)
	var n web.Node
	if !ok || json.Unmarshal([]byte(text), &n) != nil {
		return web.Node{Name: peer, Error: fmt.Sprintf("not shown: %s answered %s with a %T, not its view", peer, webNodeFn, v)}
	}
	n.Name = peer
	return n
}

// webNodeJSON serves a peer's webNodeFn: this node's view as JSON.
func (rt *Runtime) webNodeJSON() (string, error) {
	b, err := json.Marshal(rt.nodeView())
	return string(b), err
}

// nodeView is this node's part of a snapshot.
func (rt *Runtime) nodeView() web.Node {
	n := web.Node{Name: rt.node.Name(), Connections: []string{}, Registered: []web.Name{}, Supervisors: []web.Tree{}}
	if rt.dist != nil {
		n.Connections = rt.dist.Nodes()
	}
	if rt.cluster != nil {
		for _, l := range rt.cluster.placement.Loads() {
			if l.Node == n.Name {
				n.Load = &web.Load{Score: l.Score(), Runnable: l.Runnable, Processes: l.Processes, CPU: l.CPU,
					CPUs: l.CPUs, Memory: l.Memory, AgeMillis: l.Age.Milliseconds()}
				if len(l.Mailboxes) > 0 {
					n.Load.Mailbox = l.Mailboxes[0]
				}
			}
		}
	}
	infos := rt.node.Processes()
	n.ProcessCount = len(infos)
	n.Supervisors = rt.supervisionTrees(infos)
	for _, name := range rt.node.Registered() {
		if pid, ok := rt.node.Whereis(name); ok {
			n.Registered = append(n.Registered, web.Name{Name: name, Pid: pid.String()})
		}
	}
	// The deepest mailboxes first, then the running: where to look first.
	slices.SortStableFunc(infos, func(a, b proc.Info) int {
		if c := cmp.Compare(b.MessageQueueLen, a.MessageQueueLen); c != 0 {
			return c
		}
		return cmp.Compare(statusRank(a.Status), statusRank(b.Status))
	})
	infos = infos[:min(len(infos), web.MaxProcesses)]
	n.Processes = make([]web.Process, len(infos))
	for i, in := range infos {
		doing := in.Label
		if doing == "" {
			doing = shortFunc(in.Function)
		}
		n.Processes[i] = web.Process{Pid: in.Pid.String(), Name: in.Name, Status: in.Status, Mailbox: in.MessageQueueLen,
			Links: len(in.Links), Memory: in.Memory, Doing: doing}
	}
	return n
}

func statusRank(s string) int {
	if s == "running" {
		return 0
	}
	return 1
}

// supervisionTrees returns the trees of the supervisors among infos whose
// parent is not a supervisor of this node: the roots, each with its
// subtrees. A supervisor that does not answer in time is left out.
func (rt *Runtime) supervisionTrees(infos []proc.Info) []web.Tree {
	var sups []proc.Info
	for _, in := range infos {
		if otp.IsSupervisor(in) {
			sups = append(sups, in)
		}
	}
	if len(sups) == 0 {
		return []web.Tree{}
	}
	p, err := rt.node.Attach(proc.SpawnOptions{Label: "web view: supervision trees"})
	if err != nil {
		return []web.Tree{}
	}
	defer p.Exit(proc.Normal)
	trees := map[proc.Pid]*otp.TreeNode{}
	nested := map[proc.Pid]bool{}
	for _, in := range sups {
		t, err := otp.TreeWithin(p, in.Pid, webTreeTimeout)
		if err != nil {
			continue
		}
		trees[in.Pid] = t
		for _, c := range t.Children {
			if c.Sub != nil {
				nested[c.Sub.Pid] = true
			}
		}
	}
	out := []web.Tree{}
	for _, in := range sups {
		if t := trees[in.Pid]; t != nil && !nested[in.Pid] {
			wt := webTree(t)
			wt.Name = in.Name
			out = append(out, wt)
		}
	}
	return out
}

func webTree(t *otp.TreeNode) web.Tree {
	w := web.Tree{Pid: t.Pid.String(), Strategy: t.Strategy.String(), Children: make([]web.TreeChild, len(t.Children))}
	for i, c := range t.Children {
		wc := web.TreeChild{ID: c.ID, Type: c.Type.String(), Restarting: c.Restarting}
		if !c.Pid.IsZero() {
			wc.Pid, wc.Node = c.Pid.String(), c.Pid.Node
		}
		if c.Sub != nil {
			sub := webTree(c.Sub)
			wc.Sub = &sub
		}
		w.Children[i] = wc
	}
	return w
}

func pidStrings(pids []proc.Pid) []string {
	out := make([]string, len(pids))
	for i, p := range pids {
		out[i] = p.String()
	}
	return out
}
