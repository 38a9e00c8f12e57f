package repl

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// The shell's helpers for hot code upgrade (push.go): push() and
// codeVersion(), with their help(name) topic.

// Push is push(nodes..., within(d)): send the shell's declarations to the
// nodes named (every connected node if none) and to this one, switching
// all or none. A refusal fails the snippet with every node's reason, so
// that a deployment script stops there; nodes that staged the code but
// did not confirm its commit are named in the report and in a warning.
func (x *Proc) Push(args ...any) *PushReport {
	x.needDist()
	var nodes []string
	var timeout time.Duration
	for _, a := range args {
		switch a := a.(type) {
		case string:
			nodes = append(nodes, a)
		case []string:
			nodes = append(nodes, a...)
		case Timeout:
			if a <= 0 {
				fail("within(%v): the timeout must be positive", time.Duration(a))
			}
			timeout = time.Duration(a)
		default:
			fail("push takes node names and within(d), not %T", a)
		}
	}
	rep, err := x.rt.Push(x.ctx(), timeout, nodes...)
	var refusal *PushRefusal
	if errors.As(err, &refusal) {
		fail("%v", err) // "push refused by NODE: why; ...": every node's reason
	}
	x.check(err, "push")
	for _, n := range sortedKeys(rep.Unconfirmed) {
		fmt.Fprintf(x.rt.errw, "[warning] push v%d: %s staged the code but did not confirm the commit (%s); codeVersion(%q) tells whether it switched\n",
			rep.Version, n, rep.Unconfirmed[n], n)
	}
	return rep
}

// CodeVersion is codeVersion(node): the version of the last push that
// node installed, 0 before any; this node's without an argument.
func (x *Proc) CodeVersion(node ...string) int {
	d := x.needDist()
	name := d.Name()
	switch len(node) {
	case 0:
	case 1:
		name = node[0]
	default:
		fail("codeVersion takes at most one node")
	}
	v, err := x.rt.CodeVersion(x.ctx(), name)
	x.check(err, "codeVersion "+name)
	return int(v)
}

func init() {
	sameAs["codeVersion"] = "push"
	topics["push"] = topic{"push() *PushReport\npush(nodes...) *PushReport\npush(..., within(d)) *PushReport\ncodeVersion() int\ncodeVersion(node) int",
		"Hot code upgrade: send the shell's declarations (functions, types, methods,\nconstants, imports; not variables) to every connected node, or those named, and to\nthis one. Each node first checks them against its own declarations; only if all\naccept does each switch, with one new version number, else none does and the\nsnippet fails with each refusal's reason. A call by name (rpc, async, a spawn of a\ndeclared function) runs the new code from its next call; a call already running\nfinishes on the old. Each phase waits 5s at most (within(d) to change it).\ncodeVersion: the version of the last push a node installed, 0 before any.",
		"func Greet() string { return \"v2\" }\npush()\ncodeVersion(\"node2@localhost\")"}
}

// How a push's outcome prints in the shell.

func (r *PushReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%%Push{version: %d, took: [%s]", r.Version, quoteAll(r.Took))
	if len(r.Unconfirmed) > 0 {
		b.WriteString(", unconfirmed: %{")
		for i, n := range sortedKeys(r.Unconfirmed) {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q => %q", n, r.Unconfirmed[n])
		}
		b.WriteString("}")
	}
	return b.String() + "}"
}

func (e *PushRefusal) Error() string {
	var parts []string
	for _, n := range sortedKeys(e.Refused) {
		parts = append(parts, n+": "+e.Refused[n])
	}
	return fmt.Sprintf("%v by %s; no node switched", ErrPushRefused, strings.Join(parts, "; "))
}

func (e *PushRefusal) Unwrap() error { return ErrPushRefused }

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func quoteAll(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}
