package repl

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"

	"github.com/traefik/yaegi/interp"

	"github.com/gonode/gonode/cluster/global"
	"github.com/gonode/gonode/cluster/pg"
	"github.com/gonode/gonode/cluster/placement"
	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/repl/eval"
)

// The shell's API is a host package, node, that every interpreter sees
// without an import, and a prelude of lowercase helpers (connect, spawn,
// send, ...) that call it. Helpers that act as a process (self, receive,
// spawn with a link) go through __self, the *node.Proc bound to each
// interpreter: the shell's process in the shell interpreter, the spawned
// process in a worker.
const (
	apiPath = "github.com/gonode/gonode/repl/node"
	apiKey  = apiPath + "/node"
)

// shipCalls are the helpers whose last argument is code to run in an
// interpreter of its own (see Options.ShipCalls).
var shipCalls = map[string]int{
	"spawn": -1, "spawnLink": -1, "spawnMonitor": -1,
	"child": 1, // child(id, func() {...}, options...)
}

// shipLiterals are the helpers whose argument is code when it is a func
// literal, and a function's name otherwise (see Options.ShipLiterals).
var shipLiterals = map[string]int{"async": 1} // async(node, func() T {...})

// typedCalls are the prelude's generic helpers that return their type
// argument (see Options.TypedCalls).
var typedCalls = map[string]bool{"as": true}

