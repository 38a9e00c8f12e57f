package repl

// help(name) for the tracing helpers (trace.go), kept apart from help.go's
// topics so that each file stays short; init merges them into topics.

var traceSameAs = map[string]string{"traceLimit": "trace"}

var traceTopics = map[string]topic{
	"trace": {"trace(pid or name, options...) bool\ntraceLimit(n, per) TraceOpt",
		"Print, above the prompt, the messages a process sends and receives and its exit,\nas recon_trace does: a pid, a name registered here, or at(name, node) on another\nnode (its node traces it and sends the lines here). A trace stops itself past 100 events in a second, and says\nso; traceLimit(n, per) sets another limit (per 0: n events in all). \"sends\",\n\"receives\" and \"exits\" show only those. untrace() stops it; so does the process's\nexit, or its node going away.",
		"pid := spawn(func() { for { m := receive(); fmt.Println(m) } })\ntrace(pid)\nsend(pid, \"hi\")\ntrace(at(\"counter\", \"node2@localhost\"), traceLimit(10, time.Second), \"receives\")"},
	"traceNode": {"traceNode(node, options...) bool",
		"Print every message between this node and node, both ways: sends, links, exits,\nmonitors, rpc calls and their replies; not the cluster services' own (global, pg,\nplacement), which \"all\" shows too. The rate limit is trace's (traceLimit(n, per)).\nuntrace(node) stops it.",
		`traceNode("node2@localhost")`},
	"untrace": {"untrace() bool\nuntrace(pid or node...) bool",
		"Stop the traces this shell started: all of them, or those of the pids and nodes\nnamed. true if one was running.",
		`untrace()`},
	"getState": {"getState(server) any",
		"The state of a server (sys:get_state): a pid on any node, a name registered here,\nor at(name, node). The server answers between two messages; a process that is not a server is\nan error, not a wait.",
		`getState(whereis("counter"))`},
}

func init() {
	for k, v := range traceSameAs {
		sameAs[k] = v
	}
	for k, v := range traceTopics {
		topics[k] = v
	}
}
