package repl

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/gonode/gonode/trace"
	"github.com/gonode/gonode/web"
)

// The shell's side of the web view: web(addr) starts and stops it, and
// the panels the page shows that no other helper prints are helpers too
// (cluster, supervisionTrees, top), so that a script checks what a
// viewer sees. Each gathers the same web.Snapshot as the page.

// webState is the web view a node serves: one at most, owned by the
// runtime that started the node and closed before the node is.
type webState struct {
	mu   sync.Mutex
	srv  *web.Server // guarded by mu; nil when not serving
	flow *flowLog    // guarded by mu: the served view's trace events
	// closed is set by close: web() then refuses, as the node is going.
	closed bool // guarded by mu
}

// start serves the view of rt at addr, replacing nothing: a second
// address while one is served is refused.
func (w *webState) start(rt *Runtime, addr, token string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return "", fmt.Errorf("web: the node is stopping")
	}
	if w.srv != nil {
		return "", fmt.Errorf("web: already serving %s; web(\"\") stops it", w.srv.URL())
	}
	flow := startFlow(trace.Of(rt.node))
	srv, err := web.Start(addr, webSource{rt, flow}, web.Options{Token: token})
	if err != nil {
		flow.stop()
		return "", err
	}
	w.srv, w.flow = srv, flow
	return srv.URL(), nil
}

// stop stops the view if it runs; it says whether it did.
func (w *webState) stop() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.srv == nil {
		return false
	}
	_ = w.srv.Close() // no action runs after it: no new trace
	w.flow.stop()
	w.srv, w.flow = nil, nil
	return true
}

// close stops the view for good: the node is closing.
func (w *webState) close() {
	if w == nil {
		return
	}
	w.stop()
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}

// Web starts the web view at addr (":8080" is 127.0.0.1:8080) and returns
// its URL; web("") stops it. An address other hosts can reach needs a
// token, which every request must then carry.
func (x *Proc) Web(addr string, token ...string) string {
	w := x.rt.web
	if w == nil {
		fail("web: a remote shell cannot start the node's web view; start it there with gonode --web, or in the node's own shell")
	}
	if len(token) > 1 {
		fail("web takes an address and at most one token")
	}
	if addr == "" {
		w.stop()
		return ""
	}
	url, err := w.start(x.rt, addr, strings.Join(token, ""))
	if err != nil {
		fail("%w", err) // its errors begin with "web:"
	}
	return url
}

// snapshot is what the web view would show now.
func (x *Proc) snapshot() web.Snapshot {
	s, err := webSource{rt: x.rt}.Snapshot(x.ctx())
	x.check(err, "snapshot")
	return s
}

// ClusterView is what cluster() returns: every node, its connections and
// load; it prints as a table.
type ClusterView []web.Node

func (c ClusterView) String() string {
	var b strings.Builder
	w := 20
	for _, n := range c {
		w = max(w, len(n.Name))
	}
	fmt.Fprintf(&b, "%-*s %6s %6s  %s\n", w, "NODE", "PROCS", "SCORE", "CONNECTED TO")
	for _, n := range c {
		if n.Error != "" {
			fmt.Fprintf(&b, "%-*s %s\n", w, n.Name, n.Error)
			continue
		}
		score := "-"
		if n.Load != nil {
			score = fmt.Sprintf("%.2f", n.Load.Score)
		}
		fmt.Fprintf(&b, "%-*s %6d %6s  %s\n", w, n.Name, n.ProcessCount, score, strings.Join(n.Connections, " "))
	}
	return strings.TrimRight(b.String(), "\n")
}

// Cluster returns this node and every connected one, each with the nodes
// it is connected to and its load, asked of each node (the web view's
// nodes panel). A node that does not answer in time says so.
func (x *Proc) Cluster() ClusterView { return ClusterView(x.snapshot().Nodes) }

// Trees is what supervisionTrees() returns: the supervision trees of
// every node; it prints them one under the other.
type Trees []NodeTree

// NodeTree is a root supervisor and the node it runs on.
type NodeTree struct {
	Node string
	web.Tree
}

func (t Trees) String() string {
	if len(t) == 0 {
		return "no supervisors"
	}
	var b strings.Builder
	for i, nt := range t {
		if i > 0 {
			b.WriteString("\n")
		}
		name := ""
		if nt.Name != "" {
			name = " (" + nt.Name + ")"
		}
		fmt.Fprintf(&b, "%s%s %s on %s", nt.Pid, name, nt.Strategy, nt.Node)
		drawWebTree(&b, nt.Tree, "")
	}
	return b.String()
}

func drawWebTree(b *strings.Builder, t web.Tree, indent string) {
	for i, c := range t.Children {
		branch, next := "├─ ", "│  "
		if i == len(t.Children)-1 {
			branch, next = "└─ ", "   "
		}
		id := cmp.Or(c.ID, ":undefined")
		where := ":undefined"
		switch {
		case c.Restarting:
			where = ":restarting"
		case c.Pid != "":
			where = c.Pid + " on " + c.Node
		}
		fmt.Fprintf(b, "\n%s%s%s %s %s", indent, branch, id, where, c.Type)
		if c.Sub != nil {
			fmt.Fprintf(b, " %s", c.Sub.Strategy)
			drawWebTree(b, *c.Sub, indent+next)
		}
	}
}

// SupervisionTrees returns the supervision trees of every node: each
// root supervisor with its children, wherever they run (the web view's
// supervision panel). tree(sup) draws one supervisor of this node.
func (x *Proc) SupervisionTrees() Trees {
	var out Trees
	for _, n := range x.snapshot().Nodes {
		for _, t := range n.Supervisors {
			out = append(out, NodeTree{Node: n.Name, Tree: t})
		}
	}
	return out
}

// Top is what top() returns: processes of every node, deepest mailbox
// first; it prints as processes() does, with each process's node.
type Top []web.Process

func (t Top) String() string {
	var b strings.Builder
	w := 14
	for _, p := range t {
		w = max(w, len(p.Name))
	}
	fmt.Fprintf(&b, "%-32s %-*s %-8s %5s  %s\n", "PID", w, "NAME", "STATUS", "MSGS", "DOING")
	for _, p := range t {
		fmt.Fprintf(&b, "%-32s %-*s %-8s %5d  %s\n", p.Pid, w, p.Name, p.Status, p.Mailbox, p.Doing)
	}
	return strings.TrimRight(b.String(), "\n")
}

// Top returns the n processes (default 10) with the deepest mailboxes on
// all the nodes, running ones first among equals (the web view's
// process panel).
func (x *Proc) Top(n ...int) Top {
	if len(n) > 1 || (len(n) == 1 && n[0] < 1) {
		fail("top takes at most one count, 1 or more")
	}
	limit := 10
	if len(n) == 1 {
		limit = n[0]
	}
	var all Top
	for _, node := range x.snapshot().Nodes {
		all = append(all, node.Processes...)
	}
	slices.SortStableFunc(all, func(a, b web.Process) int {
		if c := cmp.Compare(b.Mailbox, a.Mailbox); c != 0 {
			return c
		}
		return cmp.Compare(statusRank(a.Status), statusRank(b.Status))
	})
	return all[:min(len(all), limit)]
}
