// Package dist connects gonode nodes: it registers a node's name with the
// port mapper (dist/epmd), runs the cookie handshake (dist/wire), and then
// carries process signals, rpc and remote spawns between nodes over one
// connection per peer, in a neutral message model (Message) that the
// native codec encodes and a later Erlang dialect can map to its own.
// Connections run over a Transport: plain TCP by default, mutual TLS
// (TLS), or an in-process MemNetwork for tests of several nodes in one
// process.
package dist
