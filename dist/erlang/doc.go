// Package erlang is the Erlang dialect of gonode's distribution: a
// dist.Protocol that lets a gonode node join Erlang and Elixir clusters
// (tested against OTP 25). It adapts the handshake of dist/erlang/handshake
// and the terms of dist/erlang/etf to dist's neutral Message model; dist
// runs the connections (one reader and one writer each, [Len:u32] packets,
// ticks, the pending/up rules of simultaneous connects) as it does for the
// native protocol.
//
// # Choosing the protocol per connection
//
// Set Protocol() as dist.Config.Foreign. Accepting, dist tells a BEAM
// send_name ([Len:u16] 'N' ...) from gonode's native hello by its first
// bytes (handshake.MayBeErlangHello). Dialing, it asks the peer's port
// mapper: gonode nodes register with the Extra field "gonode"
// (epmd.GonodeExtra; erl's epmd keeps Extra per node as the embedded port
// mapper does), BEAM nodes with none, and a node without the mark is
// dialled with the Erlang dialect. Gonode to gonode stays native.
//
// # Handshake
//
// The handshake's Config comes from dist's wire.HandshakeConfig (name,
// creation, cookie, hidden, AliveAsked); dist's decide answers become
// ok, nok, alive or not_allowed, and every BEAM dialer counts as one that
// answers alive (wire.FlagAliveAsk), so a half-open connection is replaced
// once the newcomer proves the cookie; dist drops the old connection
// before it delivers anything from the new one. A wrong cookie is
// wire.ErrBadCookie to dist, which logs "cookie mismatch" with the peer's
// name and never the cookie. The flags agreed reach the codec through
// wire.PeerInfo.Dialect.
//
// # Control messages (control.go)
//
// Decoded: SEND, SEND_SENDER, REG_SEND and their _TT forms, LINK, UNLINK
// and UNLINK_ID (answered with UNLINK_ID_ACK), EXIT, EXIT2, PAYLOAD_EXIT,
// PAYLOAD_EXIT2 and their _TT forms, MONITOR_P, DEMONITOR_P (pids and
// registered names), MONITOR_P_EXIT and PAYLOAD_MONITOR_P_EXIT. Trace
// tokens are dropped. SPAWN_REQUEST is answered SPAWN_REPLY with error
// notsup (rpc:call and erpc:call into gonode then fail at once). ALIAS_SEND
// is dropped with a log line: gonode processes have no aliases.
// UNLINK_ID_ACK is taken silently; any other operation is dropped with a
// log line, and the connection stays. A packet that is not 'p' and a
// control tuple of its operation's layout (and its message, and nothing
// after) closes the connection, as an undecodable native frame does.
//
// Encoded: sends (SEND_SENDER when agreed and the sender is a process,
// else SEND), REG_SEND, LINK, UNLINK_ID, EXIT, EXIT2, MONITOR_P,
// DEMONITOR_P, MONITOR_P_EXIT. A send, REG_SEND or EXIT2 from outside any
// process names process 0 of this node as its sender. gonode's rpc, spawn
// and call messages have no Erlang form yet: they fail with
// dist.ErrUnencodable, so rpc from gonode to a BEAM node reports that it
// is not supported.
//
// # Values (terms.go)
//
// Payloads and exit reasons follow etf's mapping, with proc's handles:
// pids are proc.Pid, refs proc.Ref, atoms proc.Atom (so normal, kill,
// killed, noproc, noconnection and shutdown are the same atoms both ways),
// integers int, tuples etf.Tuple, binaries string. gonode's exit and down
// messages go out as {'EXIT', Pid, Reason} and {'DOWN', Ref, process, Obj,
// Reason}. A message {'$gen_call', {From, [alias | Mref]}, Request}, as
// gen:call and GenServer.call send it, is delivered as a
// proc.CallRequest, so that gonode's otp servers (and Process.Reply)
// answer it; the proc.CallReply goes back as {[alias | Mref], Reply}
// (with a plain Mref to a peer without ALIAS). proc.Ref holds 3 words, as every ref OTP 25 makes; a ref of 4
// or 5 words from a later OTP keeps its extra words in a bounded table of
// the connection, so that it goes back whole.
//
// # System processes (system.go)
//
// StartSystem registers net_kernel (is_auth answered yes: net_adm:ping
// gives pong), rex (gen_calls answered {badrpc, notsup}) and
// global_name_server (what global sends at connect is taken and dropped)
// on the node, as handler processes that the node stops with the rest.
// cmd/gonode starts them when the dialect is on (the default).
//
// # Not yet
//
// rpc in either direction (erpc's SPAWN_REQUEST is refused notsup),
// spawning BEAM funs, proc's Call to a BEAM gen_server (gen:reply's
// {Ref, Reply} arrives as a tuple, which Call does not take: telling it
// from data holding a ref would need the caller's monitors),
// aliases, fragments (FRAGMENTS is not offered, so the BEAM sends whole
// packets), the atom cache, global's name registry, and sending
// gonode-specific values (Go structs, channels) to BEAM processes.
package erlang
