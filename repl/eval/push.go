package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/gonode/gonode/repl/syntax"
)

// Code pushed from another node (the shell's push(), repl/push.go) is
// installed in two steps, so that every node can say no before any
// switches: PrepareCode checks the pushed declarations against this
// session's own, compiled together and fresh in a scratch interpreter, and
// returns them staged; InstallCode then records them in the declaration
// table as if they had been typed here (the latest definition wins).
//
// Everything that runs a function by name (an rpc, async or multicall
// from a peer, spawn of a declared function) builds its interpreter from
// the table, so the next such call runs the new code, while a call already
// running finishes on the code it started with. The shell interpreter,
// which may be busy with a long snippet, is rebuilt from the table at once
// if idle, else before its next snippet.
//
// Only declarations travel (imports, types, methods, functions,
// constants). Package-level variables are each node's own state, as an
// Erlang code load leaves the state of processes alone: pushed code that
// uses a variable runs on a node only if that node declared it.

// ErrPushRejected is wrapped by PrepareCode's refusals: code that does not
// parse, carries variables or statements, uses a variable this session
// does not have, or does not compile with this session's declarations.
var ErrPushRejected = errors.New("code rejected")

// Declarations returns what push() sends: the session's declarations as
// one Go source text (imports first, then in definition order) and the
// names of the session's variables that they use, sorted.
func (s *Session) Declarations() (src string, vars []string) {
	entries, all := s.tab.all()
	for _, v := range all {
		for _, e := range entries {
			if contains(e.Refs, v) {
				vars = append(vars, v)
				break
			}
		}
	}
	sort.Strings(vars)
	return source(entries), vars
}

// StagedCode is pushed code that PrepareCode accepted, waiting for
// InstallCode. It is immutable.
type StagedCode struct {
	decls []*syntax.Decl
}

// Names lists what the staged code declares (a method as T.M), in order.
func (c *StagedCode) Names() []string {
	var out []string
	for _, d := range c.decls {
		if d.Kind == syntax.DeclMethod {
			out = append(out, d.Key)
		}
		out = append(out, d.Names...)
	}
	return out
}

// PrepareCode checks code pushed by another node: src must hold
// declarations only, every variable in vars (those the code uses) must be
// declared here too, and this session's declarations with src's in place
// of those of the same name must compile together, against the values of
// this session's variables. The session is not changed. A refusal wraps
// ErrPushRejected and says why.
func (s *Session) PrepareCode(ctx context.Context, src string, vars []string) (*StagedCode, error) {
	sn, err := syntax.Analyze(src)
	if err != nil {
		return nil, fmt.Errorf("%w: it does not parse: %w", ErrPushRejected, err)
	}
	if sn.Kind == syntax.Empty {
		return &StagedCode{}, nil
	}
	if sn.Kind != syntax.Decls {
		return nil, fmt.Errorf("%w: it holds statements; only declarations can be pushed", ErrPushRejected)
	}
	if err := sn.CheckGo(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPushRejected, err)
	}
	decls, declared := syntax.Extract(sn)
	if len(declared) > 0 {
		return nil, fmt.Errorf("%w: it declares variables (%s); only declarations of functions, types, methods, constants and imports can be pushed", ErrPushRejected, strings.Join(declared, ", "))
	}
	merged := s.tab.clone()
	merged.commit(fresh(decls), nil)
	var missing []string
	for _, v := range vars {
		if !merged.isVar(v) {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: it uses the variable %s, which this node has not declared (variables are not pushed: declare them here first)", ErrPushRejected, strings.Join(missing, ", "))
	}
	in, err := newInterp(s.env, newDeclTable(), io.Discard)
	if err != nil {
		return nil, fmt.Errorf("checking pushed code: %w", err)
	}
	b, entries := mergedBundle(merged)
	if _, err := in.load(ctx, b, false); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("checking pushed code: %w", ctx.Err())
		}
		return nil, fmt.Errorf("%w: it does not compile with this node's declarations: %w", ErrPushRejected, blame(err, entries, decls))
	}
	return &StagedCode{decls: decls}, nil
}

