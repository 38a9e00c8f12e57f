package otp

import (
	"time"

	"github.com/gonode/gonode/proc"
)

// stop ends the supervisor: children stopped in reverse order, then exit.
func (s *supervisor) stop(reason any) {
	s.terminateAll()
	s.p.Exit(reason)
}

// terminateAll stops every child, in reverse start order.
func (s *supervisor) terminateAll() {
	for i := len(s.children) - 1; i >= 0; i-- {
		s.terminate(s.children[i])
	}
}

// terminate stops one child as OTP's shutdown/2 does: monitor, unlink,
// exit(shutdown), wait up to the shutdown time, then kill.
func (s *supervisor) terminate(c *child) {
	pid := c.pid
	c.restarting = false
	if pid.IsZero() {
		return
	}
	delete(s.byPid, pid)
	c.pid = proc.Pid{}
	p := s.p
	ref := p.Monitor(pid)
	_ = p.Unlink(pid)
	// An exit that came before the unlink is in the mailbox: the child is
	// dead already and its DOWN follows.
	_, _ = p.ReceiveMatchTimeout(0, func(m any) bool {
		e, ok := m.(proc.ExitMsg)
		return ok && e.From == pid
	})
	d := c.spec.shutdown()
	if d == BrutalKill {
		_ = p.SendExit(pid, proc.Kill)
		s.awaitDown(ref, Infinity)
		return
	}
	_ = p.SendExit(pid, proc.Shutdown)
	if !s.awaitDown(ref, d) {
		_ = p.SendExit(pid, proc.Kill)
		s.awaitDown(ref, Infinity)
	}
}

// awaitDown waits up to d for the DOWN of monitor ref.
func (s *supervisor) awaitDown(ref proc.Ref, d time.Duration) bool {
	_, err := s.p.ReceiveMatchTimeout(d, func(m any) bool {
		dm, ok := m.(proc.DownMsg)
		return ok && dm.Ref == ref
	})
	return err == nil
}
