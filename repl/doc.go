// Package repl is gonode's interactive shell: it reads Go snippets,
// evaluates them with yaegi, and prints results the way iex does.
//
// # Layout
//
// The shell's jobs that need neither an interpreter nor a node are
// packages of their own, each importing the standard library only (and
// readline for the terminal), so that a remote shell's client or code that
// pushes snippets to other nodes takes only what it needs:
//
//   - repl/syntax parses and analyzes snippets (go/parser, go/ast): what
//     a snippet is, what it declares, the names it uses;
//   - repl/format prints values in iex's notation;
//   - repl/term reads lines from a terminal (readline) or a pipe.
//
// This package holds the rest: the evaluator (Session, Interp, Func,
// Bundle, the interpreter pool and the containment of interpreted code)
// and the shell's wiring (Main, Runtime, the helpers' API, remote shells,
// Embed), which import dist, otp and proc.
//
// # Interpreter model
//
// yaegi cancels interpreter-wide, races when two goroutines evaluate in one
// interpreter, and dies with the whole OS process when an interpreted
// goroutine panics. So:
//
//   - The shell evaluates snippets in one interpreter (Session.Eval), from
//     one goroutine. go statements are rejected (syntax.ErrGoStatement) with a
//     pointer to spawn.
//   - Code that runs concurrently gets an interpreter of its own: a function
//     handed to spawn (a host function listed in Options.ShipCalls) travels
//     as a Bundle, and Session.Load loads it into an interpreter that holds
//     that code and nothing else, on this node or another (Session.Compile
//     for a peer's source text). An rpc into a session function does the
//     same (Session.Resolve). Building an interpreter costs about 4 ms and
//     1.3 MiB, so the session keeps those its uses gave back (Func.Release)
//     in a pool keyed by the exact code loaded (pool.go): one use at a time
//     each, a few idle per key and 16 in all, a redefinition making a new
//     key (the latest definition wins). One that panicked or was cancelled
//     is never reused. Before each reuse its package-level variables are
//     assigned their initial values again (a Bundle's captured values, a
//     source text's initializers), so a call or process does not see what
//     an earlier one assigned; what a captured pointer, slice or map refers
//     to is shared, as between interpreters loaded from one Bundle.
//   - A call into an interpreter is a reflect call of the function value
//     on the caller's goroutine (about 2 us, against 0.1-0.3 ms to evaluate
//     it as source). When it can be cancelled (an rpc, a process), it runs
//     under the interpreter's call server, one idle yaegi execution whose
//     run the call's frames belong to (pool_call.go): cancelling the call
//     cancels that execution, which stops the call at its next step, busy
//     loops and channel operations included, and abandons that interpreter
//     only. A call that panics, or whose process exits in it, retires its
//     interpreter too.
//   - Cancelling a shell snippet (Ctrl-C) stops only the shell interpreter.
//     A cancelled interpreter may still have a goroutine unwinding, so it is
//     never used again: the session builds a new one from its declarations
//     and the last snapshot of its variables (taken after every snippet).
//     The same happens when a redefinition cannot take effect in place
//     (yaegi ignores a redefined type or method, and functions already
//     declared keep calling the old version of what they use): the latest
//     definition wins, in the shell as in workers.
//   - Interpreted code runs only inside processes: the standard library
//     calls that would run it on a goroutine of their own (a timer's
//     callback, a finalizer, a server's handlers) are replaced in every
//     interpreter, refused with a message or, for http.Serve and its kin,
//     run on the calling process's goroutine (escapePaths, contain.go).
//     A process's death cancels the interpreter that runs it, an rpc's
//     included, and within(d) bounds rpc, async and multicall.
//
// # Embedding a node
//
// Every interpreter of a node sees the standard library and the shell's
// API (package node and the prelude's helpers). On a node that a Go
// program embeds (Embed), it also sees the packages the program exports
// as yaegi symbols (EmbedConfig.Exports, merged into Options.Exports), by
// their names and without an import: shipped literals, supervisor
// children and rpc by "pkg.Func" call them as compiled code. That is the
// way out of interpreted speed (yaegi runs a function call some 300
// times slower than Go). The program's compiled functions
// (EmbedConfig.Funcs) are callable by peers by name, and are looked up
// before the session's functions.
//
// # Shipping code
//
// In a snippet, the code argument of a ship call must be a func literal or
// the name of a function declared in the session. The shell rewrites it into
// a Bundle made when the call runs: the literal's source, the session
// declarations it uses (transitively: a type brings its methods), and the
// values of the variables it uses:
//
//   - variables the literal names that are local to the surrounding code or
//     package-level in the session are captured by value at the call, as
//     the literal sees them (a loop variable gets its current value);
//   - session variables used only by the declarations it calls come from
//     the last snapshot;
//   - a captured value must be copyable into another interpreter: numbers,
//     strings, booleans, host types (proc.Pid ...), and slices, maps and
//     pointers of those. Functions and values of types declared in the shell
//     (yaegi hands those to the host as unnamed structs without methods) are
//     refused with a *ShipError saying which variable holds what;
//   - captured variables become the worker's own: assigning to one changes
//     the worker's copy, as processes share nothing.
//
// Between nodes, Session.Source flattens a Bundle into one Go source text
// (captured values written as Go literals) and Session.Compile runs it.
//
// # What is printed
//
// Only an input that ends with an expression statement prints, and only the
// values that expression yields, decided from the parsed input: yaegi's
// returned value is stale after void calls, if and for. A call's result
// count comes from the builtin table, a func literal's signature, a session
// declaration, or the reflect type of a host function; failing those, the
// callee (a variable, a method value) is evaluated first, into a temporary
// when evaluating it has side effects, and its reflect type says. The
// results of fmt.Print, Printf and Println are not printed. Package
// repl/format has the notation.
//
// # Failures
//
// A snippet fails when it does not parse or compile, panics, or a helper
// fails; where the shell is told so (Shell.ErrorValuesFail: scripts, -e,
// piped input), also when the value it prints is an error (Result.IsError:
// an rpc's remote undef, a node down, a timeout), and when Shell.Check
// finds the shell's process killed during it. Failures go to Shell.Err,
// with the file and line when Shell.Source names a script. yaegi's
// "constant definition loop" for an undefined name is replaced by
// "undefined: name"; a session variable that a failed snippet declared
// again gets its value back (yaegi zeroes it when it compiles the
// declaration).
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
