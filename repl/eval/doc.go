// Package eval evaluates shell snippets with yaegi: a Session holds the
// shell's interpreter and its declarations, runs snippets (Eval), and
// loads code into interpreters of their own for processes and calls
// (Bundle, Func, the pool), keeping interpreted code inside the process
// that runs it (contain.go). It knows nothing of nodes or processes: the
// host functions it is given (Options.Exports) are how interpreted code
// reaches them. Imports: yaegi, repl/syntax, repl/format and the
// standard library.
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
//     run on the calling process's goroutine (escapePaths, contain.go; Refused lists them).
//     The shell cancels the interpreter that runs a process when the
//     process dies, an rpc's included.
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
// repl/format has the notation; Result.String prints with it. A value of
// a type declared in the shell prints with its String or Error method
// (show.go): yaegi hands the host such a value without its methods.
//
// # The standard library and the shell's types
//
// yaegi gives host code a value of a shell type as a value of its
// underlying type (an unnamed struct for a struct type, unexported fields
// renamed Xname). So that the standard library sees what a compiled
// program's would: fmt's and log's print functions get the String and
// Error methods through yaegi's interface-wrapper table, extended with
// wrappers of the shell's own (show.go); %T and %#v name the session's
// struct types, and refuse where a name cannot be known, as for a type
// over a basic type (typenames.go); errors.As, reflect.TypeOf and
// json.Marshal are replaced by versions that see the shell's types
// (lower_fmt.go, hostview.go). Go 1.21's min, max and clear and the
// slices, maps and cmp functions yaegi lacks are provided where that can
// be done exactly, and refused with what to write instead elsewhere
// (stdgeneric.go; min and max of variables: lower_minmax.go).
//
// # Forms yaegi cannot compile
//
// Before yaegi sees a snippet, the shell rewrites forms it mishandles into
// equivalent ones (lower.go): a comma-ok declaration outside a function
// ("v, ok := m[k]", a type assertion, a receive; also as the init of an if
// or switch) is declared from single values, then assigned; a range over
// an integer (Go 1.22) becomes a three-clause loop over a counter
// (lower_range.go), when the syntax and the session say that the operand
// is an integer. yaegi's log
// line before a "nil type" panic is filtered out of the standard logger
// (quietlog.go): the shell reports the error itself. Also: var
// declarations alone run as statements (lower_vars.go), a method
// expression becomes the func literal it stands for (lower_methodexpr.go),
// a block declaring several variables from a call runs as a function
// literal called at once (lower_multidef.go).
//
// # Control flow and scopes as in compiled Go
//
// yaegi v0.16.1 gets some of Go's control flow and scoping wrong without a
// word; the shell rewrites those forms too:
//
//   - defer (lower_defer.go): a deferred call's arguments, and a callee
//     held in a variable, are evaluated at the defer statement. At the
//     prompt the session plays main: a defer typed there runs when the
//     shell's input ends (end of a script or of piped input, Ctrl-D), the
//     calls in reverse order, a panic in one not stopping the others;
//     leaving otherwise (exit, halt, an interrupted input, which rebuilds
//     the interpreter) skips them, as os.Exit does. recover() in a defer
//     typed at the prompt, and a deferred call of a func literal the same
//     function stored in a variable (yaegi deadlocks), are refused.
//   - loop variables (lower_loopvar.go): when a loop's body captures its
//     variable (a func literal, &v, a defer), each iteration gets its own
//     copy (Go 1.22), carried over to the next iteration when the body
//     assigns it.
//   - scopes (shadow.go): a block, loop, if or switch typed at the prompt
//     that declares a name of a session variable or function, or a name
//     twice, or binds a type switch's variable, runs as a function literal
//     called at once (yaegi assigned the outer variable).
//   - method values (lower_methodvalue.go): x.M of a shell type's value
//     method binds a copy of x when evaluated.
//   - redeclaration at the prompt (lower_redeclare.go): "x := x + 1" runs
//     in two evaluations, so that the input reads the old x, not zero.
//   - spawn refuses to capture a sync.WaitGroup, Mutex or atomic value by
//     value: the process would use its own copy (ship_sync.go).
//   - a send or receive statement at the prompt on a channel made there
//     that nothing else was given, and that cannot go on at once, fails as
//     Go's deadlock instead of hanging (lower_deadlock.go). Any other
//     blocked operation waits, as in Go, until Ctrl-C.
//
// # Failures
//
// A snippet fails when it does not parse or compile (syntax.Analyze),
// panics (*PanicError), or a host function it calls fails (HostError, what
// Fail raises). yaegi's "constant definition loop" for an undefined name
// is replaced by "undefined: name"; reflect's panics for a nil pointer
// dereference and an index out of range by Go's runtime errors
// (runtimeerr.go); a session variable that a failed snippet declared
// again gets its value back (yaegi zeroes it when it compiles the
// declaration).
//
// # Known gaps
//
// Outside the forms of the conformance suite (repl/conformance), these
// still differ from compiled Go, with no message:
//
//   - x := any(i), with i a nil interface, prints yaegi's internal value
//     instead of <nil>.
//   - a value of a shell type with a String or Error method, held in an
//     interface-typed struct field, is printed without the method; so is
//     one printed by a function declared before the type had the method.
//   - a deferred method call reads its receiver when the function returns,
//     not at the defer; recover() in a deferred method does not recover.
//   - reflect.New of a shell struct type that reflect.TypeOf named panics;
//     a json.Encoder kept in a variable encodes unexported fields.
//   - as[any] panics (as is meant for concrete types).
package eval
