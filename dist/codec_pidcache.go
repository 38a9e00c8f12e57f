package dist

import "github.com/gonode/gonode/proc"

// pidCache remembers the last pids a connection's decoder read, with the
// bytes they were read from. A stream between two processes carries the
// same sender and receiver in every frame: comparing a few dozen bytes is
// cheaper than reading the node name, looking it up and reading three
// numbers. A codec made for a connection has one (Protocol.NewConn); its
// Decode is then called by one goroutine at a time (the connection's
// reader and its decode stage take turns), which is what makes the cache
// safe without a lock.
type pidCache struct {
	slots [pidCacheSlots]pidCacheSlot
	next  int // the slot the next miss replaces
}

const (
	pidCacheSlots = 4
	// pidCacheBytes bounds the bodies remembered: a node name of up to
	// about 40 bytes and the three numbers.
	pidCacheBytes = 56
)

type pidCacheSlot struct {
	n   int // bytes of raw used; 0: empty
	raw [pidCacheBytes]byte
	pid proc.Pid
}

func (c *pidCache) lookup(body []byte) (proc.Pid, bool) {
	if c == nil {
		return proc.Pid{}, false
	}
	for i := range c.slots {
		s := &c.slots[i]
		if s.n == len(body) && string(s.raw[:s.n]) == string(body) {
			return s.pid, true
		}
	}
	return proc.Pid{}, false
}

func (c *pidCache) remember(body []byte, p proc.Pid) {
	if c == nil || len(body) == 0 || len(body) > pidCacheBytes {
		return
	}
	s := &c.slots[c.next]
	c.next = (c.next + 1) % pidCacheSlots
	s.n = copy(s.raw[:], body)
	s.pid = p
}

// pidMemo is the encoding side's counterpart of pidCache: the last pids an
// encoder wrote, each with its whole encoded extPid value. An encoder is
// used by one goroutine at a time (encoders is a sync.Pool), and an
// encoding depends on nothing but the pid, so the memo needs no lock and
// stays right whichever connection the encoder writes for next.
type pidMemo struct {
	slots [pidMemoSlots]pidMemoSlot
	next  int
}

const pidMemoSlots = 2 // a message's sender and receiver

type pidMemoSlot struct {
	pid proc.Pid
	n   int // bytes of enc used; 0: empty
	enc [pidCacheBytes + 3]byte
}

func (m *pidMemo) lookup(p proc.Pid) ([]byte, bool) {
	for i := range m.slots {
		s := &m.slots[i]
		if s.n > 0 && s.pid == p {
			return s.enc[:s.n], true
		}
	}
	return nil, false
}

func (m *pidMemo) remember(p proc.Pid, enc []byte) {
	if len(enc) > len(m.slots[0].enc) {
		return
	}
	s := &m.slots[m.next]
	m.next = (m.next + 1) % pidMemoSlots
	s.n = copy(s.enc[:], enc)
	s.pid = p
}
