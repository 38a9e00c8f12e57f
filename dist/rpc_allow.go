package dist

import (
	"fmt"
	"path"
)

// What peers may run here. With the cookie a peer may do anything this
// node's functions can (in the shell: read files, start programs), as in
// Erlang; Config.RPCAllow narrows that to an allow-list, checked on this
// node for every Call, Cast and SpawnRequest a peer sends, before the name
// is resolved or a literal compiled:
//
//   - a request by function name (rpc, cast, multicall, async, spawn of a
//     registered or declared function) runs if one pattern matches the
//     name with path.Match ("strings.*", "node.*", "Compute"; "*" does not
//     match a "/");
//   - a request carrying the source of a function literal (the shell's
//     spawn(node, func() {...}), and supervisor children placed on this
//     node) is checked as the name LiteralPattern, "<literal>": a literal
//     can do anything, so only a pattern that matches "<literal>" (that
//     one, or "*") lets it in.
//
// A refused call or spawn is answered with a RemoteError of Kind
// RemoteRefused (errors.Is ErrRefusedCall) naming the function; a refused
// cast has no one to answer. Either way this node logs a line, at most
// logBurst per logInterval for each peer. Calls a node makes to itself are
// not checked: the list is about peers.

// LiteralPattern is the name a function literal sent by a peer is checked
// as against Config.RPCAllow.
const LiteralPattern = "<literal>"

// CheckRPCAllow reports the first malformed pattern of an allow-list.
func CheckRPCAllow(patterns []string) error {
	for _, p := range patterns {
		if p == "" {
			return fmt.Errorf("dist: rpc allow-list: empty pattern")
		}
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("dist: rpc allow-list pattern %q: %w", p, err)
		}
	}
	return nil
}

// requested is the name the allow-list checks a Call, Cast or
// SpawnRequest by.
func requested(m *Message) string {
	if m.Source != "" {
		return LiteralPattern
	}
	return m.Fn
}

// allowed reports whether this node's allow-list lets a peer run what m
// asks for.
func (n *Node) allowed(m *Message) bool {
	if n.cfg.RPCAllow == nil {
		return true
	}
	name := requested(m)
	for _, p := range n.cfg.RPCAllow {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// refusal is the error a peer gets for a request the allow-list refuses.
func (n *Node) refusal(m *Message) *RemoteError {
	what := fmt.Sprintf("%q is", m.Fn)
	if m.Source != "" {
		what = "a function literal is"
	}
	return &RemoteError{Kind: RemoteRefused, Message: fmt.Sprintf("%s not allowed by %s's --rpc-allow", what, n.cfg.Name)}
}

// refuse answers (or, for a cast, drops) a request the allow-list refuses,
// and logs it, rate-limited per peer.
func (n *Node) refuse(c *conn, m *Message) {
	rerr := n.refusal(m)
	n.rpc.logs(n).log("refused "+c.peer.Name, "dist: refused %s of %s from %s: not in the rpc allow-list",
		requestVerb(m.Kind), describeRequest(m), c.peer.Name)
	switch m.Kind {
	case KindCall:
		_ = c.send(Message{Kind: KindReply, To: m.From, Ref: m.Ref, Err: rerr}, false)
	case KindSpawnRequest:
		_ = c.send(Message{Kind: KindSpawnReply, To: m.From, Ref: m.Ref, Err: rerr}, false)
	}
}

// requestVerb names a request's kind in log lines.
func requestVerb(k Kind) string {
	if k == KindSpawnRequest {
		return "spawn"
	}
	return k.String()
}

// describeRequest names what a request asks to run, for log lines.
func describeRequest(m *Message) string {
	if m.Source != "" {
		return "a function literal"
	}
	return fmt.Sprintf("%q", m.Fn)
}
