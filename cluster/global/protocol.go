package global

import (
	"fmt"

	"github.com/gonode/gonode/proc"
)

// The messages between name servers (see the package comment for the
// flow). Tags are part of the protocol: only append. Every message is a
// tuple ([]any) with its tag first; integers arrive as int (int64 from older peers) from the
// wire, and as whatever Go type was sent on the local node, so readers
// accept both.
const (
	protocolVersion = 1

	tagSync      = proc.Atom("global_sync")      // version, node, server pid, entries
	tagClaim     = proc.Atom("global_claim")     // ref, name, pid, coordinator's server pid
	tagClaimed   = proc.Atom("global_claimed")   // ref, node, status, holder pid
	tagCommit    = proc.Atom("global_commit")    // ref, name, pid, at, resolve
	tagCommitted = proc.Atom("global_committed") // ref, node
	tagAbort     = proc.Atom("global_abort")     // ref, name
	tagUnreg     = proc.Atom("global_unreg")     // ref (zero: no answer), name, pid
	tagUnregd    = proc.Atom("global_unregd")    // ref, node

	statusOK     = proc.Atom("ok")
	statusTaken  = proc.Atom("taken")
	statusBusy   = proc.Atom("busy")
	statusNoProc = proc.Atom("noproc")

	atomConflict = proc.Atom("global_name_conflict")
)

// maxNameLen bounds a name taken from a peer; maxSyncEntries the names in
// one sync (a sync over it is refused whole, and logged).
const (
	maxNameLen     = 4096
	maxSyncEntries = 1 << 20
)

// entry is one name in a replica.
type entry struct {
	pid     proc.Pid
	at      int64   // when it was committed, Unix ns on the registering node's clock
	resolve Resolve // how its holder is told if it loses a conflict
	mon     proc.Ref
}

// beats reports whether e keeps the name against o: the package
// comment's rule, the same answer on every node.
func (e entry) beats(o entry) bool {
	if e.at != o.at {
		return e.at < o.at
	}
	if e.pid.Node != o.pid.Node {
		return e.pid.Node < o.pid.Node
	}
	if e.pid.ID != o.pid.ID {
		return e.pid.ID < o.pid.ID
	}
	return e.pid.Serial < o.pid.Serial
}

// msg is a decoded peer message: a tuple checked field by field.
type msg struct {
	tag     proc.Atom
	ref     proc.Ref
	name    string
	node    string
	pid     proc.Pid // the subject pid, or the holder in a claimed reply
	from    proc.Pid // a server's pid
	status  proc.Atom
	at      int64
	resolve Resolve
	entries map[string]entry
}

// errBad describes a message that is not one of the protocol's.
type errBad struct{ why string }

func (e errBad) Error() string { return e.why }

func bad(format string, args ...any) error { return errBad{fmt.Sprintf(format, args...)} }

// decode checks a mailbox message from a peer against the protocol.
func decode(v any) (msg, error) {
	t, ok := v.([]any)
	if !ok || len(t) == 0 {
		return msg{}, bad("not a tuple")
	}
	m := msg{}
	m.tag, ok = t[0].(proc.Atom)
	if !ok {
		return msg{}, bad("no tag")
	}
	f := fields{t: t}
	switch m.tag {
	case tagSync:
		if v := f.int(1); v != protocolVersion && f.err == nil {
			return msg{}, bad("sync of protocol version %d", v)
		}
		m.node, m.from = f.str(2), f.pid(3)
		m.entries = f.entries(4)
		f.n = 5
	case tagClaim:
		m.ref, m.name, m.pid, m.from = f.ref(1), f.name(2), f.pid(3), f.pid(4)
		f.n = 5
	case tagClaimed:
		m.ref, m.node, m.status, m.pid = f.ref(1), f.str(2), f.atom(3), f.anyPid(4)
		f.n = 5
	case tagCommit:
		m.ref, m.name, m.pid, m.at, m.resolve = f.ref(1), f.name(2), f.pid(3), f.int(4), Resolve(f.int(5))
		f.n = 6
	case tagCommitted, tagUnregd:
		m.ref, m.node = f.ref(1), f.str(2)
		f.n = 3
	case tagAbort:
		m.ref, m.name = f.ref(1), f.name(2)
		f.n = 3
	case tagUnreg:
		m.ref, m.name, m.pid = f.anyRef(1), f.name(2), f.pid(3)
		f.n = 4
	default:
		return msg{}, bad("unknown tag %v", m.tag)
	}
	if f.err == nil && len(t) < f.n {
		f.err = bad("%v: %d fields, want %d", m.tag, len(t)-1, f.n-1)
	}
	return m, f.err
}

