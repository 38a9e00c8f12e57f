package eval

import (
	"context"
	"strings"
)

// yaegi cannot take back or redefine in place what an interpreter holds:
// after Ctrl-C or a redefinition the shell interpreter is replaced by one
// built from the declarations and the last snapshot of the variables.

// snapshot stores the current values of the session's variables, which
// rebuilt interpreters and shipped code start from.
func (in *Interp) snapshot() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.snapshotLocked()
}

func (in *Interp) snapshotLocked() {
	_, vars := in.tab.all()
	if len(vars) == 0 || in.abandoned {
		return
	}
	ctx := context.Background()
	in.takeResult()
	if in.evalRaw(ctx, rtName+".Result("+strings.Join(vars, ", ")+")") == nil {
		in.tab.setValues(vars, in.takeResult())
		return
	}
	var gone []string // one failed: take them one by one
	for _, v := range vars {
		if in.evalRaw(ctx, rtName+".Result("+v+")") != nil {
			gone = append(gone, v)
			continue
		}
		in.tab.setValues([]string{v}, in.takeResult())
	}
	in.tab.dropVars(gone)
}

// fullBundle holds every declaration and every variable whose snapshot
// value can be carried to another interpreter; lost lists the others.
func (s *Session) fullBundle() (b Bundle, entries []*declEntry, lost []string) {
	entries, vars := s.tab.all()
	b.Decls = source(entries)
	for _, v := range vars {
		val, ok := s.tab.value(v)
		if !ok {
			lost = append(lost, v)
			continue
		}
		c, err := capture(v, val)
		if err != nil {
			lost = append(lost, v)
			continue
		}
		b.Captures = append(b.Captures, c)
	}
	return b, entries, lost
}

// rebuild replaces the shell interpreter (s.evalMu held) and returns the
// notice for the user.
func (s *Session) rebuild(why string) string {
	b, entries, lost := s.fullBundle()
	ctx := context.Background()
	in, err := newInterp(s.env, s.tab, nil)
	if err != nil {
		return why + ": cannot start a new interpreter: " + err.Error()
	}
	if _, err := in.load(ctx, b, false); err != nil {
		// Declarations that only loaded in their original order: one by one.
		if in, err = newInterp(s.env, s.tab, nil); err != nil {
			return why + ": cannot start a new interpreter: " + err.Error()
		}
		if _, err := in.load(ctx, Bundle{Captures: b.Captures}, false); err != nil {
			lost = append(lost, names(b.Captures)...)
		}
		var broken []*declEntry
		for _, e := range entries {
			if _, err := in.run(ctx, e.Src, false); err != nil {
				broken = append(broken, e)
				lost = append(lost, e.Names...)
			}
		}
		s.tab.dropEntries(broken)
	}
	s.tab.dropVars(lost)
	if old := s.shell; !old.Abandoned() {
		// Calls deferred at the prompt still run when the input ends, in
		// the interpreter that made them (lower_defer.go); a cancelled one
		// runs nothing more, so an interruption drops them.
		in.deferred, old.deferred = old.deferred, nil
	}
	s.shell = in
	s.learnShellTypes() // a rebuild after a push may bring types (types.go)
	msg := why + ": shell interpreter rebuilt"
	if len(lost) > 0 {
		msg += "; lost: " + strings.Join(lost, ", ")
	}
	return msg
}

func names(cs []Capture) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}