// InstallCode records staged code in the session, as if typed here. It
// does not wait for a snippet that runs: the shell interpreter catches up
// before the next one (see applyPushedLocked).
func (s *Session) InstallCode(c *StagedCode) {
	if c == nil || len(c.decls) == 0 {
		return
	}
	changed := s.tab.differs(c.decls)
	s.tab.commit(fresh(c.decls), nil)
	s.gen.Add(1) // cached Bundles of session functions are made again
	if !changed {
		return
	}
	s.pushed.Store(true)
	if s.evalMu.TryLock() {
		s.applyPushedLocked()
		s.evalMu.Unlock()
	}
}

// applyPushedLocked (s.evalMu held) rebuilds the shell interpreter from
// the table after InstallCode changed it: yaegi would keep the old types
// and the functions compiled against them. What the rebuild loses (a
// variable whose value cannot be carried over) is said on Options.Stderr.
func (s *Session) applyPushedLocked() {
	if !s.pushed.Swap(false) {
		return
	}
	msg := s.rebuild("code pushed from another node")
	if strings.Contains(msg, "; lost: ") || strings.Contains(msg, "cannot start") {
		w := s.env.opts.Stderr
		if w == nil {
			w = io.Discard
		}
		fmt.Fprintln(w, "** "+msg)
	}
}

// fresh makes table entries of decls; each commit needs its own, since
// commit numbers them.
func fresh(decls []*syntax.Decl) []*declEntry {
	out := make([]*declEntry, len(decls))
	for i, d := range decls {
		out[i] = &declEntry{Decl: d}
	}
	return out
}

// clone returns a copy of the table that can be changed alone.
func (t *declTable) clone() *declTable {
	t.mu.RLock()
	defer t.mu.RUnlock()
	c := newDeclTable()
	c.seq = t.seq
	for k, e := range t.entries {
		c.entries[k] = e
	}
	for n, e := range t.names {
		c.names[n] = e
	}
	for n, v := range t.vars {
		cp := *v
		c.vars[n] = &cp
	}
	return c
}

// differs reports whether committing decls would change the table: one is
// new, or its source is not the one recorded under its key.
func (t *declTable) differs(decls []*syntax.Decl) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, d := range decls {
		if e := t.entries[d.Key]; e == nil || e.Src != d.Src {
			return true
		}
	}
	return false
}

// mergedBundle is every declaration of t with the snapshot values of its
// variables, for a compile check only: the values are not copied
// anywhere, so they need not be portable (a variable holding a function
// keeps its type). Variables without a value yet are left out.
func mergedBundle(t *declTable) (Bundle, []*declEntry) {
	entries, vars := t.all()
	b := Bundle{Decls: source(entries)}
	for _, v := range vars {
		val, ok := t.value(v)
		if !ok {
			continue
		}
		c := Capture{Name: v, Value: val}
		if val != nil {
			c.Type = fmt.Sprintf("%T", val)
		}
		b.Captures = append(b.Captures, c)
	}
	return b, entries
}

var lineRE = regexp.MustCompile(`^line (\d+): `)

// blame names the declaration a compile error's line falls in, and whose
// it is, in place of a line number of the merged source, which neither
// the pushing user nor this node's has seen.
func blame(err error, entries []*declEntry, pushed []*syntax.Decl) error {
	msg := err.Error()
	m := lineRE.FindStringSubmatch(msg)
	if m == nil {
		return err
	}
	at, _ := strconv.Atoi(m[1])
	line := 1
	for _, e := range entries {
		n := strings.Count(e.Src, "\n") + 1
		if at >= line && at < line+n {
			whose := "this node's"
			for _, d := range pushed {
				if d.Key == e.Key && d.Src == e.Src {
					whose = "pushed"
				}
			}
			return fmt.Errorf("%s (%s): %s", e.Key, whose, msg[len(m[0]):])
		}
		line += n
	}
	return err
}
