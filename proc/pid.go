package proc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Pid names a process on a node. It has the same fields as an Erlang pid
// (node, id, serial, creation) so a later Erlang dialect can map it one to
// one. Pid is a comparable value: use it as a map key and compare it with ==.
//
// Printed form: <node@host.ID.Serial>, for example <node1@localhost.42.0>.
// The creation (the node's incarnation number) is not printed, as Erlang
// does not print it either: ParsePid returns Creation 0, which a node reads
// as "the incarnation I know of" (see Node.Resolve).
type Pid struct {
	Node     string
	ID       uint32
	Serial   uint32
	Creation uint32
}

// IsZero reports whether p is the zero Pid, which names no process. It is the
// sender of messages sent from outside any process.
func (p Pid) IsZero() bool { return p == Pid{} }

func (p Pid) String() string {
	if p.IsZero() {
		return "<undefined>"
	}
	return "<" + p.Node + "." + strconv.FormatUint(uint64(p.ID), 10) + "." + strconv.FormatUint(uint64(p.Serial), 10) + ">"
}

// ErrBadPid is returned by ParsePid for text that is not a printed Pid.
var ErrBadPid = errors.New("proc: malformed pid")

// ParsePid parses the printed form <node@host.ID.Serial>. The node name may
// itself contain dots (long names, IP addresses): the last two dot-separated
// fields are the id and serial. Creation is left 0.
func ParsePid(s string) (Pid, error) {
	if len(s) < 2 || s[0] != '<' || s[len(s)-1] != '>' {
		return Pid{}, fmt.Errorf("%w: %q: want <node@host.ID.Serial>", ErrBadPid, s)
	}
	body := s[1 : len(s)-1]
	i := strings.LastIndexByte(body, '.')
	if i < 0 {
		return Pid{}, fmt.Errorf("%w: %q: want <node@host.ID.Serial>", ErrBadPid, s)
	}
	j := strings.LastIndexByte(body[:i], '.')
	if j <= 0 {
		return Pid{}, fmt.Errorf("%w: %q: want <node@host.ID.Serial>", ErrBadPid, s)
	}
	node := body[:j]
	if !validNodeName(node) {
		return Pid{}, fmt.Errorf("%w: %q: node name must look like name@host", ErrBadPid, s)
	}
	id, err1 := parseDecimal32(body[j+1 : i])
	serial, err2 := parseDecimal32(body[i+1:])
	if err1 != nil || err2 != nil {
		return Pid{}, fmt.Errorf("%w: %q: id and serial must be decimal numbers", ErrBadPid, s)
	}
	return Pid{Node: node, ID: id, Serial: serial}, nil
}

func parseDecimal32(s string) (uint32, error) {
	// ParseUint accepts "+1" and "0x.." only with other bases; with base 10
	// it still rejects signs, which keeps print/parse a bijection apart from
	// leading zeros, which we refuse too.
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, ErrBadPid
	}
	v, err := strconv.ParseUint(s, 10, 32)
	return uint32(v), err
}

// validNodeName reports whether s has the shape name@host with both parts
// non-empty and no characters that would make printed pids ambiguous.
func validNodeName(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == '<' || r == '>' || r == 0x7f {
			return false
		}
	}
	return true
}

// ValidNodeName reports whether s is a usable node name (name@host).
func ValidNodeName(s string) bool { return validNodeName(s) }

// Ref is a unique reference, as made by Erlang's make_ref(): monitors and
// calls are identified by one. Comparable; printed as #Ref<node.a.b.c>.
type Ref struct {
	Node     string
	Creation uint32
	ID       [3]uint32
}

// IsZero reports whether r is the zero Ref.
func (r Ref) IsZero() bool { return r == Ref{} }

func (r Ref) String() string {
	return fmt.Sprintf("#Ref<%s.%d.%d.%d>", r.Node, r.ID[0], r.ID[1], r.ID[2])
}

// Atom is a symbolic constant, as Erlang atoms are. Exit reasons such as
// normal, kill and noproc are atoms; they keep their type across nodes.
type Atom string

func (a Atom) String() string { return ":" + string(a) }

// Exit reasons with a meaning of their own.
const (
	Normal       Atom = "normal"       // the process finished; links are not killed
	Kill         Atom = "kill"         // untrappable when sent with Exit
	Killed       Atom = "killed"       // what links see of a process that got Kill
	Shutdown     Atom = "shutdown"     // orderly stop, by convention from a supervisor
	NoProc       Atom = "noproc"       // the process did not exist
	NoConnection Atom = "noconnection" // the node of the process went away
)

// Name addresses a registered process, on this node (Node == "") or another.
// It is Erlang's {Name, Node} tuple.
type Name struct {
	Name string
	Node string
}

func (n Name) String() string {
	if n.Node == "" {
		return n.Name
	}
	return "{" + n.Name + ", " + n.Node + "}"
}
