package proc

// Mailbox limits. Erlang lets a mailbox grow until the node runs out of
// memory (a process that never receives, flooded, grew its node to 6.7 GB
// in 30 s); max_heap_size can kill such a process. gonode offers a limit
// per process, or a node default, with a policy for a full mailbox, and a
// warning when a mailbox passes a threshold. Only messages count and only
// messages are refused: exit signals, DOWNs and call replies always get
// in, so that links, monitors and calls keep their guarantees.

// MailboxPolicy says what a send to a full mailbox does.
type MailboxPolicy uint8

const (
	// DropNewest drops the message being sent, as a send to a dead process
	// is dropped: the sender is not told.
	DropNewest MailboxPolicy = iota
	// KillOnFull kills the receiver with reason MailboxFull (Erlang's
	// max_heap_size kill, with a reason that says why).
	KillOnFull
)

// MailboxFull is the exit reason of a process killed by KillOnFull.
const MailboxFull Atom = "mailbox_full"

// mailboxLimit is a node's default limit, or a process's own.
type mailboxLimit struct {
	max    int32 // 0: none
	policy MailboxPolicy
}

// mailboxWarning is the node's warning hook and its threshold.
type mailboxWarning struct {
	threshold int
	f         func(pid Pid, length int)
}

// SetMailboxLimit sets the limit of processes spawned from now on without
// one of their own (SpawnOptions.MaxMailbox); 0 removes it.
func (n *Node) SetMailboxLimit(max int, policy MailboxPolicy) {
	n.mailboxDefault.Store(&mailboxLimit{max: clampLimit(max), policy: policy})
}

// SetMailboxWarning calls f, once per process life, when the mailbox of a
// process reaches threshold messages. f runs on the sender's goroutine and
// must not block; nil f removes the warning.
func (n *Node) SetMailboxWarning(threshold int, f func(pid Pid, length int)) {
	if f == nil || threshold <= 0 {
		n.mailboxWarn.Store(nil)
		return
	}
	n.mailboxWarn.Store(&mailboxWarning{threshold: threshold, f: f})
}

func clampLimit(n int) int32 {
	switch {
	case n <= 0:
		return 0
	case n > 1<<31-1:
		return 1<<31 - 1
	}
	return int32(n)
}

// limitFor is the limit a process spawned with o gets.
func (n *Node) limitFor(o SpawnOptions) mailboxLimit {
	if o.MaxMailbox > 0 {
		return mailboxLimit{max: clampLimit(o.MaxMailbox), policy: o.MailboxFull}
	}
	if d := n.mailboxDefault.Load(); d != nil {
		return *d
	}
	return mailboxLimit{}
}

// mailboxCheckLocked decides, with p.mu held, whether a message may enter p's
// mailbox. It returns false to drop it, and whether to kill p (after
// unlocking) and the warning to give.
//
//go:noinline
func (p *Process) mailboxCheckLocked(w *mailboxWarning) (ok, kill bool, warnAt int) {
	length := len(p.incoming) + int(p.inboxLen.Load())
	if w != nil && !p.mailboxWarned && length+1 >= w.threshold {
		p.mailboxWarned = true
		warnAt = length + 1
	}
	if p.limit.max > 0 && length >= int(p.limit.max) {
		return false, p.limit.policy == KillOnFull, warnAt
	}
	return true, false, warnAt
}
