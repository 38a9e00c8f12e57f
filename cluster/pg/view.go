package pg

import (
	"slices"
	"sort"
	"sync"

	"github.com/gonode/gonode/proc"
)

// view is the replica readers see. Only the scope process writes it, in
// place under the lock; readers copy what they return under the read
// lock, so the writer may read it without the lock.
type view struct {
	mu    sync.RWMutex
	all   map[string][]proc.Pid // guarded by mu: members on every node
	local map[string][]proc.Pid // guarded by mu: members on this node
}

func (v *view) init() {
	v.all = make(map[string][]proc.Pid)
	v.local = make(map[string][]proc.Pid)
}

func (v *view) members(group string, local bool) []proc.Pid {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if local {
		return slices.Clone(v.local[group])
	}
	return slices.Clone(v.all[group])
}

func (v *view) groups(local bool) []string {
	v.mu.RLock()
	m := v.all
	if local {
		m = v.local
	}
	out := make([]string, 0, len(m))
	for g := range m {
		out = append(out, g)
	}
	v.mu.RUnlock()
	sort.Strings(out)
	return out
}

// update removes and adds members of group (of this node if local): a
// join costs an append, not a copy of the group.
func (v *view) update(group string, add, remove []proc.Pid, local bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	apply(v.all, group, add, remove)
	if local {
		apply(v.local, group, add, remove)
	}
}

// clear empties the replica, when the scope ends.
func (v *view) clear() {
	v.mu.Lock()
	v.init()
	v.mu.Unlock()
}

func apply(m map[string][]proc.Pid, group string, add, remove []proc.Pid) {
	l, _ := removeIn(m[group], remove)
	l = append(l, add...)
	if len(l) == 0 {
		delete(m, group)
		return
	}
	m[group] = l
}

// removeIn deletes one instance of each of remove from list, in place,
// and returns what is left and what it removed (a multiset difference).
// One pid is looked for from the end, where the latest joins are.
func removeIn(list, remove []proc.Pid) (rest, removed []proc.Pid) {
	switch len(remove) {
	case 0:
		return list, nil
	case 1:
		for i := len(list) - 1; i >= 0; i-- {
			if list[i] == remove[0] {
				copy(list[i:], list[i+1:])
				list[len(list)-1] = proc.Pid{}
				return list[:len(list)-1], []proc.Pid{remove[0]}
			}
		}
		return list, nil
	}
	left := make(map[proc.Pid]int, len(remove))
	for _, p := range remove {
		left[p]++
	}
	out := list[:0]
	for _, p := range list {
		if left[p] > 0 {
			left[p]--
			removed = append(removed, p)
			continue
		}
		out = append(out, p)
	}
	clear(list[len(out):])
	return out, removed
}

// without returns a new slice of list less one instance of each of remove
// (a multiset difference), or a fresh copy of list.
func without(list, remove []proc.Pid) []proc.Pid {
	out := make([]proc.Pid, 0, len(list)+1)
	if len(remove) == 0 {
		return append(out, list...)
	}
	left := make(map[proc.Pid]int, len(remove))
	for _, p := range remove {
		left[p]++
	}
	for _, p := range list {
		if left[p] > 0 {
			left[p]--
			continue
		}
		out = append(out, p)
	}
	return out
}