// prelude declares the lowercase helpers. Each is a thin call into node, so
// that help() and the README describe one API.
const prelude = `
var __self = node.Shell() // the shell; workers are bound to their process before they run

func self() node.Pid                                  { return __self.Self() }
func nodeName() string                                { return __self.NodeName() }
func connect(name string, timeout ...time.Duration) bool { return __self.Connect(name, timeout...) }
func waitFor(name string, timeout time.Duration) bool { return __self.WaitFor(name, timeout) }
func disconnect(name string) bool                     { return __self.Disconnect(name) }
func list() []string                                  { return __self.List() }
func discovered() []string                            { return __self.Discovered() }
func ping(name string) string                         { return __self.Ping(name) }
func spawn(args ...any) node.Pid                      { return __self.Spawn(false, args...) }
func spawnLink(args ...any) node.Pid                  { return __self.Spawn(true, args...) }
func spawnMonitor(args ...any) (node.Pid, node.Ref)   { return __self.SpawnMonitor(args...) }
func send(to any, msg any) any                        { return __self.Send(to, msg) }
func receive(timeout ...time.Duration) any            { return __self.Receive(timeout...) }
func call(to any, request any, timeout ...time.Duration) any { return __self.Call(to, request, timeout...) }
func reply(req node.CallRequest, v any) bool          { return __self.Reply(req, v) }
func receiveMatch(match func(msg any) bool, timeout ...time.Duration) any { return __self.ReceiveMatch(match, timeout...) }
func flush()                                          { __self.Flush() }
func register(name string, pid node.Pid) bool         { return __self.Register(name, pid) }
func unregister(name string) bool                     { return __self.Unregister(name) }
func whereis(name string) any                         { return __self.Whereis(name) }
func registered() []string                            { return __self.Registered() }
func link(pid node.Pid) bool                          { return __self.Link(pid) }
func unlink(pid node.Pid) bool                        { return __self.Unlink(pid) }
func monitor(to any) node.Ref                         { return __self.Monitor(to) }
func demonitor(ref node.Ref) bool                     { return __self.Demonitor(ref) }
func trapExit(on bool) bool                           { return __self.TrapExit(on) }
func exit(args ...any) bool                           { return __self.Exit(args...) }
func at(name, nodeName string) node.Name              { return node.Name{Name: name, Node: nodeName} }
func pid(s string) node.Pid                           { return __self.ParsePid(s) }
func rpc(nodeName, fn string, args ...any) any        { return __self.RPC(nodeName, fn, args...) }
func cast(nodeName, fn string, args ...any) bool      { return __self.Cast(nodeName, fn, args...) }
func async(where any, fn any, args ...any) *node.Task { return __self.Async(where, fn, args...) }
func await(t *node.Task, timeout ...time.Duration) any { return __self.Await(t, timeout...) }
func as[T any](v any) T                               { var z T; return __self.As(v, &z).(T) }
func within(d time.Duration) node.Timeout             { return node.Timeout(d) }
func yield(t *node.Task, timeout ...time.Duration) any { return __self.Yield(t, timeout...) }
func asyncStream(items any, fn string, opts ...any) []any { return __self.AsyncStream(items, fn, opts...) }
func maxConcurrency(n int) node.StreamOpt             { return node.MaxConcurrency(n) }
func multicall(nodes []string, fn string, args ...any) []any { return __self.Multicall(nodes, fn, args...) }
func push(nodes ...any) *node.PushReport               { return __self.Push(nodes...) }
func codeVersion(node ...string) int                  { return __self.CodeVersion(node...) }
func processes(node ...string) node.Table            { return __self.Processes(node...) }
func i(pid node.Pid) any                              { return __self.Info(pid) }
func monitorNodes(on bool) bool                       { return __self.MonitorNodes(on) }
func nodeNotices(on bool) bool                        { return __self.NodeNotices(on) }
func v(n ...int) any                                  { return __self.History(n...) }
func supervise(strategy any, args ...any) node.Pid    { return __self.Supervise(strategy, args...) }
func child(id string, fn any, opts ...any) node.Child { return __self.Child(id, fn, opts...) }
func on(nodes ...string) node.ChildOpt                { return node.On(nodes...) }
func intensity(max int, period time.Duration) node.SupOpt { return node.Intensity(max, period) }
func supName(name string) node.SupOpt                 { return node.SupName(name) }
func whichChildren(sup any) []node.ChildInfo          { return __self.WhichChildren(sup) }
func countChildren(sup any) node.ChildCounts          { return __self.CountChildren(sup) }
func tree(sup any) *node.Tree                         { return __self.Tree(sup) }
func restarts(sup any) node.Restarts                  { return __self.Restarts(sup) }
func terminateChild(sup any, id any) bool             { return __self.TerminateChild(sup, id) }
func restartChild(sup any, id string) node.Pid        { return __self.RestartChild(sup, id) }
func deleteChild(sup any, id string) bool             { return __self.DeleteChild(sup, id) }
func startChild(sup any, c node.Child) node.Pid       { return __self.StartChild(sup, c) }
func registerGlobal(name string, pid node.Pid, timeout ...time.Duration) bool { return __self.RegisterGlobal(name, pid, timeout...) }
func whereisGlobal(name string) any                   { return __self.WhereisGlobal(name) }
func unregisterGlobal(name string, timeout ...time.Duration) bool { return __self.UnregisterGlobal(name, timeout...) }
func registeredGlobal() []string                      { return __self.RegisteredGlobal() }
func global(name string) node.Global                  { return node.Global{Name: name} }
func join(group string, pids ...node.Pid) bool        { return __self.Join(group, pids...) }
func leave(group string, pids ...node.Pid) bool       { return __self.Leave(group, pids...) }
func members(group string) []node.Pid                 { return __self.Members(group) }
func localMembers(group string) []node.Pid            { return __self.LocalMembers(group) }
func groups() []string                                { return __self.Groups() }
func monitorGroup(group string) (node.Ref, []node.Pid) { return __self.MonitorGroup(group) }
func demonitorGroup(ref node.Ref) bool                { return __self.DemonitorGroup(ref) }
func loads() node.Loads                               { return __self.Loads() }
func leastLoaded() node.Placement                     { return node.LeastLoaded() }
func local() node.Placement                           { return node.Local() }
func hash(key string) node.Placement                  { return node.Hash(key) }
func among(nodes ...string) node.Placement            { return node.Among(nodes...) }
func explainPlacement(p node.Placement) any           { return __self.ExplainPlacement(p) }
func web(addr string, token ...string) string         { return __self.Web(addr, token...) }
func cluster() node.ClusterView                       { return __self.Cluster() }
func top(n ...int) node.Top                           { return __self.Top(n...) }
func supervisionTrees() node.Trees                    { return __self.SupervisionTrees() }
func trace(target any, opts ...any) bool              { return __self.Trace(target, opts...) }
func traceNode(nodeName string, opts ...any) bool     { return __self.TraceNode(nodeName, opts...) }
func traceLimit(n int, per time.Duration) node.TraceOpt { return node.TraceLimit(n, per) }
func untrace(targets ...any) bool                     { return __self.Untrace(targets...) }
func getState(server any) any                         { return __self.GetState(server) }
func help(name ...any)                                { __self.Help(name...) }
func quit()                                           { __self.Quit() }
`

