// Package global keeps cluster-wide process names: one job, Erlang's
// :global. A name is held by one process in the whole cluster, agreed with
// every connected node that runs a name server, and looked up from a
// replica on each node at local speed.
//
// # How it runs
//
// Start runs an ordinary process on the node, registered locally as
// "global_name_server" (ServerName), as OTP's global_name_server is. The
// servers of a cluster talk with proc messages over dist, addressed to
// that name or to each other's pids: tuples ([]any) with an atom tag
// first, encodable by any dist codec. Messages rather than dist.RPC because
// rpc needs functions set in dist.Config when the node starts (and
// allowed by RPCAllow), and because the servers need what messages give
// anyway: ordering per pair of processes, monitors of the holders of names
// and of each other, and NodeUp/NodeDown from dist.Node.MonitorNodes.
//
// Each server owns its node's replica (the names, their holders, the
// monitors on them); the Go API (Register, Unregister) asks it through its
// mailbox and waits for its answer under a context; Whereis reads the
// replica under a read lock and never talks to the server.
//
// # Protocol flow (protocol version 1; tags and fields only grow)
//
//	sync:     {global_sync, 1, node, server, [{name, pid, at, resolve}...]}
//	          sent to a peer's server when it comes up (NodeUp), or when the
//	          server starts; a server answers a sync from a peer new to it
//	          (or from a new incarnation of its server) with its own. Both
//	          sides merge. Only peers whose sync has arrived take part in
//	          registrations ("participants").
//	register: coordinator C (the node of the caller) reserves the name
//	          locally, then to every participant
//	            {global_claim, ref, name, pid, C's server}
//	          each answers {global_claimed, ref, node, ok|taken|busy|noproc, holder}
//	          and, when it answers ok, holds a reservation for ref (released
//	          by commit, abort, C's nodedown, or after the claim's deadline).
//	          All ok: C stores the name and sends
//	            {global_commit, ref, name, pid, at, resolve}
//	          which everyone stores and acknowledges with {global_committed,
//	          ref, node}; Register returns when every participant has
//	          acknowledged (or left). taken/noproc: {global_abort, ref, name}
//	          to all, and an error. busy (a concurrent claim of the same
//	          name elsewhere): abort, back off at random, retry until the
//	          deadline.
//	unregister: {global_unreg, ref, name, pid} to all, acknowledged with
//	          {global_unregd, ref, node} (a zero ref wants no answer).
//
// Every server monitors every holder of a name it stores, so a holder's
// death (DOWN) or its node's going away (DOWN noconnection) drops the name
// on every node by itself, without a message from a coordinator. A name
// removed on purpose leaves a tombstone (tombstones.go), so that a replica
// that missed the removal cannot bring it back through a sync.
//
// # Conflicts
//
// When two replicas meet with different holders for one name (a healed
// partition where each side registered it, a node joining), every node
// picks the same winner from the two entries alone: the earlier
// registration (at, the registering node's clock in Unix nanoseconds when
// it committed) wins; equal times: the pid whose node name sorts first,
// then the lower pid id and serial. The loser's own node tells it, once:
// by default an exit signal with reason {global_name_conflict, Name}
// (ResolveExit; a process trapping exits gets it as an ExitMsg and lives
// on without the name), or a Conflict message (ResolveNotify), as chosen
// by the node that registered it. Clock skew between nodes can make the
// later registration "earlier", but never makes two nodes disagree.
//
// # Reconnecting after a partition
//
// dist does not reconnect by itself after a partition heals: a connection
// is set up again only when something is sent. Each server remembers the
// peers it lost (other than by an explicit dist.Node.Disconnect) and tries
// dist.Node.Connect to them every Options.ReconnectInterval until one
// works or Options.ForgetAfter has passed; dist's mesh (net_kernel's
// connect_all) then joins the rest. OTP does not redial: there a healed
// partition stays apart until something is sent across it.
package global
