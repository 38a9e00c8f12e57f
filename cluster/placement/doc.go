// Package placement chooses the node that new work should run on: one
// job. Every node shares a small load record with its peers, and Choose
// picks a node from those records by a strategy (least loaded by the power
// of two choices, the local node, a consistent hash of a key, or the least
// loaded of a list of nodes), and says why.
//
// # How it runs
//
// Start runs an ordinary process on the node, registered locally as
// "placement_load" (ServerName). Every Options.Interval (500 ms by
// default) it samples its node (Sampler) and pushes the record to the
// process of that name on every connected node; it also pushes at once to
// a node that comes up, so a new peer has a record within one hop. It keeps
// the records it receives, one per node, with the local time each arrived:
// a record is fresh while younger than Options.MaxAge (3 intervals by
// default). A node's record goes when dist reports the node down, or when
// the load process that sent it dies (a monitor taken on its first
// record). There is no request and no answer: a push is the whole
// protocol, so a slow peer never holds anyone up.
//
// The records live in this package's Service under a mutex; Choose and
// Loads read them there and never wait for the process or the network.
//
// # Protocol flow (version 1; fields are only appended)
//
//	every interval, and on NodeUp N:
//	  {ServerName, N} ! [:placement_load, 1, self, [node, at, runnable,
//	                     processes, [mailbox depths...], cpu, cpus, memory]]
//	on receipt: the record replaces the sender's previous one (the
//	  record's node must be the sender's); a new sender is monitored.
//	NodeDown N, or DOWN of N's load process: N's record is dropped.
//
// Anything else sent to the load process is ignored with a log line.
//
// # The record and the score
//
// See Load for each field, where it comes from and how fresh it is, and
// Load.Score for the one number LeastLoaded compares.
package placement
