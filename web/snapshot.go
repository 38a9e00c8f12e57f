package web

import (
	"context"
	"errors"
	"time"
)

// Source is what the view shows and acts on. Its methods are called from
// the Handler's goroutines, concurrently: an implementation must be safe
// for that. Each call gets a context bounded by Options.Timeout.
type Source interface {
	// Snapshot reports the cluster as it is now. A node that could not be
	// asked is reported with Node.Error set, not as an error: an error
	// means there is nothing to show at all.
	Snapshot(ctx context.Context) (Snapshot, error)
	// Act carries out one action. An error wrapping ErrBadAction is the
	// viewer's mistake (an unknown pid, a dead process) and is answered
	// 400 with its text; any other error 502.
	Act(ctx context.Context, a Action) error
}

// ErrBadAction marks an action the Source refuses because of its input.
var ErrBadAction = errors.New("bad action")

// Action kinds a viewer can ask for.
const (
	ActSend  = "send"  // send Message, a string, to Pid
	ActKill  = "kill"  // exit(Pid, kill)
	ActTrace = "trace" // trace Pid's messages and exit into the flow view, rate-limited
)

// Action is one viewer request, as POST /action carries it in JSON.
type Action struct {
	Kind    string `json:"kind"`
	Pid     string `json:"pid"`               // as printed: <node@host.12.0>
	Message string `json:"message,omitempty"` // for send
}

// Snapshot is the whole cluster as one node sees it. Global names and
// groups are cluster-wide (each node holds a replica); everything else is
// per node.
type Snapshot struct {
	Time   time.Time `json:"time"`
	From   string    `json:"from"` // the node that gathered it
	Nodes  []Node    `json:"nodes"`
	Global []Name    `json:"global"`
	Groups []Group   `json:"groups"`
	// Flow is what the node's tracer saw last (at most MaxFlow events,
	// oldest first): the messages between traced processes and nodes.
	Flow []Flow `json:"flow"`
}

// MaxFlow is how many trace events a Snapshot carries at most.
const MaxFlow = 200

// Flow is one trace event: a message From a process or node To another,
// or a process's exit (To empty).
type Flow struct {
	Time time.Time `json:"time"`
	Kind string    `json:"kind"` // sent, received, exited, node sent, node received, stopped, dropped
	From string    `json:"from,omitempty"`
	To   string    `json:"to,omitempty"`
	Text string    `json:"text"` // the event as the shell's trace prints it
}

// Node is one node's part of a snapshot.
type Node struct {
	Name string `json:"name"`
	// Error says why the node's data is missing: it did not answer in
	// time, or refused. The other fields are then empty.
	Error       string    `json:"error,omitempty"`
	Connections []string  `json:"connections"` // the nodes it is connected to
	Load        *Load     `json:"load,omitempty"`
	Processes   []Process `json:"processes"` // deepest mailbox first; at most MaxProcesses
	// ProcessCount is how many processes the node has; more than
	// len(Processes) when the list was cut.
	ProcessCount int    `json:"processCount"`
	Registered   []Name `json:"registered"`
	Supervisors  []Tree `json:"supervisors"` // the trees whose root runs here
}

// MaxProcesses is how many processes a Node lists at most: the deepest
// mailboxes, then the running ones, are the ones worth a look.
const MaxProcesses = 200

// Load is a node's load record.
type Load struct {
	Score     float64 `json:"score"`
	Runnable  int     `json:"runnable"`
	Processes int     `json:"processes"`
	Mailbox   int     `json:"mailbox"` // the deepest mailbox
	CPU       float64 `json:"cpu"`     // cores busy
	CPUs      int     `json:"cpus"`
	Memory    uint64  `json:"memory"` // bytes
	AgeMillis int64   `json:"ageMillis"`
}

// Process is one row of a node's process table.
type Process struct {
	Pid     string `json:"pid"`
	Name    string `json:"name,omitempty"`
	Status  string `json:"status"`
	Mailbox int    `json:"mailbox"`
	Links   int    `json:"links"`
	Memory  int    `json:"memory"`
	Doing   string `json:"doing"` // its label, or the function it runs
}

// Name is a registered or global name and its holder.
type Name struct {
	Name string `json:"name"`
	Pid  string `json:"pid"`
}

// Group is a process group and its members on every node.
type Group struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

// Tree is a supervisor and its children.
type Tree struct {
	Pid      string      `json:"pid"`
	Name     string      `json:"name,omitempty"`
	Strategy string      `json:"strategy"`
	Children []TreeChild `json:"children"`
}

// TreeChild is one child of a supervisor; Sub is set for a supervisor
// child of the same node.
type TreeChild struct {
	ID         string `json:"id"`
	Pid        string `json:"pid,omitempty"` // empty while not running
	Node       string `json:"node,omitempty"`
	Type       string `json:"type"` // worker or supervisor
	Restarting bool   `json:"restarting,omitempty"`
	Sub        *Tree  `json:"sub,omitempty"`
}
