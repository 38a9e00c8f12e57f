package eval

import (
	"io"
	"os"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
)

// Interpreter pools. Building a worker interpreter costs about 4 ms (the
// standard library's symbols, the prelude, then the shipped code), which
// made an rpc into a shell function 150 times slower than one into
// strings.ToUpper. A session therefore keeps the interpreters its rpcs and
// spawns used, keyed by exactly what was loaded into them:
//
//   - a Bundle (rpc, local spawn): its declarations, its function and the
//     names and types of its captured variables. The captured values are
//     not part of the key: each use assigns them afresh;
//   - a source text from a peer (remote spawn): the text itself.
//
// A redefinition changes the declarations, hence the key: the next call
// builds from the latest definition, and the interpreters of the old key
// are dropped (a key remembers the function name it was resolved for).
//
// An interpreter serves one use at a time (yaegi races when two goroutines
// run code in one interpreter): a use takes it out of the pool and gives it
// back when it ends (Func.Release). One that was cancelled (yaegi's
// cancellation is interpreter-wide and leaves goroutines unwinding) or
// panicked is never given back. When none is idle a new one is built, so a
// use never waits for another; the idle ones are bounded, per key and in
// all, which bounds the memory the pool holds (about 1.3 MiB each).
//
// Isolation: processes share nothing, and two calls of a function must not
// see each other's assignments. Before each reuse the package-level
// variables of the interpreter are assigned their initial values again:
// for a Bundle the captured values of this use, for a source text its var
// initializers, evaluated again. A shipped function has no other
// package-level state (session variables are shipped as captures, not as
// declarations), and __self is bound to the new process by the caller.
// What a captured pointer, slice or map refers to is shared, as it was
// when each use loaded the Bundle into a fresh interpreter.

// poolMaxIdle bounds the idle interpreters of a session, all keys together:
// about 21 MiB.
const poolMaxIdle = 16

// poolMaxPerKey bounds the idle interpreters of one key: enough for the
// callers that can run at once on this machine.
var poolMaxPerKey = max(4, runtime.GOMAXPROCS(0))

// interpPool holds a session's idle worker interpreters. It is safe for
// concurrent use.
type interpPool struct {
	builds atomic.Int64 // interpreters built for the pool, for tests and figures

	mu    sync.Mutex          // guards the fields below
	sets  map[string]*poolSet // key -> idle interpreters; no empty set is kept
	tags  map[string]string   // function name -> the key it was last resolved to
	idle  int                 // idle interpreters in all sets
	clock uint64              // counts puts, for eviction of the least recently used
}

type poolSet struct {
	idle []*pooled
	used uint64 // clock at the last put
}

// pooled is one interpreter of a pool, with what a use needs.
type pooled struct {
	key, tag string
	in       *Interp
	fn       *Func         // the loaded function, bound in in
	out      *switchWriter // in's stdout: each use says where its output goes
	// A Bundle's captured values are read through caps (one getter each,
	// capture i under captured.G<i>); names are the captured variables.
	caps  []reflect.Value
	names []string
	reset reflect.Value // an interpreted func() assigning every package-level variable its initial value; invalid if none
	used  bool          // a use ran: reset before the next one
	// broken is set by the use that holds it when the interpreter must not
	// be reused (a panic, a reset that failed).
	broken bool
}

func newInterpPool() *interpPool {
	return &interpPool{sets: map[string]*poolSet{}, tags: map[string]string{}}
}

// get takes an idle interpreter of key, or returns nil. A tag (the name of
// a resolved function) that now stands for a new key drops the idle
// interpreters of its old one: they hold an old definition.
func (p *interpPool) get(key, tag string) *pooled {
	var stale []*pooled
	defer func() { closeAll(stale) }()
	p.mu.Lock()
	defer p.mu.Unlock()
	if tag != "" {
		if old, ok := p.tags[tag]; ok && old != key {
			if s := p.sets[old]; s != nil {
				stale = s.idle
				p.idle -= len(s.idle)
				delete(p.sets, old)
			}
		}
		p.tags[tag] = key
	}
	s := p.sets[key]
	if s == nil {
		return nil
	}
	pi := s.idle[len(s.idle)-1]
	s.idle = s.idle[:len(s.idle)-1]
	p.idle--
	if len(s.idle) == 0 {
		delete(p.sets, key)
	}
	return pi
}

// put gives back an interpreter after a use. A broken or abandoned one, one
// whose tag stands for another key by now, or one beyond the bounds is
// dropped: its call server is stopped, and the garbage collector frees the
// rest.
func (p *interpPool) put(pi *pooled) {
	if pi.broken || pi.in.Abandoned() || pi.in.serverStopped() {
		pi.in.closeServer()
		return
	}
	pi.used = true
	var drop []*pooled
	defer func() { closeAll(drop) }()
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.sets[pi.key]
	if s == nil {
		s = &poolSet{}
	}
	if pi.tag != "" && p.tags[pi.tag] != pi.key || len(s.idle) >= poolMaxPerKey {
		drop = append(drop, pi)
		return
	}
	p.sets[pi.key] = s
	p.clock++
	s.idle = append(s.idle, pi)
	s.used = p.clock
	p.idle++
	for p.idle > poolMaxIdle {
		drop = append(drop, p.evictLocked())
	}
}

// close drops every idle interpreter, stopping their call servers. The
// pool may be used afterwards.
func (p *interpPool) close() {
	p.mu.Lock()
	var drop []*pooled
	for _, s := range p.sets {
		drop = append(drop, s.idle...)
	}
	p.sets, p.idle = map[string]*poolSet{}, 0
	p.mu.Unlock()
	closeAll(drop)
}

func closeAll(ps []*pooled) {
	for _, pi := range ps {
		pi.in.closeServer()
	}
}

// evictLocked takes out one idle interpreter of the least recently used
// key, for the caller to close.
func (p *interpPool) evictLocked() *pooled {
	var oldest string
	var at uint64
	for k, s := range p.sets {
		if oldest == "" || s.used < at {
			oldest, at = k, s.used
		}
	}
	s := p.sets[oldest]
	pi := s.idle[0]
	s.idle = s.idle[1:]
	p.idle--
	if len(s.idle) == 0 {
		delete(p.sets, oldest)
	}
	return pi
}

// idleCount is the number of idle interpreters, for tests.
func (p *interpPool) idleCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.idle
}

// switchWriter is a pooled interpreter's stdout: the writer of the use that
// holds it (a peer's group leader for a remote spawn).
type switchWriter struct{ w atomic.Pointer[io.Writer] }

func (s *switchWriter) set(w io.Writer) { s.w.Store(&w) }

func (s *switchWriter) Write(b []byte) (int, error) {
	if w := s.w.Load(); w != nil && *w != nil {
		return (*w).Write(b)
	}
	return os.Stdout.Write(b)
}

// PoolStats reports how many interpreters the session's pool has built
// and how many it holds idle: for tests and figures that check reuse.
func (s *Session) PoolStats() (built int64, idle int) {
	return s.pool.builds.Load(), s.pool.idleCount()
}