// helpText is what help() prints, one line per helper; README's list is
// the same text.
const helpText = `Helpers (the full API is also available as node.X, for example node.Connect):
  connect(node[, timeout]) bool connect to a node (idempotent); true on success, else false and
                                a warning saying why; with a timeout, keep trying until then
  waitFor(node, timeout) bool   connect, and wait until the node has run its script; failing
                                that within the timeout, fail the snippet (for CI scripts)
  disconnect(node) bool         drop the connection to a node
  list() []string               connected nodes (Node.list)
  discovered() []string         nodes that --discover or --join found, connected or not
  ping(node) string             "pong" if the node answers, "pang" if not
  nodeName() string             this node's name
  self() Pid                    the shell's own pid (a process with a mailbox)
  spawn(func() {...}) Pid       start a process running the function
  spawn(node, func() {...}) Pid start it on another node; its output comes back here
  spawn(placement, func() {...}) Pid   start it where a placement chooses (leastLoaded(), ...)
  spawnLink(...), spawnMonitor(...)  the same, linked to / monitored by the caller
  send(to, msg)                 send to a Pid, a registered name, at(name, node) or global(name)
  receive() / receive(d) any    take the next message; after d, the atom :timeout
  receiveMatch(func(m any) bool {...}[, d]) any   take the first message the function accepts,
                                leaving the others queued (selective receive); after d, :timeout
  flush()                       print and empty the mailbox
  call(server, request[, d]) any   GenServer.call: ask a server (pid, name, at(name, node),
                                global(name); a BEAM gen_server too) and wait 5 s or d for its reply
  reply(req, v)                 answer a node.CallRequest taken from the mailbox
  register(name, pid), unregister(name), whereis(name), registered()
  link(pid), unlink(pid), monitor(pid or name), demonitor(ref), trapExit(bool)
  exit(reason) / exit(pid, reason)   end the caller / send an exit signal
  at(name, node) Name           a registered name on another node, for send and monitor
  pid("<node@host.1.0>") Pid    parse a printed pid
  rpc(node, "Fn", args...) any  call a function by name there; its result or an error (what it
                                prints comes out here, marked with the node, as with erpc);
                                "Type.Method" calls a method of a type declared there
  cast(node, "Fn", args...)     call without waiting for a result
  async(node, "Fn", args...) *Task, await(task[, timeout]) any   Task.async / Task.await;
                                node may be a placement (async(leastLoaded(), "Fn", args...))
  async(node, func() T {...}) *Task   run a func literal there, as spawn does, for its result
  as[T](v) T                    v as a T, to compute with what rpc, await and receive return:
                                n := as[int](rpc(node, "Fn", 5)); n + 1 (an error value fails)
  within(d)                     as the last argument of rpc, async or multicall: give up after d
                                and cancel the call where it runs
  yield(task[, timeout]) any    the result, or nil if not done yet (the task goes on)
  asyncStream(items, "Fn", options...) []any   Fn(item) for each item, each a value or an error;
                                options on(nodes...) (round-robin) or a placement (leastLoaded(),
                                ...), maxConcurrency(n), a timeout per item (default 5s), "unordered"
  multicall(nodes, "Fn", args...) []any   rpc on several nodes at once
  push([nodes...][, within(d)]) *PushReport   send the shell's declarations to every connected
                                node (or those named) and switch all of them or none; which took it
  codeVersion([node]) int       the version of the last push a node installed (0 before any)
  processes() / processes(node) the process table, here or on another node
  i(pid)                        what one process is doing, on any node
  monitorNodes(bool)            get {:nodeup, n} / {:nodedown, n, reason} messages
  nodeNotices(bool)             print node up/down notices above the prompt
  v() / v(n)                    the last result / result n (negative: from the end)
Cluster services (every distributed node runs them: Erlang's :global and :pg, and placement):
  registerGlobal(name, pid[, timeout]) bool   hold a name in the whole cluster; false if taken
  whereisGlobal(name) any, unregisterGlobal(name[, timeout]) bool, registeredGlobal() []string
  global(name) Global           a global name, for send and monitor
  join(group, pids...), leave(group, pids...)   process groups (the caller if no pid)
  members(group), localMembers(group) []Pid, groups() []string   on every node / this node
  monitorGroup(group) (Ref, []Pid), demonitorGroup(ref)   join/leave messages in the mailbox
  loads() Loads                 each node's load record, as a table
  leastLoaded(), local(), hash(key), among(nodes...) Placement   where spawn and async run
  explainPlacement(placement) any   which node it would choose now, and why
Supervision (Elixir's Supervisor and DynamicSupervisor):
  supervise(strategy, children..., options...) Pid   start a supervisor linked to the caller;
                                strategy "one_for_one", "one_for_all", "rest_for_one" or "dynamic";
                                options intensity(max, period) (default 3 in 5s), supName(name)
  child(id, func() {...}, options...) Child   a child spec; options on(nodes...) (where it runs,
                                in order; it moves to the next when its node dies), "permanent",
                                "transient", "temporary", a shutdown time, "brutal_kill"
  whichChildren(sup), countChildren(sup), tree(sup), restarts(sup)   what a supervisor holds / did
  startChild(sup, child), terminateChild(sup, id or pid), restartChild(sup, id), deleteChild(sup, id)
Watching the cluster (the panels of the web view, gonode --web, as helpers):
  web(addr[, token]) string     serve the live web view at addr (":8080" is 127.0.0.1:8080) and
                                return its URL; web("") stops it
  cluster() ClusterView         every node, the nodes it is connected to and its load, asked of each
  top([n]) Top                  the n processes (default 10) with the deepest mailboxes, all nodes
  supervisionTrees() Trees      every node's supervision trees, with children on any node
Tracing (recon_trace's rule: past 100 events in a second, or the limit given, a trace stops):
  trace(pid or name[, options...]) bool   print the messages a process sends and receives and its
                                exit, on this node or another; options traceLimit(n, per) (n events
                                within per; per 0: n in all), "sends", "receives", "exits"
  traceNode(node[, options...]) bool   print every message between this node and node but the
                                cluster services' own; options traceLimit(n, per), "all"
  untrace([pid or node...]) bool   stop this shell's traces (all, or those named)
  getState(server) any          a server's state, on any node (sys:get_state)
  help() / help(name)           this list / one helper: its signature, what it does, an example
                                (help(spawn), help("rpc"))
  quit()                        stop the node and leave the shell; in a remote shell (--remsh),
                                leave it and the node runs on
Functions declared in the shell (func Compute(v int) int {...}) can be called by other
nodes with rpc and async, and so can methods of its types ("Compute.Square"), func variables
and standard library functions ("strings.ToUpper").`