// fields reads typed fields of a tuple, remembering the first error.
type fields struct {
	t   []any
	n   int
	err error
}

func (f *fields) get(i int) any {
	if i >= len(f.t) {
		if f.err == nil {
			f.err = bad("%v: field %d missing", f.t[0], i)
		}
		return nil
	}
	return f.t[i]
}

func (f *fields) fail(i int, want string) {
	if f.err == nil {
		f.err = bad("%v: field %d is %T, want %s", f.t[0], i, f.get(i), want)
	}
}

func (f *fields) str(i int) string {
	s, ok := f.get(i).(string)
	if !ok || s == "" || len(s) > maxNameLen {
		f.fail(i, "a non-empty string")
	}
	return s
}

func (f *fields) name(i int) string { return f.str(i) }

func (f *fields) atom(i int) proc.Atom {
	a, ok := f.get(i).(proc.Atom)
	if !ok {
		f.fail(i, "an atom")
	}
	return a
}

func (f *fields) anyPid(i int) proc.Pid {
	p, ok := f.get(i).(proc.Pid)
	if !ok {
		f.fail(i, "a pid")
	}
	return p
}

func (f *fields) pid(i int) proc.Pid {
	p := f.anyPid(i)
	if f.err == nil && p.IsZero() {
		f.fail(i, "a pid, not zero")
	}
	return p
}

func (f *fields) anyRef(i int) proc.Ref {
	r, ok := f.get(i).(proc.Ref)
	if !ok {
		f.fail(i, "a ref")
	}
	return r
}

func (f *fields) ref(i int) proc.Ref {
	r := f.anyRef(i)
	if f.err == nil && r.IsZero() {
		f.fail(i, "a ref, not zero")
	}
	return r
}

func (f *fields) int(i int) int64 {
	switch v := f.get(i).(type) {
	case int64:
		return v
	case int:
		return int64(v)
	case Resolve:
		return int64(v)
	}
	f.fail(i, "an integer")
	return 0
}

// entries reads a sync's list of {name, pid, at, resolve}.
func (f *fields) entries(i int) map[string]entry {
	l, ok := f.get(i).([]any)
	if !ok {
		if f.get(i) != nil { // an empty list may arrive as nil
			f.fail(i, "a list")
		}
		return nil
	}
	if len(l) > maxSyncEntries {
		f.err = bad("sync of %d names, more than %d", len(l), maxSyncEntries)
		return nil
	}
	out := make(map[string]entry, len(l))
	for _, e := range l {
		et, ok := e.([]any)
		if !ok || len(et) < 4 {
			f.err = bad("sync: entry %T is not {name, pid, at, resolve}", e)
			return nil
		}
		g := fields{t: append([]any{tagSync}, et...)}
		name, pid, at, res := g.name(1), g.pid(2), g.int(3), Resolve(g.int(4))
		if g.err != nil {
			f.err = fmt.Errorf("sync entry: %w", g.err)
			return nil
		}
		out[name] = entry{pid: pid, at: at, resolve: res}
	}
	return out
}

func syncMsg(node string, from proc.Pid, names map[string]entry) []any {
	l := make([]any, 0, len(names))
	for n, e := range names {
		l = append(l, []any{n, e.pid, e.at, int64(e.resolve)})
	}
	return []any{tagSync, int64(protocolVersion), node, from, l}
}
