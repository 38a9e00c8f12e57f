// Package web serves a live view of a gonode cluster over HTTP: one page
// (vanilla JS, embedded) that shows what a Source reports — nodes and
// their connections, loads, processes, supervision trees, registered and
// global names, process groups, the message flow a tracer saw — pushed to
// each viewer every second as server-sent events, and the actions a
// viewer may take on a process (send a message, kill it, trace it).
//
// The package imports the standard library only and knows nothing of
// gonode's packages: the shell (repl) implements Source, and the node's
// owner starts and closes the Server. The page has no accounts: anyone
// who reaches it can kill processes, so Start binds loopback addresses
// only unless a token is given (Options.Token), which every request must
// then carry.
//
// Protocol flow:
//
//	GET  /          the page
//	GET  /events    text/event-stream: "event: snapshot" with a Snapshot
//	                as JSON, one per Interval while anyone watches
//	GET  /snapshot  the current Snapshot as JSON (for scripts)
//	POST /action    an Action as JSON: 204, or 400 with the reason
package web
