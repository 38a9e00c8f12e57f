package placement

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gonode/gonode/proc"
)

// Load is one node's load record, as its load process sampled it.
type Load struct {
	Node string
	// At is when the record was sampled, by the sampling node's clock
	// (shown only: freshness is judged by Age, on the reader's clock).
	At time.Time
	// Age is how long ago this node received the record (zero for the
	// local record when sampled); filled in by Loads and Explanation.
	Age time.Duration
	// Runnable counts the node's processes that were not waiting for a
	// message at the sample: running code, or handler processes with a
	// message scheduled. Attached processes (driven by an outside
	// goroutine, as the shell's) and the load process itself are left out.
	// A process blocked outside Receive (sleeping, in a system call)
	// counts, as proc's Info shows it "running". A snapshot at At, not an
	// average: it jumps between samples as processes start and end.
	Runnable int
	// Processes counts the node's live processes.
	Processes int
	// Mailboxes holds the deepest mailboxes of the node, deepest first
	// (at most MailboxTop entries; fewer when fewer processes have mail).
	Mailboxes []int
	// CPU is the CPU time the node's OS process used over the last
	// interval divided by that interval: 1.5 means one and a half cores
	// busy. From utime+stime in /proc/self/stat (Linux), or Go's
	// runtime/metrics estimate elsewhere. Nodes sharing one OS process
	// (tests) report the same CPU.
	CPU float64
	// CPUs is the node's GOMAXPROCS: the cores its processes can use.
	CPUs int
	// Memory is the OS process's resident set in bytes (/proc/self/stat),
	// or the memory Go has mapped (runtime/metrics) where /proc is missing.
	Memory uint64
}

// MailboxTop is how many mailbox depths a record carries.
const MailboxTop = 3

// mailboxWeight is how many queued messages count as one busy core in the
// score.
const mailboxWeight = 1000

// Score is the load LeastLoaded compares, in busy cores per core the node
// has (0 is idle; 1 is every core taken):
//
//	(Runnable + CPU + Mailboxes[0]/1000) / CPUs
//
// Runnable is the node's own demand (its processes wanting a core), CPU
// what its OS process actually burns, including work outside processes,
// and the deepest mailbox counts a thousand queued messages as one core's
// worth of backlog. Dividing by CPUs makes a 2-core node with two busy
// processes as loaded as an 8-core node with eight.
func (l Load) Score() float64 {
	cpus := l.CPUs
	if cpus < 1 {
		cpus = 1
	}
	s := float64(l.Runnable) + l.CPU
	if len(l.Mailboxes) > 0 {
		s += float64(l.Mailboxes[0]) / mailboxWeight
	}
	return s / float64(cpus)
}

// LoadHeader is the header row for Load.String's rows.
const LoadHeader = "node                       score  runnable  procs  mailboxes      cpu    mem MB    age"

// String prints the record as one row under LoadHeader, as the shell's
// loads() will print a table.
func (l Load) String() string {
	mb := make([]string, len(l.Mailboxes))
	for i, d := range l.Mailboxes {
		mb[i] = fmt.Sprint(d)
	}
	return fmt.Sprintf("%-24s %7.2f %9d %6d  %-11s %4.2f/%-2d %8.1f %6s",
		l.Node, l.Score(), l.Runnable, l.Processes, "["+strings.Join(mb, " ")+"]",
		l.CPU, l.CPUs, float64(l.Memory)/(1<<20), l.Age.Round(time.Millisecond))
}

// Table prints loads under LoadHeader, one row each.
func Table(loads []Load) string {
	var b strings.Builder
	b.WriteString(LoadHeader)
	for _, l := range loads {
		b.WriteString("\n")
		b.WriteString(l.String())
	}
	return b.String()
}

// Wire tag and version (see the protocol flow in doc.go).
const (
	tagLoad     proc.Atom = "placement_load"
	wireVersion           = 1
)