// shellError is a helper's failure: it ends the snippet and prints as
// "** (error) ...", not as a panic. The evaluator raises the same kind for
// the escape paths it refuses, so the type is the evaluator's.
type shellError = eval.HostError

// shellExit is exit(reason) typed at the prompt: it ends the snippet and
// prints "** (exit) reason", as iex does; the shell's process lives on. A
// script (-e, a file, piped input) stops there: with success for :normal,
// as elixir does, else as failed.
type shellExit struct{ reason any }

// Error says the reason as Elixir's Exception.format_exit does: the
// standard reasons as words, any other term as printed.
func (e shellExit) Error() string {
	switch e.reason {
	case proc.Normal, proc.Shutdown, proc.Killed:
		return string(e.reason.(proc.Atom))
	}
	return proc.FormatReason(e.reason)
}

// normal reports exit(:normal), which ends a script with success.
func (e shellExit) normal() bool { return e.reason == proc.Normal }

// fail fails the helper that calls it (see eval.Fail).
func fail(format string, args ...any) { eval.Fail(format, args...) }

// Task is a call started by async and finished by await.
type Task struct {
	Node, Fn string
	done     chan struct{}
	value    any
	err      error
	cancel   context.CancelFunc
	awaited  atomic.Bool
}

func (t *Task) String() string { return fmt.Sprintf("%%Task{%s %s}", t.Node, t.Fn) }

