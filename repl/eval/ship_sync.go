package eval

import (
	"reflect"
	"strings"
)

// A process gets its own copy of every variable its code uses (see
// Bundle). For a sync.WaitGroup, Mutex, Once, Cond or an atomic value that
// copy is useless and silently so: "var wg sync.WaitGroup; wg.Add(1);
// spawn(func() { wg.Done() }); wg.Wait()" waited for ever, as the process
// called Done on its copy. Such a capture is refused; a pointer to one is
// shared between the interpreters of a node, as Go shares it between
// goroutines, and passes.

// syncCopy refuses capturing v, the value of the variable name, when it
// holds a value of a type of package sync or sync/atomic (not behind a
// pointer, slice or map, which the copy shares).
func syncCopy(name string, v any) *ShipError {
	t := syncType(reflect.TypeOf(v), map[reflect.Type]bool{})
	if t == nil {
		return nil
	}
	if t != reflect.TypeOf(v) {
		return shipErrorf("the function captures %s, a value holding a %s; a process gets its own copy of each variable it uses, "+
			"so it would use a copy of the %s, never the original. Share a pointer to %s instead", name, t, t, name)
	}
	return shipErrorf("the function captures %s, a %s; a process gets its own copy of each variable it uses, "+
		"so it would use a copy of it, never the original. Share it through a pointer: %s := &%s{} "+
		"(or have the processes send each other messages)", name, t, name, t)
}

// syncType returns the type of package sync or sync/atomic that a value of
// type t holds in itself, or nil.
func syncType(t reflect.Type, seen map[reflect.Type]bool) reflect.Type {
	if t == nil || seen[t] {
		return nil
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Struct:
		if p := t.PkgPath(); p == "sync" || strings.HasPrefix(p, "sync/") {
			return t
		}
		for i := 0; i < t.NumField(); i++ {
			if s := syncType(t.Field(i).Type, seen); s != nil {
				return s
			}
		}
	case reflect.Array:
		return syncType(t.Elem(), seen)
	}
	return nil
}
