package otp

import (
	"errors"
	"fmt"
	"time"

	"github.com/gonode/gonode/proc"
)

// Where children run: the node each one starts on, the nodes seen lost
// (which count once toward the intensity and are passed over until they are
// back), and the orphans a lost node may still be running.

// maxOrphans bounds the orphans remembered per node: a node that never
// comes back must not make its supervisor grow for ever.
const maxOrphans = 100_000

func appendCapped(pids []proc.Pid, pid proc.Pid, limit int) []proc.Pid {
	if len(pids) >= limit {
		pids = pids[1:]
	}
	return append(pids, pid)
}

// start starts c on the first node of its list that is up. A restart
// (fallback) then tries the supervisor's node; a first start fails with
// what each node said, since a child that cannot run where it was told
// is a mistake to show, not to hide.
func (s *supervisor) start(c *child, fallback bool) error {
	var errs []error
	for _, node := range s.candidates(c, fallback) {
		pid, err := c.spec.Start(s.p, node)
		if err == nil {
			c.pid, c.node = pid, node
			s.byPid[pid] = c
			return nil
		}
		if len(c.spec.Nodes) == 0 {
			return err
		}
		errs = append(errs, fmt.Errorf("on %s: %w", node, err))
	}
	if len(errs) == 0 {
		return fmt.Errorf("none of its nodes %v is up", c.spec.Nodes)
	}
	return errors.Join(errs...)
}

// candidates lists where c may start, in order: its nodes that are not
// known to be lost, then (with fallback) the supervisor's node.
func (s *supervisor) candidates(c *child, fallback bool) []string {
	self := s.p.Node().Name()
	if len(c.spec.Nodes) == 0 {
		return []string{self}
	}
	out := make([]string, 0, len(c.spec.Nodes)+1)
	haveSelf := false
	for _, n := range c.spec.Nodes {
		if n != self && s.nodeLost(n) {
			continue
		}
		haveSelf = haveSelf || n == self
		out = append(out, n)
	}
	if fallback && !haveSelf {
		out = append(out, self)
	}
	return out
}

// nodeLost reports whether node went down and has not been seen since:
// with a Cluster until it is connected again, without one for a period.
func (s *supervisor) nodeLost(node string) bool {
	t, ok := s.lostNodes[node]
	if !ok {
		return false
	}
	back := false
	if s.o.Cluster != nil {
		back = s.o.Cluster.Connected(node)
	} else {
		back = time.Since(t) >= s.o.period()
	}
	if back {
		delete(s.lostNodes, node)
	}
	return !back
}

// killOrphans kills the children lost with a node that is connected again:
// cut off rather than dead, they may have lived on, and have been
// replaced.
func (s *supervisor) killOrphans() {
	if s.o.Cluster == nil {
		return
	}
	for node, pids := range s.orphans {
		if !s.o.Cluster.Connected(node) {
			continue
		}
		delete(s.orphans, node)
		for _, pid := range pids {
			_ = s.p.SendExit(pid, proc.Kill)
		}
	}
}
