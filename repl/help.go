package repl

import (
	"fmt"
	"strings"
)

// help(name) is iex's h: one helper's signature, what it does and an
// example. help(spawn) names the helper as an identifier; the evaluator
// rewrites that argument into the string "spawn" (eval/rewrite.go), since
// a function value reaching the host carries no name.

// topic is one helper's help text.
type topic struct {
	usage   string // the signatures, one a line
	doc     string // what it does
	example string // lines to type at the prompt
}

// sameAs marks a helper documented with another one.
var sameAs = map[string]string{
	"spawnLink": "spawn", "spawnMonitor": "spawn",
	"unregister": "register", "whereis": "register", "registered": "register",
	"unlink": "link", "demonitor": "monitor",
	"maxConcurrency": "asyncStream",
	"on":             "child",
	"intensity":      "supervise", "supName": "supervise",
	"countChildren": "whichChildren", "tree": "whichChildren", "restarts": "whichChildren",
	"terminateChild": "startChild", "restartChild": "startChild", "deleteChild": "startChild",
	"await": "async", "quit": "help", "reply": "call",
}

var topics = map[string]topic{
	"self":     {"self() Pid", "The shell's own pid: the shell is a process with a mailbox.", `send(self(), "hi"); receive()`},
	"nodeName": {"nodeName() string", "This node's name.", `nodeName()`},
	"connect": {"connect(node) bool\nconnect(node, timeout) bool",
		"Connect to a node (idempotent). true on success; else false and a warning saying why.\nWith a timeout, keep trying until then.",
		`connect("node2@localhost", 10*time.Second)`},
	"waitFor": {"waitFor(node, timeout) bool",
		"Connect, and wait until the node has run its script; failing that within the\ntimeout, fail the snippet (for CI scripts).",
		`waitFor("node2@localhost", 30*time.Second)`},
	"disconnect": {"disconnect(node) bool", "Drop the connection to a node.", `disconnect("node2@localhost")`},
	"list":       {"list() []string", "The connected nodes (Node.list).", `list()`},
	"ping":       {"ping(node) string", `"pong" if the node answers, "pang" if not.`, `ping("node2@localhost")`},
	"spawn": {"spawn(func() {...}) Pid\nspawn(node, func() {...}) Pid\nspawn(placement, func() {...}) Pid\nspawnLink(...) Pid\nspawnMonitor(...) (Pid, Ref)",
		"Start a process running the function, here or on another node (its output comes\nback here), or where a placement chooses (leastLoaded(), hash(key): help(leastLoaded)). The function is a literal or a function declared in the shell; the\nvariables it uses are copied into it. spawnLink links it to the caller,\nspawnMonitor monitors it.",
		"pid := spawn(func() { fmt.Println(\"got\", receive()) })\nsend(pid, \"hello\")"},
	"send": {"send(to, msg)", "Send msg to a Pid, a registered name, at(name, node) or global(name); returns msg.",
		`send(at("worker", "node2@localhost"), "ping")`},
	"receive": {"receive() any\nreceive(d) any", "Take the next message from the mailbox, waiting for one; after d, the atom :timeout.",
		`receive(2*time.Second)`},
	"receiveMatch": {"receiveMatch(match func(m any) bool) any\nreceiveMatch(match, d) any",
		"Take the first message, in mailbox order, for which match returns true, leaving the\nothers queued (Erlang's selective receive); after d, the atom :timeout.",
		"send(self(), \"other\"); send(self(), 42)\nreceiveMatch(func(m any) bool { _, ok := m.(int); return ok }, time.Second)"},
	"call": {"call(server, request) any\ncall(server, request, timeout) any\nreply(req node.CallRequest, v) bool",
		"GenServer.call: send request to a server (pid, name, at(name, node), global(name)) and\nwait for its reply (5 s unless a timeout is given); a server that is missing, dies or\nis late fails the snippet. The server may be a BEAM gen_server, an otp server, or a\nprocess that takes the node.CallRequest from its mailbox and answers with reply.",
		"register(\"echo\", spawn(func() { for { r := receive().(node.CallRequest); reply(r, r.Request) } }))\ncall(\"echo\", \"hi\")"},
	"flush": {"flush()", "Print and empty the mailbox.", `send(self(), 1); flush()`},
	"register": {"register(name, pid) bool\nunregister(name) bool\nwhereis(name) any\nregistered() []string",
		"Name a process on this node, drop a name, look one up (nil if none), list the names.",
		"register(\"worker\", spawn(func() { fmt.Println(receive()) }))\nsend(\"worker\", \"hi\")"},
	"link": {"link(pid) bool\nunlink(pid) bool", "Link the caller to a process (its exit reaches the caller), or drop the link.",
		`link(pid)`},
	"monitor": {"monitor(pid or name) Ref\ndemonitor(ref) bool", "Watch a process: when it ends, a :DOWN message arrives. demonitor stops watching.",
		"ref := monitor(pid)\nreceive()"},
	"trapExit": {"trapExit(bool) bool", "Turn exit signals from linked processes into {:EXIT, pid, reason} messages.", `trapExit(true)`},
	"exit": {"exit(reason)\nexit(pid, reason)", "End the caller with a reason, or send an exit signal to a process\n(\"kill\" cannot be trapped). At the prompt, exit(reason) ends the snippet with\n** (exit) reason and the shell keeps its process, as in iex; a script stops there.",
		`exit(pid, "kill")`},
	"at":  {"at(name, node) Name", "A registered name on another node, for send and monitor.", `send(at("worker", "node2@localhost"), "hi")`},
	"pid": {"pid(text) Pid", "Parse a printed pid.", `pid("<node2@localhost.42.0>")`},
	"rpc": {"rpc(node, \"Fn\", args...) any",
		"Call a function by name on a node and return its result, or an error value (remote\nundef, node down, timeout). Fn is a function declared in that node's shell or a\nstandard library function; within(d) as the last argument gives up after d.",
		"rpc(\"node2@localhost\", \"strings.ToUpper\", \"hi\")\nrpc(\"node2@localhost\", \"Compute\", 5, within(time.Second))"},
	"cast": {"cast(node, \"Fn\", args...) bool", "Call a function on a node without waiting for its result.",
		`cast("node2@localhost", "Log", "started")`},
	"async": {"async(node, \"Fn\", args...) *Task\nasync(node, func() T {...}) *Task\nasync(placement, \"Fn\", args...) *Task\nawait(task) any\nawait(task, timeout) any",
		"Start a call on a node, or where a placement chooses (Task.async), and collect its\nresult later (Task.await); no node fitting the placement gives an error value.\nA func literal runs there as spawn's does (the code it uses and the variables it\ncaptures travel with it), and its result comes back.",
		"t := async(\"node2@localhost\", \"Compute.Square\", 5)\nawait(t, 5*time.Second)\nawait(async(\"node2@localhost\", func() string { return nodeName() }))"},
	"as": {"as[T](v) T",
		"v as a T, for arithmetic on what rpc, await and receive return (any): numbers\nconvert when they fit (an int64 or 3.0 to an int), a []any to a []int, a map of\nfields to a struct type of the shell's. An error value (a failed rpc) fails the\nsnippet with that error; a value that does not convert fails it naming both types.",
		"n := as[int](rpc(\"node2@localhost\", \"Compute.Square\", 5))\nn + 1"},
	"within": {"within(d)", "As the last argument of rpc, async or multicall: give up after d and cancel the\ncall where it runs.",
		`rpc("node2@localhost", "Slow", within(500*time.Millisecond))`},
	"yield": {"yield(task) any\nyield(task, timeout) any", "The task's result, or nil if it is not done yet (the task goes on).", `yield(t)`},
	"asyncStream": {"asyncStream(items, \"Fn\", options...) []any\nmaxConcurrency(n) StreamOpt",
		"Fn(item) for each item, each a value or an error. Options: on(nodes...) (round-robin)\nor a placement (leastLoaded(), among(nodes...): each item where it chooses as the item\nstarts), maxConcurrency(n), a timeout per item (default 5s), \"unordered\".",
		`asyncStream([]int{1, 2, 3}, "Compute", on("node2@localhost"), maxConcurrency(2))`},
	"multicall": {"multicall(nodes, \"Fn\", args...) []any", "rpc on several nodes at once; one result or error per node.",
		`multicall(list(), "runtime.NumGoroutine")`},
	"processes":    {"processes() Table\nprocesses(node) Table", "The process table of this node, or of another one.", `processes("node2@localhost")`},
	"i":            {"i(pid) any", "What one process, on any node, is doing: status, mailbox, links, monitors,\nfunction; nil if it is not alive.", `i(self())`},
	"monitorNodes": {"monitorNodes(bool) bool", "Get {:nodeup, n} and {:nodedown, n, reason} messages.", "monitorNodes(true)\nreceive()"},
	"nodeNotices":  {"nodeNotices(bool) bool", "Print node up/down notices above the prompt, or stop.", `nodeNotices(false)`},
	"v":            {"v() any\nv(n) any", "The last result, or result n (negative: counted from the end).", `v(-2)`},
	"supervise": {"supervise(strategy, children..., options...) Pid\nintensity(max, period) SupOpt\nsupName(name) SupOpt",
		"Start a supervisor linked to the caller. strategy: \"one_for_one\", \"one_for_all\",\n\"rest_for_one\" or \"dynamic\". Options: intensity(max, period) (default 3 in 5s),\nsupName(name).",
		"sup := supervise(\"one_for_one\", child(\"w\", Worker), intensity(5, time.Minute))"},
	"child": {"child(id, func() {...}, options...) Child\non(nodes...) ChildOpt",
		"A child spec. Options: on(nodes...) (where it runs, in order; it moves to the next\nwhen its node dies), \"permanent\", \"transient\", \"temporary\", a shutdown time,\n\"brutal_kill\".",
		`child("w", Worker, on("node2@localhost", "node3@localhost"), "transient")`},
	"whichChildren": {"whichChildren(sup) []ChildInfo\ncountChildren(sup) ChildCounts\ntree(sup) *Tree\nrestarts(sup) Restarts",
		"What a supervisor holds, and what it did.", `tree(sup)`},
	"startChild": {"startChild(sup, child) Pid\nterminateChild(sup, id or pid) bool\nrestartChild(sup, id) Pid\ndeleteChild(sup, id) bool",
		"Change a running supervisor's children.", `startChild(sup, child("w2", Worker))`},
	"help": {"help()\nhelp(name)\nquit()", "The list of helpers, or one helper's signature, what it does and an example.\nquit() stops the node and leaves the shell.",
		"help(spawn)\nhelp(\"rpc\")"},
}

// helpFor returns the help text of one helper, or an error naming the
// helpers there are.
func helpFor(name string) (string, error) {
	key := name
	if k, ok := sameAs[name]; ok {
		key = k
	}
	t, ok := topics[key]
	if !ok {
		if strings.HasPrefix(name, "node.") {
			return "", fmt.Errorf("no help for %s: help() covers the lowercase helpers; node.X are their Go API (help(%s))", name, lowerFirst(strings.TrimPrefix(name, "node.")))
		}
		return "", fmt.Errorf("no help for %q: it is not a shell helper; help() lists them", name)
	}
	var b strings.Builder
	b.WriteString(t.usage)
	b.WriteString("\n\n")
	for _, l := range strings.Split(t.doc, "\n") {
		b.WriteString("  " + l + "\n")
	}
	b.WriteString("\nExample:\n")
	for _, l := range strings.Split(t.example, "\n") {
		b.WriteString("  " + l + "\n")
	}
	return strings.TrimRight(b.String(), "\n"), nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