// loadMsg is the push of l from the load process self.
func loadMsg(self proc.Pid, l Load) []any {
	mb := make([]any, len(l.Mailboxes))
	for i, d := range l.Mailboxes {
		mb[i] = int64(d)
	}
	mem := int64(maxCount - 1)
	if l.Memory < maxCount {
		mem = int64(l.Memory)
	}
	return []any{tagLoad, int64(wireVersion), self, []any{
		l.Node, l.At.UnixNano(), int64(l.Runnable), int64(l.Processes), mb, l.CPU, int64(l.CPUs), mem,
	}}
}

// maxCount bounds every count a peer sends, so that a bad record cannot
// make a score overflow or dominate by absurd values.
const maxCount = 1 << 50

// parseLoad reads a push from a peer: the sender's pid and its record.
// Fields past those of version 1 are ignored (a later version appends).
func parseLoad(m any) (proc.Pid, Load, error) {
	t, ok := m.([]any)
	if !ok || len(t) != 4 {
		return proc.Pid{}, Load{}, fmt.Errorf("not a placement message")
	}
	if tag, _ := t[0].(proc.Atom); tag != tagLoad {
		return proc.Pid{}, Load{}, fmt.Errorf("not a placement message")
	}
	if v, ok := count(t[1]); !ok || v < wireVersion {
		return proc.Pid{}, Load{}, fmt.Errorf("version %v", t[1])
	}
	from, ok := t[2].(proc.Pid)
	if !ok || from.IsZero() {
		return proc.Pid{}, Load{}, fmt.Errorf("sender %v (%T), want a pid", t[2], t[2])
	}
	f, ok := t[3].([]any)
	if !ok || len(f) < 8 {
		return from, Load{}, fmt.Errorf("record %T of %d fields, want a list of 8", t[3], lenOf(t[3]))
	}
	var l Load
	var run, procs, cpus, mem int64
	at, ok := f[1].(int64) // from peers of before the codec decoded integers as int
	if n, isInt := f[1].(int); isInt {
		at, ok = int64(n), true
	}
	if !ok {
		return from, Load{}, fmt.Errorf("time %v (%T), want Unix nanoseconds", f[1], f[1])
	}
	if l.Node, ok = f[0].(string); !ok || l.Node != from.Node {
		return from, Load{}, fmt.Errorf("record of node %v from a process of %s", f[0], from.Node)
	}
	for i, dst := range map[int]*int64{2: &run, 3: &procs, 6: &cpus, 7: &mem} {
		if *dst, ok = count(f[i]); !ok {
			return from, Load{}, fmt.Errorf("field %d: %v (%T), want a count", i, f[i], f[i])
		}
	}
	if l.CPU, ok = f[5].(float64); !ok || l.CPU < 0 || l.CPU > maxCount || math.IsNaN(l.CPU) {
		return from, Load{}, fmt.Errorf("cpu %v (%T), want a float >= 0", f[5], f[5])
	}
	mb, ok := f[4].([]any)
	if !ok || len(mb) > MailboxTop {
		return from, Load{}, fmt.Errorf("mailboxes %T of %d, want a list of at most %d", f[4], lenOf(f[4]), MailboxTop)
	}
	for _, d := range mb {
		n, ok := count(d)
		if !ok {
			return from, Load{}, fmt.Errorf("mailbox depth %v (%T), want a count", d, d)
		}
		l.Mailboxes = append(l.Mailboxes, int(n))
	}
	l.At, l.Runnable, l.Processes, l.CPUs, l.Memory = time.Unix(0, at), int(run), int(procs), int(cpus), uint64(mem)
	return from, l, nil
}

// count reads a non-negative integer below maxCount, as the codec decodes
// it (int, int64 from older peers, or uint64) or as a local send leaves it.
func count(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, n >= 0 && n < maxCount
	case int:
		return int64(n), n >= 0 && n < maxCount
	case uint64:
		return int64(n), n < maxCount
	}
	return 0, false
}

func lenOf(v any) int {
	if l, ok := v.([]any); ok {
		return len(l)
	}
	return 0
}