// exports builds the node package for one runtime.
func (rt *Runtime) exports() interp.Exports {
	withShell := func(f any) reflect.Value { return reflect.ValueOf(f) }
	sym := map[string]reflect.Value{
		// Types.
		"Pid": reflect.ValueOf((*proc.Pid)(nil)), "Ref": reflect.ValueOf((*proc.Ref)(nil)),
		"Atom": reflect.ValueOf((*proc.Atom)(nil)), "Name": reflect.ValueOf((*proc.Name)(nil)),
		"ExitMsg": reflect.ValueOf((*proc.ExitMsg)(nil)), "DownMsg": reflect.ValueOf((*proc.DownMsg)(nil)),
		"CallRequest": reflect.ValueOf((*proc.CallRequest)(nil)),
		"PanicReason": reflect.ValueOf((*proc.PanicReason)(nil)),
		"NodeUp":      reflect.ValueOf((*dist.NodeUp)(nil)), "NodeDown": reflect.ValueOf((*dist.NodeDown)(nil)),
		"Proc": reflect.ValueOf((*Proc)(nil)), "Task": reflect.ValueOf((*Task)(nil)),
		"Table": reflect.ValueOf((*Table)(nil)), "Info": reflect.ValueOf((*Info)(nil)),
		"Child": reflect.ValueOf((*Child)(nil)), "ChildOpt": reflect.ValueOf((*ChildOpt)(nil)),
		"SupOpt": reflect.ValueOf((*SupOpt)(nil)), "ChildInfo": reflect.ValueOf((*otp.ChildInfo)(nil)),
		"ChildCounts": reflect.ValueOf((*otp.ChildCounts)(nil)), "Tree": reflect.ValueOf((*otp.TreeNode)(nil)),
		"Event": reflect.ValueOf((*otp.Event)(nil)), "Restarts": reflect.ValueOf((*Restarts)(nil)),
		"StreamOpt": reflect.ValueOf((*StreamOpt)(nil)), "MaxConcurrency": reflect.ValueOf(MaxConcurrency),
		"Timeout": reflect.ValueOf((*Timeout)(nil)), "On": reflect.ValueOf(On),
		"Intensity": reflect.ValueOf(Intensity), "SupName": reflect.ValueOf(SupName),
		"PushReport": reflect.ValueOf((*PushReport)(nil)), // push.go
		// Tracing (trace.go).
		"TraceOpt": reflect.ValueOf((*TraceOpt)(nil)), "TraceLimit": reflect.ValueOf(TraceLimit),
		// The web view's panels (web_api.go).
		"ClusterView": reflect.ValueOf((*ClusterView)(nil)), "Trees": reflect.ValueOf((*Trees)(nil)),
		"NodeTree": reflect.ValueOf((*NodeTree)(nil)), "Top": reflect.ValueOf((*Top)(nil)),
		// The cluster services (cluster_api.go).
		"Global": reflect.ValueOf((*Global)(nil)), "Placement": reflect.ValueOf((*Placement)(nil)),
		"Loads": reflect.ValueOf((*Loads)(nil)), "Load": reflect.ValueOf((*placement.Load)(nil)),
		"Explanation": reflect.ValueOf((*placement.Explanation)(nil)),
		"JoinMsg":     reflect.ValueOf((*pg.JoinMsg)(nil)), "LeaveMsg": reflect.ValueOf((*pg.LeaveMsg)(nil)),
		"GlobalConflict": reflect.ValueOf((*global.Conflict)(nil)),
		"LeastLoaded":    reflect.ValueOf(placement.LeastLoaded), "Local": reflect.ValueOf(placement.Local),
		"Hash": reflect.ValueOf(placement.Hash), "Among": reflect.ValueOf(placement.Among),
		// Reasons.
		"Normal": reflect.ValueOf(proc.Normal), "Kill": reflect.ValueOf(proc.Kill),
		"Killed": reflect.ValueOf(proc.Killed), "Shutdown": reflect.ValueOf(proc.Shutdown),
		"NoProc": reflect.ValueOf(proc.NoProc), "NoConnection": reflect.ValueOf(proc.NoConnection),
		// The shell's own binding; a worker's __self is assigned its
		// process before it runs (bindWorker).
		"Shell": withShell(rt.shellProc),
		// Node-level calls, for node.X use from any interpreter.
		"Connect":    withShell(func(name string) bool { return rt.shellProc().Connect(name) }),
		"Disconnect": withShell(func(name string) bool { return rt.shellProc().Disconnect(name) }),
		"List":       withShell(func() []string { return rt.shellProc().List() }),
		"Ping":       withShell(func(name string) string { return rt.shellProc().Ping(name) }),
		"NodeName":   withShell(func() string { return rt.node.Name() }),
		"RPC": withShell(func(node, fn string, args ...any) any {
			return rt.shellProc().RPC(node, fn, args...)
		}),
		"Processes": withShell(func() Table { return rt.shellProc().Processes() }),
		// ProcessInfo serves a peer's i(pid): the proc.Info of a local process, or nil.
		"ProcessInfo": withShell(func(pid proc.Pid) any {
			if in, ok := rt.node.Info(pid); ok {
				return in
			}
			return nil
		}),
		"Halt": withShell(func() { rt.halt() }),
		// AwaitStartup(ms) waits that long at most for this node's startup
		// input (a script, -e, piped input) to be evaluated: a peer's
		// waitFor calls it.
		"AwaitStartup": withShell(rt.awaitStartup),
		"Help":         withShell(func() { rt.shellProc().Help() }),
	}
	return interp.Exports{apiKey: sym}
}

var errNoNode = errors.New("this node is not distributed: start gonode with --sname or --name")
