// Package dist connects gonode nodes: it registers a node's name with the
// port mapper (dist/epmd), runs the cookie handshake (dist/wire), and then
// carries process signals, rpc and remote spawns between nodes over one
// connection per peer, in a neutral message model (Message) that the
// native codec encodes and a later Erlang dialect can map to its own.
// Connections run over a Transport: plain TCP by default, mutual TLS
// (TLS), or an in-process MemNetwork for tests of several nodes in one
// process.
//
// Where things are: the rules for connections up and being set up (who
// wins a simultaneous connect, when a connection is replaced, what happens
// to signals sent meanwhile) are a state machine without I/O in
// peertable.go, which connect.go drives (connect_dial.go and
// connect_accept.go run the two sides of a set-up); one connection is
// conn.go, with its single writer (conn_write.go), its single reader
// (conn_read.go) and its liveness deadlines (conn_liveness.go), and
// encode.go says why messages are encoded by their senders; protocol.go
// tells protocols apart by their first bytes; rpc_serve.go and
// rpc_spawn.go serve calls and spawns from peers. What a message and a
// connection guarantee is in docs/reliability.md.
package dist
