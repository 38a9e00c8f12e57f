// Package pg keeps process groups across a cluster of nodes, as Erlang's pg
// module (OTP 23+) does: named groups of processes, in scopes, whose
// membership every node of the scope knows.
//
// A scope is an ordinary registered process on each node (registered under
// the scope's name, as pg's scope server is). It owns the node's replica of
// the scope: the members joined through it, which it monitors, and the
// members every peer scope announced. Scopes find each other when nodes
// connect (dist's NodeUp), send each other their local members in full (a
// sync), then each join and leave as it happens. A member that dies
// leaves at once; so do all the members of a node that goes down, since
// the scope's monitor of that node's scope fires with noconnection. Reads
// (Members, LocalMembers, Groups) take the replica under a read lock and
// never wait for the scope process or the network.
//
// Membership is eventually consistent, as in pg: a join is in the local
// replica when Join returns, and in a peer's once its scope has handled
// the message, which follows on the same connection. There is no lock
// across the cluster and no agreement; two sides of a partition keep
// their own members, and after the heal (once dist connects them again)
// each sends the other its members and both converge to the union.
// Hidden nodes take no part, as in pg. pg does not dial lost peers: see
// the README's "Process groups" for what reconnects after a heal.
package pg

import (
	"errors"
	"fmt"
	"log"
	"sync"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// Errors callers branch on.
var (
	ErrNotLocal  = errors.New("pg: only processes of the scope's own node may join or leave through it")
	ErrNotJoined = errors.New("pg: none of the processes was a member of the group")
	ErrClosed    = errors.New("pg: scope is closed")
)

// DefaultScope is the scope pg's functions without a scope use in Erlang.
const DefaultScope = "pg"

// Options tune a scope.
type Options struct {
	// Logf is where the scope logs what it ignores (default log.Printf).
	Logf func(format string, args ...any)
}

// Scope is one node's replica of a scope and the handle of its process.
// All methods are safe for concurrent use from any goroutine.
type Scope struct {
	node *dist.Node
	name string
	logf func(string, ...any)
	pid  proc.Pid
	done chan struct{} // closed when the scope process has ended
	stop sync.Once

	v view
}

// Start starts the scope named scope on node: it registers a process under
// that name, which finds the same scope on every connected node and on
// each node that connects later. A scope already running on node under
// that name (or any process registered so) is an error wrapping
// proc.ErrNameTaken.
func Start(node *dist.Node, scope string) (*Scope, error) {
	return StartWith(node, scope, Options{})
}

// StartWith is Start with options.
func StartWith(node *dist.Node, scope string, o Options) (*Scope, error) {
	if scope == "" {
		return nil, errors.New("pg: empty scope name")
	}
	s := &Scope{node: node, name: scope, logf: o.Logf, done: make(chan struct{})}
	if s.logf == nil {
		s.logf = log.Printf
	}
	s.v.init()
	started := make(chan struct{})
	pid, err := node.Proc().SpawnOpt(func(p *proc.Process) {
		<-started // s.pid is set: requests may be answered
		s.run(p)
	}, proc.SpawnOptions{Name: scope, Label: "pg scope " + scope})
	if err != nil {
		return nil, fmt.Errorf("pg: starting scope %q on %s: %w", scope, node.Name(), err)
	}
	s.pid = pid
	close(started)
	return s, nil
}

// Name returns the scope's name.
func (s *Scope) Name() string { return s.name }

// Pid returns the scope process's pid.
func (s *Scope) Pid() proc.Pid { return s.pid }

// Close stops the scope process and waits for it. Peers see it go: every
// member joined through it leaves their replicas. The members themselves
// live on. Idempotent; after Close, changes return ErrClosed and reads
// find nothing.
func (s *Scope) Close() error {
	s.stop.Do(func() { _ = s.node.Proc().Send(s.pid, &request{op: opStop}) })
	<-s.done
	return nil
}

// Done is closed when the scope process has ended, by Close, by its node
// stopping, or killed.
func (s *Scope) Done() <-chan struct{} { return s.done }

// Join adds each of pids to group, once per time it is listed and once
// more per earlier join: a process joined twice is a member twice, and
// Members lists it twice. Every pid must be a live process of the scope's
// node (else ErrNotLocal, or an error wrapping proc.ErrNoProc, and nothing
// joins). The join is in this node's replica when Join returns, and the
// monitors of the group on this node have been sent their message.
func (s *Scope) Join(group string, pids ...proc.Pid) error {
	if err := s.checkLocal(pids); err != nil {
		return err
	}
	_, err := s.request(&request{op: opJoin, group: group, pids: pids})
	return err
}

// Leave removes one membership of group from each of pids: a process
// joined twice stays a member once. Processes that were not members are
// skipped; when none was, Leave returns ErrNotJoined.
func (s *Scope) Leave(group string, pids ...proc.Pid) error {
	if err := s.checkLocal(pids); err != nil {
		return err
	}
	_, err := s.request(&request{op: opLeave, group: group, pids: pids})
	return err
}

// Monitor subscribes the local process sub to group's membership: sub gets
// a JoinMsg for each join and a LeaveMsg for each leave (a death and a
// lost node included), in the order this node's replica changed, carrying
// the returned Ref. members is the group as it was when the subscription
// began, so nothing falls between the two. The subscription ends with
// Demonitor, with sub, or with the scope.
func (s *Scope) Monitor(group string, sub proc.Pid) (proc.Ref, []proc.Pid, error) {
	if err := s.checkLocal([]proc.Pid{sub}); err != nil {
		return proc.Ref{}, nil, err
	}
	r, err := s.request(&request{op: opMonitor, group: group, pids: []proc.Pid{sub}})
	return r.ref, r.members, err
}

// MonitorScope is Monitor for every group of the scope; groups is the
// whole scope when the subscription began.
func (s *Scope) MonitorScope(sub proc.Pid) (proc.Ref, map[string][]proc.Pid, error) {
	if err := s.checkLocal([]proc.Pid{sub}); err != nil {
		return proc.Ref{}, nil, err
	}
	r, err := s.request(&request{op: opMonitorScope, pids: []proc.Pid{sub}})
	return r.ref, r.groups, err
}

// Demonitor ends a subscription made by Monitor or MonitorScope. Messages
// already sent stay in the subscriber's mailbox. It reports whether there
// was such a subscription.
func (s *Scope) Demonitor(ref proc.Ref) bool {
	r, err := s.request(&request{op: opDemonitor, ref: ref})
	return err == nil && r.ok
}

// Members returns the members of group on every node of the scope, from
// this node's replica: a process once per join. Local speed; nil when the
// group is empty.
func (s *Scope) Members(group string) []proc.Pid { return s.v.members(group, false) }

// AppendMembers appends the members of group to dst and returns it, as
// Members does but into a buffer the caller reuses: no allocation once
// dst is large enough.
func (s *Scope) AppendMembers(dst []proc.Pid, group string) []proc.Pid {
	s.v.mu.RLock()
	defer s.v.mu.RUnlock()
	return append(dst, s.v.all[group]...)
}

// LocalMembers returns the members of group on this node.
func (s *Scope) LocalMembers(group string) []proc.Pid { return s.v.members(group, true) }

// Groups returns the groups with members anywhere in the scope, sorted.
func (s *Scope) Groups() []string { return s.v.groups(false) }

// LocalGroups returns the groups with members on this node, sorted.
func (s *Scope) LocalGroups() []string { return s.v.groups(true) }

func (s *Scope) checkLocal(pids []proc.Pid) error {
	for _, p := range pids {
		if p.Node != s.node.Name() {
			return fmt.Errorf("%w: %v is not of %s", ErrNotLocal, p, s.node.Name())
		}
	}
	return nil
}

// request hands r to the scope process and waits for its answer, or for
// the process to end.
func (s *Scope) request(r *request) (reply, error) {
	r.reply = make(chan reply, 1)
	select {
	case <-s.done:
		return reply{}, ErrClosed
	default:
	}
	_ = s.node.Proc().Send(s.pid, r) // a send to a dead local process is dropped: done says so
	select {
	case a := <-r.reply:
		return a, a.err
	case <-s.done:
		return reply{}, ErrClosed
	}
}
