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
// tokens are dropped. SPAWN_REQUEST is erpc's (below) or answered
// SPAWN_REPLY with error notsup. ALIAS_SEND is dropped with a log line:
// gonode processes have no aliases.
// UNLINK_ID_ACK is taken silently; any other operation is dropped with a
// log line, and the connection stays. A packet that is not 'p' (or a
// distribution header) and a control tuple of its operation's layout
// (and its message, and nothing after) closes the connection, as an
// undecodable native frame does.
//
// Fragments (fragments.go): the dialect offers FRAGMENTS, so a BEAM
// peer writes each packet after a distribution header of no atom cache
// references (131 68 0, which gonode then writes too) and a large
// message in fragments of 64 KiB (131 69, 131 70), which the codec
// reassembles, interleaved as they come: at most 64 messages in flight
// holding at most the frame limit (64 MiB) in all, past which the
// connection closes with a log line saying which bound. gonode sends
// as OTP does (fragments_out.go): a message whose term is over 64 KiB
// goes to such a peer in fragments of 64 KiB of it, the first with the
// control message whole, one sequence id per message counting up per
// connection; dist queues them back to back (dist.FragmentingCodec). A
// control message without a message after it goes whole, however large.
// The frame limit (64 MiB) still bounds one message.
//
// Encoded: sends (SEND_SENDER when agreed and the sender is a process,
// else SEND), REG_SEND, LINK, UNLINK_ID, EXIT, EXIT2, MONITOR_P,
// DEMONITOR_P, MONITOR_P_EXIT, and erpc's SPAWN_REQUEST. A send, REG_SEND
// or EXIT2 from outside any process names process 0 of this node as its
// sender. gonode's spawn requests (SpawnRemote, the shell's spawn on a
// node) have no Erlang form: they fail with dist.ErrUnencodable.
//
// # rpc both ways (rpc_in.go, rpc_out.go)
//
// OTP 25's rpc:call is erpc:call: a SPAWN_REQUEST for erpc:execute_call/4
// with a monitor, whose result comes back in the DOWN's reason. Into
// gonode, the codec makes it dist's KindCall, so the node runs it as any
// peer's call (its Resolver, Config.RPCAllow, the cap per peer, a
// context cancelled when the caller gives up); it answers SPAWN_REPLY
// with a stand-in pid at once, and the call's KindReply becomes the DOWN
// erpc reads. erpc:cast and rpc:cast become KindCast.
//
// The name rule (FunctionName): M:F is the gonode function "M.F"
// (strings:'ToUpper' is strings.ToUpper, which the shell resolves from
// the standard library); in the pseudo-modules gonode and
// 'Elixir.Gonode' (Gonode in Elixir) it is F alone, the node's own
// functions (shell declarations, functions a Go program registered in
// dist.Funcs): gonode:'Compute'. The codec answers erlang:node/0 and
// erlang:is_alive/0 itself. The arity is the length of the argument
// list; the function checks it. Errors are what Erlang gives: an unknown
// function, or one called with another arity, exits undef with erpc's
// stack [{M, F, Args, []}] (rpc:call gives {badrpc, {'EXIT', {undef,
// [...]}}}, erpc:call raises {exception, undef, [...]}, as against a
// BEAM node); arguments of the wrong type badarg; a Go error {error,
// <<Text>>}; a panic {panic, <<Value>>}; gonode's refusals {busy |
// refused | ..., <<Text>>}. erpc's time-out demonitors the stand-in,
// which cancels the call's context. erpc:call(gonode, Fun) gets {erpc,
// notsup}, and Node.spawn(gonode, fun) a SPAWN_REPLY notsup (the BEAM
// logs "Can not start erlang:apply ..."): a fun is BEAM code. As an
// argument, a list of integers below 256 is an etf.Charlist (the BEAM
// writes [1,2,3] as a string), which a Go parameter of type []int does
// not take; the argument list itself is read either way.
//
// From gonode, dist.Node.RPC(ctx, node, "module:function", args...) (and
// the shell's rpc) sends erpc's request (the arguments as a list, by
// the mapping below) and returns the value, or a *dist.RemoteError:
// undef at the function called is dist.ErrUndef, badarg and
// function_clause there dist.ErrBadArgs, other errors and throws
// dist.ErrPanic, exits Kind "exit", a lost connection
// dist.ErrNodeDown, each with erpc's exception in Erlang's syntax
// ({exception,undef,[{lists,nope,[],[]}]}). A context that ends first
// gives proc.ErrTimeout and demonitors the BEAM's process, as erpc's own
// time-out (the function runs on). Cast is erpc:cast. A name without
// ":" is refused with dist.ErrUnencodable (the shell's waitFor takes
// that as a BEAM peer: connected means ready). The BEAM function's group
// leader is the caller's (dist.WithGroupLeader: the shell's), or process
// 0 of this node; the codec answers the io protocol sent to either
// (io.go): what the function prints reaches the group leader as
// gonode's output message, which the shell prints marked with the node
// ([b@localhost] hi), or process 0's into the node's log, and io:format
// returns ok; reading gets {error, request}.
//
// Node.SpawnRemote (and SpawnChild) with "module:function" spawns it on
// a BEAM node as spawn_request does (spawn_out.go), with its link or
// monitor and the caller's group leader; as in Erlang, an unknown
// function starts a process that exits undef. A function literal
// cannot go (dist.ErrUnencodable), so the shell's spawn on a BEAM node,
// which sends one, is refused.
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
// (with a plain Mref to a peer without ALIAS). The other way, proc's
// Call (CallName, otp's server calls) to a BEAM gen_server or GenServer
// sends {'$gen_call', {From, Mref}, Request} with a plain Mref, the
// call's monitor; gen:reply answers {Mref, Reply}, which the codec
// delivers as the proc.CallReply because it holds Mref in a bounded
// table of the calls in flight (gencall.go): any other 2-tuple stays
// data, and a missing name gives noproc by the monitor, as gen:call
// exits. proc.Ref holds 3 words, as every ref OTP 25 makes; a ref of 4
// or 5 words from a later OTP keeps its extra words in a bounded table of
// the connection, so that it goes back whole.
//
// # System processes (system.go)
//
// StartSystem registers net_kernel (is_auth answered yes: net_adm:ping
// gives pong), rex (the old rpc protocol's gen_calls, which OTP 25's
// rpc:call does not use, answered {badrpc, notsup}) and
// global_name_server (what global sends at connect is taken and dropped)
// on the node, as handler processes that the node stops with the rest.
// cmd/gonode starts them when the dialect is on (the default).
//
// # Meshing with BEAM nodes (mesh.go)
//
// A BEAM node introduces nodes to each other through global, whose
// protocol gonode does not speak, so it never tells its peers of a
// gonode, nor a gonode of its peers. StartMesh, which cmd/gonode starts
// beside StartSystem (a Go program embedding a node calls it itself),
// closes the gap from gonode's side: when a visible peer comes up, and
// then every MeshEvery (5 s) while it is up, it calls erlang:nodes() on
// each BEAM peer (told from a gonode by its port mapper entry, as dist
// dials) and connects to the nodes listed that it lacks; and it sends
// the BEAM nodes it is connected to to the mesh process of each gonode
// peer, which connects to those too (gonodes tell a new peer of their
// old ones, not the old ones of the new; between gonodes alone nothing
// changes). So a node that joins any member of a mixed cluster is
// connected to all of them at once, and to a BEAM node that joins later
// within a round. A failed connect is logged when it fails twice in a
// row. A hidden node does not mesh.
//
// # Not yet
//
// spawning BEAM funs or BEAM modules' functions on gonode, the shell's
// spawn on a BEAM node (it sends a Go function literal), Erlang's own
// module of a node's functions beyond erlang:node/0 and is_alive/0
// (erlang:nodes/0, system_info, ...), aliases (ALIAS_SEND is dropped:
// gonode's calls use plain refs), a message over the frame limit (it
// cannot be sent, though the BEAM would take it), the atom cache,
// global's name registry, and sending gonode-specific values (Go
// structs, channels) to BEAM processes.
package erlang
