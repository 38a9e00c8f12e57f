package dist

import (
	"hash/maphash"
	"sync/atomic"

	"github.com/gonode/gonode/proc"
)

// atom returns the atom named by p, sharing the common ones.
func atom(p []byte) proc.Atom {
	switch string(p) {
	case string(proc.Normal):
		return proc.Normal
	case string(proc.Kill):
		return proc.Kill
	case string(proc.Killed):
		return proc.Killed
	case string(proc.Shutdown):
		return proc.Shutdown
	case string(proc.NoProc):
		return proc.NoProc
	case string(proc.NoConnection):
		return proc.NoConnection
	}
	return proc.Atom(p)
}

// interned shares, across frames, the strings of node names and the boxed
// values of atoms, so that a stream of messages between the same processes
// decodes them without allocating. It is a fixed table indexed by a hash of
// the bytes: a collision only replaces an entry, so a peer that sends many
// different names costs misses, never memory. Entries are immutable.
var interned [512]atomic.Pointer[internEntry]

var internSeed = maphash.MakeSeed()

type internEntry struct {
	s    string
	atom any // proc.Atom(s) boxed, for atoms; nil for node names
}

// maxInterned bounds the strings kept in interned (node names are at most
// 255 bytes; longer atoms are rare).
const maxInterned = 255

func internLookup(p []byte, isAtom bool) *internEntry {
	h := maphash.Bytes(internSeed, p)
	if isAtom {
		h = ^h
	}
	slot := &interned[h%uint64(len(interned))]
	if e := slot.Load(); e != nil && (e.atom != nil) == isAtom && e.s == string(p) {
		return e
	}
	e := &internEntry{s: string(p)}
	if isAtom {
		e.atom = atom(p)
	}
	slot.Store(e)
	return e
}

// internNode returns p as a string, shared with earlier frames if it is there.
func internNode(p []byte) string {
	if len(p) > maxInterned {
		return string(p)
	}
	return internLookup(p, false).s
}

// internAtom returns the atom named by p, boxed, shared with earlier frames.
func internAtom(p []byte) any {
	if len(p) > maxInterned {
		return atom(p)
	}
	return internLookup(p, true).atom
}
