package repl

// help(name) for the web view's helpers (web_api.go), kept apart from
// help.go's topics as cluster_help.go's are; init merges them into topics.

var webTopics = map[string]topic{
	"web": {"web(addr) string\nweb(addr, token) string",
		"Serve the live web view (as gonode --web does) and return its URL: nodes and their\nconnections, loads, processes, supervision trees, names and groups, the message\nflow the tracer sees, updated every second, with buttons to send a message to, kill\nor trace a process. \":8080\" or \"8080\" binds 127.0.0.1; an address other hosts can\nreach needs a token, which every request must carry (?token=T). The page has no\naccounts: whoever reaches it can kill processes. web(\"\") stops it.",
		"web(\":8080\")\nweb(\"\")"},
	"cluster": {"cluster() ClusterView",
		"This node and every connected one, each with the nodes it is connected to, its\nprocess count and load score, asked of each node (within 800ms; a node that does not\nanswer says so). The web view's nodes panel.",
		`cluster()`},
	"top": {"top() Top\ntop(n) Top",
		"The n processes (default 10) with the deepest mailboxes, on every node, running ones\nfirst among equals. The web view's process panel.",
		`top(5)`},
	"supervisionTrees": {"supervisionTrees() Trees",
		"Every node's supervision trees: each supervisor that is no other supervisor's child,\nwith its children wherever they run. The web view's supervision panel; tree(sup)\ndraws one supervisor of this node.",
		`supervisionTrees()`},
}

func init() {
	for k, v := range webTopics {
		topics[k] = v
	}
}
