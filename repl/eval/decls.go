package eval

import (
	"sort"
	"strings"
	"sync"

	"github.com/gonode/gonode/repl/syntax"
)

// declEntry is one top-level declaration accepted in a session, kept as
// source so that a fresh interpreter can evaluate it again, with its place
// in the order of definitions. Entries are immutable once committed.
type declEntry struct {
	*syntax.Decl
	seq uint64 // order of (re)definition, set by commit
}

// extract returns the declarations and the package-level variables that a
// snippet introduces, as entries for the table.
func extract(sn *syntax.Snippet) (entries []*declEntry, vars []string) {
	decls, vars := syntax.Extract(sn)
	for _, d := range decls {
		entries = append(entries, &declEntry{Decl: d})
	}
	return entries, vars
}

type varEntry struct {
	seq uint64
	val any  // value at the last snapshot
	has bool // val is set
}

// declTable records a session's top-level declarations (latest definition
// wins) and the names of its package-level variables with their last
// snapshot values. It is safe for concurrent use.
type declTable struct {
	mu      sync.RWMutex          // guards the fields below
	seq     uint64                // last sequence number given out
	entries map[string]*declEntry // by key
	names   map[string]*declEntry // declared identifier (or import name) -> entry
	vars    map[string]*varEntry  // package-level variables
}

func newDeclTable() *declTable {
	return &declTable{entries: map[string]*declEntry{}, names: map[string]*declEntry{}, vars: map[string]*varEntry{}}
}

// commit records entries and variables; the latest definition of a name
// wins, whatever it was before. It returns the redefined names that the
// shell interpreter cannot take in place: yaegi ignores a new definition of
// a type or a method, and functions already declared keep calling the old
// definition of a function, constant or variable they use. The shell
// rebuilds its interpreter for those.
func (t *declTable) commit(entries []*declEntry, vars []string) (stale []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fresh := map[*declEntry]bool{}
	for _, e := range entries {
		fresh[e] = true
	}
	// used reports whether a declaration made before this commit uses name.
	used := func(name string) bool {
		for _, o := range t.entries {
			if !fresh[o] && contains(o.Refs, name) {
				return true
			}
		}
		return false
	}
	for _, e := range entries {
		t.seq++
		e.seq = t.seq
		if old := t.entries[e.Key]; old != nil {
			if old.Src != e.Src && (e.Kind == syntax.DeclType || e.Kind == syntax.DeclMethod || e.Names != nil && used(e.Names[0])) {
				stale = append(stale, e.Key)
			}
			t.drop(old)
		}
		for _, n := range e.Names {
			if old := t.names[n]; old != nil {
				t.drop(old)
			}
			if t.vars[n] != nil && used(n) {
				stale = append(stale, n)
			}
			delete(t.vars, n)
		}
		t.entries[e.Key] = e
		for _, n := range e.Names {
			t.names[n] = e
		}
	}
	for _, v := range vars {
		if old := t.names[v]; old != nil {
			t.drop(old)
			if used(v) {
				stale = append(stale, v)
			}
		}
		if t.vars[v] == nil {
			t.seq++
			t.vars[v] = &varEntry{seq: t.seq}
		} else if used(v) {
			stale = append(stale, v) // redeclared: a new variable for yaegi
		}
	}
	return stale
}

// used reports whether a declaration of the session uses name.
func (t *declTable) used(name string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, e := range t.entries {
		if contains(e.Refs, name) {
			return true
		}
	}
	return false
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (t *declTable) drop(e *declEntry) {
	delete(t.entries, e.Key)
	for _, n := range e.Names {
		if t.names[n] == e {
			delete(t.names, n)
		}
	}
}

// lookup returns the entry declaring name, or nil.
func (t *declTable) lookup(name string) *declEntry {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.names[name]
}

// isVar reports whether name is a package-level variable of the session.
func (t *declTable) isVar(name string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.vars[name] != nil
}

// closure returns, for code whose free identifiers are free, the entries it
// needs transitively (a type brings its methods, dot imports always come)
// and the package-level variables they use, skipping names in skip.
func (t *declTable) closure(free []string, skip map[string]bool) (entries []*declEntry, vars []string) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	seen := map[*declEntry]bool{}
	seenVar := map[string]bool{}
	queue := append([]string(nil), free...)
	add := func(e *declEntry) {
		if !seen[e] {
			seen[e] = true
			entries = append(entries, e)
			queue = append(queue, e.Refs...)
		}
	}
	for _, e := range t.entries {
		if e.Kind == syntax.DeclImport && len(e.Names) == 0 {
			add(e)
		}
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if skip[n] {
			continue
		}
		if e := t.names[n]; e != nil {
			add(e)
			if e.Kind == syntax.DeclType {
				for _, m := range t.entries {
					if m.Kind == syntax.DeclMethod && m.Recv == n {
						add(m)
					}
				}
			}
		} else if t.vars[n] != nil && !seenVar[n] {
			seenVar[n] = true
			vars = append(vars, n)
		}
	}
	sortEntries(entries)
	sort.Strings(vars)
	return entries, vars
}

// all returns every entry and every variable name, in definition order.
func (t *declTable) all() (entries []*declEntry, vars []string) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, e := range t.entries {
		entries = append(entries, e)
	}
	sortEntries(entries)
	for v := range t.vars {
		vars = append(vars, v)
	}
	sort.Slice(vars, func(i, j int) bool { return t.vars[vars[i]].seq < t.vars[vars[j]].seq })
	return entries, vars
}

// sortEntries orders imports first, then by definition order.
func sortEntries(es []*declEntry) {
	sort.Slice(es, func(i, j int) bool {
		ii, ij := es[i].Kind == syntax.DeclImport, es[j].Kind == syntax.DeclImport
		if ii != ij {
			return ii
		}
		return es[i].seq < es[j].seq
	})
}

// source renders entries as one Go source text (imports first).
func source(es []*declEntry) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString(e.Src)
		b.WriteString("\n")
	}
	return b.String()
}

// value returns the snapshot value of variable name.
func (t *declTable) value(name string) (any, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	v := t.vars[name]
	if v == nil || !v.has {
		return nil, false
	}
	return v.val, true
}

// setValues stores a snapshot of variables.
func (t *declTable) setValues(names []string, vals []any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, n := range names {
		if v := t.vars[n]; v != nil && i < len(vals) {
			v.val, v.has = vals[i], true
		}
	}
}

// dropVars forgets variables (values lost when the shell was rebuilt).
func (t *declTable) dropVars(names []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, n := range names {
		delete(t.vars, n)
	}
}

// dropEntries forgets declarations that no longer load.
func (t *declTable) dropEntries(es []*declEntry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range es {
		if t.entries[e.Key] == e {
			t.drop(e)
		}
	}
}

// identifiers returns every name the session declared, for completion.
func (t *declTable) identifiers() []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]string, 0, len(t.names)+len(t.vars))
	for n := range t.names {
		out = append(out, n)
	}
	for n := range t.vars {
		out = append(out, n)
	}
	return out
}
