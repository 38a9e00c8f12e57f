package proc

// CrashReport describes a process that ended abnormally, for logging: what
// Erlang's proc_lib writes as a crash report.
type CrashReport struct {
	Pid      Pid
	Name     string // the name it was registered under when it died, or ""
	Label    string // what it said it was doing (SetLabel, SpawnOptions.Label)
	Function string // the Go function it ran
	Reason   any    // its exit reason: a PanicReason for a panic
}

type crashReporter struct{ f func(CrashReport) }

// SetCrashReporter installs f to hear of crashes (nil removes it). The node
// calls it once for every process whose own function panicked, or that
// called Exit with a PanicReason, unless the process was spawned
// Supervised (its supervisor reports instead). A process killed by an exit
// signal is not reported, whatever the reason. f runs
// on the dying process's goroutine after its links and monitors have been
// told, holding no lock of the process; Stop waits for it. f must be safe
// for concurrent use and should not block for long.
func (n *Node) SetCrashReporter(f func(CrashReport)) {
	if f == nil {
		n.crash.Store(nil)
		return
	}
	n.crash.Store(&crashReporter{f})
}

// ReportCrash hands r to the crash reporter, if one is installed. The node
// calls it for panics; code that knows of other abnormal exits (a server
// behaviour stopping with an error reason) calls it for those.
func (n *Node) ReportCrash(r CrashReport) {
	if c := n.crash.Load(); c != nil {
		c.f(r)
	}
}

// reportCrash tells the node's crash reporter that p, registered as name
// when it died, ended with reason by its own doing (a panic, or Exit with
// a PanicReason), unless a supervisor reports it (SpawnOptions.Supervised).
// A process that dies of an exit signal carrying another's PanicReason ran
// no failing code of its own and is not reported: Erlang's proc_lib writes
// a crash report for the process that crashed, not for those its exit
// signal kills. Called without p's lock held.
//
//go:noinline
func (p *Process) reportCrash(name string, reason any) {
	n := p.node
	if p.supervised || n.crash.Load() == nil {
		return
	}
	p.mu.Lock()
	label := p.label
	p.mu.Unlock()
	var fn string
	switch {
	case p.fn != nil:
		fn = funcName(p.fn)
	case p.hand != nil:
		fn = funcName(p.hand)
	}
	n.ReportCrash(CrashReport{Pid: p.pid, Name: name, Label: label, Function: fn, Reason: reason})
}
