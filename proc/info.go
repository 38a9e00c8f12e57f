package proc

import (
	"reflect"
	"runtime"
	"sort"
	"unsafe"
)

// Info describes one process, for the shell's processes() and i(pid).
type Info struct {
	Pid             Pid
	Name            string // registered name, or ""
	Status          string // "running", "waiting" (for a message) or "exited"
	Style           string // "goroutine", "handler" or "attached"
	MessageQueueLen int
	Links           []Pid
	Monitors        []Ref // monitors this process holds
	MonitoredBy     []Pid // processes monitoring this one
	TrapExit        bool
	Label           string // what the process says it is doing (SetLabel)
	Function        string // the Go function it runs
	Memory          int    // estimate in bytes, see below
}

// Sizes used by the memory estimate: the process record, one mailbox slot,
// one link or monitor map entry, and the smallest goroutine stack plus its
// runtime descriptor.
const (
	processBytes   = int(unsafe.Sizeof(Process{}))
	slotBytes      = 16
	mapEntryBytes  = 64
	goroutineBytes = 2048 + 400
)

// Info describes the local process pid; false if it is not alive.
func (n *Node) Info(pid Pid) (Info, bool) {
	p := n.lookup(pid)
	if p == nil {
		return Info{}, false
	}
	return p.info(), true
}

// Processes describes every living process, in pid order.
func (n *Node) Processes() []Info {
	pids := n.Pids()
	out := make([]Info, 0, len(pids))
	for _, pid := range pids {
		if info, ok := n.Info(pid); ok {
			out = append(out, info)
		}
	}
	return out
}

func (p *Process) info() Info {
	in := Info{Pid: p.pid, Style: [...]string{"goroutine", "handler", "attached"}[p.style]}
	p.mu.Lock()
	in.Name, in.TrapExit, in.Label = p.name, p.trapExit, p.label
	in.MessageQueueLen = len(p.incoming) + int(p.inboxLen.Load())
	switch {
	case p.dead:
		in.Status = "exited"
	case p.waiting || (p.style == styleHandler && !p.scheduled):
		in.Status = "waiting"
	default:
		in.Status = "running"
	}
	for l := range p.links {
		in.Links = append(in.Links, l)
	}
	for r := range p.monitors {
		in.Monitors = append(in.Monitors, r)
	}
	if p.hasWatcher1 {
		_, w := p.watcher1.expand(p.node)
		in.MonitoredBy = append(in.MonitoredBy, w.pid)
	}
	for _, w := range p.watchers {
		in.MonitoredBy = append(in.MonitoredBy, w.pid)
	}
	in.Memory = processBytes + (cap(p.incoming)+int(p.inboxLen.Load()))*slotBytes +
		(len(p.links)+len(p.monitors)+len(p.watchers))*mapEntryBytes
	p.mu.Unlock()
	if p.style == styleGoroutine {
		in.Memory += goroutineBytes
	}
	sort.Slice(in.Links, func(i, j int) bool { return in.Links[i].ID < in.Links[j].ID })
	switch {
	case p.fn != nil:
		in.Function = funcName(p.fn)
	case p.hand != nil:
		in.Function = funcName(p.hand)
	}
	return in
}

func funcName(f any) string {
	if fn := runtime.FuncForPC(reflect.ValueOf(f).Pointer()); fn != nil {
		return fn.Name()
	}
	return ""
}
