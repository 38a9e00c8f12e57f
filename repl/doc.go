// Package repl is gonode's interactive shell: it reads Go snippets,
// evaluates them with yaegi, and prints results the way iex does.
//
// # Layout
//
// The shell's jobs are packages of their own, so that each part takes only
// what it needs (a remote shell's client has no interpreter; code pushed
// to other nodes needs no terminal):
//
//   - repl/syntax parses and analyzes snippets (go/parser, go/ast): what
//     a snippet is, what it declares, the names it uses;
//   - repl/format prints values in iex's notation;
//   - repl/term reads lines from a terminal (readline) or a pipe;
//   - repl/eval evaluates snippets with yaegi (Session, Func, Bundle, the
//     interpreter pool, the containment of interpreted code).
//
// The first three import the standard library only (readline aside for
// term), eval adds yaegi. This package is the wiring: Main, Runtime, the
// helpers' API that interpreted code calls, remote shells and Embed, which
// import dist, otp and proc.
//
// # Cluster services
//
// A distributed node (gonode, Embed) starts cluster/global, the default
// cluster/pg scope and cluster/placement with the node and closes them
// before it (cluster.go); its remote shell sessions share them. The
// helpers (cluster_api.go) map onto their Go API: registerGlobal and
// unregisterGlobal under a timeout, whereisGlobal, members and loads
// from the node's replicas, send and monitor to global(name), and
// placements where spawn and async take a node.
//
// # Embedding a node
//
// Every interpreter of a node sees the standard library and the shell's
// API (package node and the prelude's helpers). On a node that a Go
// program embeds (Embed), it also sees the packages the program exports
// as yaegi symbols (EmbedConfig.Exports, merged into eval.Options.Exports), by
// their names and without an import: shipped literals, supervisor
// children and rpc by "pkg.Func" call them as compiled code. That is the
// way out of interpreted speed (yaegi runs a function call some 300
// times slower than Go). The program's compiled functions
// (EmbedConfig.Funcs) are callable by peers by name, and are looked up
// before the session's functions.
//
// # Failures
//
// A snippet fails as the evaluator says (see package eval) or when a
// helper fails; where the shell is told so (Shell.ErrorValuesFail:
// scripts, -e, piped input), also when the value it prints is an error
// (eval.Result.IsError: an rpc's remote undef, a node down, a timeout), and when
// Shell.Check finds the shell's process killed during it. Failures go to
// Shell.Err, with the file and line when Shell.Source names a script. A
// process's death cancels the interpreter that runs it, an rpc's included,
// and within(d) bounds rpc, async and multicall.
//
// # Remote shells
//
// gonode --remsh NODE reads and gathers snippets on this terminal (Shell
// with its Eval hook) and has each evaluated on NODE, in a session of its
// own there: a Runtime sharing NODE's node, with its own Session, shell
// process and history, whose output streams to a process on the remsh
// node. The server side is four functions called by rpc (remsh.Open, Eval,
// Complete, Close: remote_server.go), which every gonode node serves and
// a Go program that starts its node with dist.Start adds with
// ServeRemoteShell; no wire message of its own. A cancelled rpc cancels
// the snippet, and a session ends when its client's output process or
// node goes (a monitor).
package repl
