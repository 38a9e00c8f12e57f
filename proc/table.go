package proc

import (
	"sync"
	"sync/atomic"
)

// procTable maps Pid.ID to the living process. Pid IDs come from a counter,
// so the table is a three-level radix tree over the 32-bit ID rather than a
// hash map: a lookup is three atomic loads, with no hashing, no lock, no
// boxing of the key, and a shallow stack (it runs on every send and on
// every death, often near the bottom of a fresh 2 KB goroutine stack).
//
// Every ID the node hands out is stored exactly once (start) and deleted
// exactly once (die). A page counts its deletions; when all its IDs have
// been deleted no ID in it can come back until the counter wraps, so the
// page is dropped. Memory therefore follows the living processes: about
// 8 bytes each, plus partly used pages at the ends of the ID range.
//
// After 2^32 spawns IDs wrap around (with a new Pid.Serial); a process that
// has lived that long shares its slot with its successor, and lookup, which
// checks the serial, stops finding it. Erlang has the same limit.
type procTable struct {
	mu  sync.Mutex // serialises adding and dropping pages; readers take no lock
	top [1 << tableTopBits]atomic.Pointer[tableMid]
}

const (
	tableLeafBits = 10
	tableMidBits  = 10
	tableTopBits  = 32 - tableLeafBits - tableMidBits
	tableLeafSize = 1 << tableLeafBits
	tableMidSize  = 1 << tableMidBits
)

type tableMid struct {
	leaves  [tableMidSize]atomic.Pointer[tableLeaf]
	dropped atomic.Int32 // leaves dropped; the page goes at tableMidSize
}

type tableLeaf struct {
	slots [tableLeafSize]atomic.Pointer[Process]
	gone  atomic.Int32 // slots stored and deleted; the page goes at tableLeafSize
}

func tableIndex(id uint32) (top, mid, leaf uint32) {
	return id >> (tableLeafBits + tableMidBits), (id >> tableLeafBits) & (tableMidSize - 1), id & (tableLeafSize - 1)
}

// load returns the process stored under id, or nil.
func (t *procTable) load(id uint32) *Process {
	ti, mi, li := tableIndex(id)
	m := t.top[ti].Load()
	if m == nil {
		return nil
	}
	l := m.leaves[mi].Load()
	if l == nil {
		return nil
	}
	return l.slots[li].Load()
}

// store publishes p under its pid's ID.
func (t *procTable) store(p *Process) {
	ti, mi, li := tableIndex(p.pid.ID)
	if m := t.top[ti].Load(); m != nil {
		if l := m.leaves[mi].Load(); l != nil {
			l.slots[li].Store(p)
			return
		}
	}
	t.mu.Lock()
	m := t.top[ti].Load()
	if m == nil {
		m = new(tableMid)
		t.top[ti].Store(m)
	}
	l := m.leaves[mi].Load()
	if l == nil {
		l = new(tableLeaf)
		m.leaves[mi].Store(l)
	}
	l.slots[li].Store(p)
	t.mu.Unlock()
}

// delete removes p, which must have been stored, and drops pages whose IDs
// have all been used and deleted.
func (t *procTable) delete(p *Process) {
	ti, mi, li := tableIndex(p.pid.ID)
	m := t.top[ti].Load()
	l := m.leaves[mi].Load()
	l.slots[li].CompareAndSwap(p, nil)
	if l.gone.Add(1) < tableLeafSize {
		return
	}
	t.mu.Lock()
	if m.leaves[mi].CompareAndSwap(l, nil) && m.dropped.Add(1) == tableMidSize {
		t.top[ti].CompareAndSwap(m, nil)
	}
	t.mu.Unlock()
}

// each calls f for every stored process, in ID order, until f returns
// false. f may spawn and kill processes; those may or may not be visited.
func (t *procTable) each(f func(p *Process) bool) {
	for ti := range t.top {
		m := t.top[ti].Load()
		if m == nil {
			continue
		}
		for mi := range m.leaves {
			l := m.leaves[mi].Load()
			if l == nil {
				continue
			}
			for li := range l.slots {
				if p := l.slots[li].Load(); p != nil && !f(p) {
					return
				}
			}
		}
	}
}

// Range is each with sync.Map's signature (key the ID, value the
// *Process), for code written against the table's earlier form.
func (t *procTable) Range(f func(id, p any) bool) {
	t.each(func(p *Process) bool { return f(p.pid.ID, p) })
}
