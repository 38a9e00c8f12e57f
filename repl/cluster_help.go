package repl

// help(name) for the cluster services' helpers (cluster_api.go), kept
// apart from help.go's topics so that each file stays short; init merges
// them into topics and sameAs.

var clusterSameAs = map[string]string{
	"whereisGlobal": "registerGlobal", "unregisterGlobal": "registerGlobal", "registeredGlobal": "registerGlobal",
	"leave": "join", "localMembers": "members", "groups": "members", "demonitorGroup": "monitorGroup",
	"local": "leastLoaded", "hash": "leastLoaded", "among": "leastLoaded",
}

var clusterTopics = map[string]topic{
	"registerGlobal": {"registerGlobal(name, pid[, timeout]) bool\nwhereisGlobal(name) any\nunregisterGlobal(name[, timeout]) bool\nregisteredGlobal() []string",
		"Global names (Erlang's :global): one process holds a name in the whole cluster.\nregisterGlobal returns true once every node has stored it, false (and a warning\nnaming the holder) if another process holds it; it fails after the timeout\n(default 5s) instead of hanging. The name goes when its process dies or its node\nleaves. whereisGlobal: the holder, or nil, from this node's copy (local speed).",
		"registerGlobal(\"chat\", spawn(func() { fmt.Println(receive()) }))\nwhereisGlobal(\"chat\")\nsend(global(\"chat\"), \"hi\")"},
	"global": {"global(name) Global",
		"A global name, for send and monitor: the message goes to whichever process holds\nthe name, on any node; a name nobody holds fails the send.",
		`send(global("chat"), "hello")`},
	"join": {"join(group, pids...) bool\nleave(group, pids...) bool",
		"Process groups (Erlang's :pg): add processes of this node to a group seen by every\nnode, the caller if none is given; a process may join many times. leave removes one\nmembership each (false if none was a member). Members that die, or whose node\ngoes, leave at once.",
		"join(\"room\")\njoin(\"room\", spawn(func() { fmt.Println(receive()) }))"},
	"members": {"members(group) []Pid\nlocalMembers(group) []Pid\ngroups() []string",
		"The members of a group on every node, or on this node only; the groups with\nmembers. Read from this node's copy, at local speed.",
		"for _, p := range members(\"room\") { send(p, \"hi all\") }"},
	"monitorGroup": {"monitorGroup(group) (Ref, []Pid)\ndemonitorGroup(ref) bool",
		"Watch a group: every join and leave arrives in the caller's mailbox as\n{ref, :join, group, pids} or {ref, :leave, group, pids} (node.JoinMsg,\nnode.LeaveMsg). Returns the ref and the members when watching began.",
		"ref, now := monitorGroup(\"room\")\nreceive(5*time.Second)"},
	"loads": {"loads() Loads",
		"Each node's load record, as a table: score, runnable processes, processes, the\ndeepest mailboxes, CPU (cores busy / cores), memory and the record's age. Nodes\nshare a record every 500ms; placements choose by them.",
		`loads()`},
	"leastLoaded": {"leastLoaded() Placement\nlocal() Placement\nhash(key) Placement\namong(nodes...) Placement",
		"Placements: where spawn(placement, func() {...}) and async(placement, \"Fn\", ...)\nrun. leastLoaded: the lower score of two nodes drawn at random among those with a\nfresh record; local: this node; hash(key): the same node for a key while the nodes\nstay the same (rendezvous hashing); among(nodes...): leastLoaded among those.\nNo node fits: spawn fails, async's await gives an error value.",
		"spawn(leastLoaded(), func() { fmt.Println(\"on\", nodeName()) })\nawait(async(hash(\"user42\"), \"strings.ToUpper\", \"hi\"))"},
	"discovered": {"discovered() []string",
		"The nodes that discovery found last (gonode --discover or --join), connected or\nnot; nil without discovery. Each one found is connected to, and tried again\nwith backoff if it refuses.",
		`discovered()`},
	"explainPlacement": {"explainPlacement(placement) any",
		"Which node the placement would choose now and why (the candidates and their\nscores or weights), without placing anything; an error value if no node fits.",
		`explainPlacement(leastLoaded())`},
}

func init() {
	for k, v := range clusterSameAs {
		sameAs[k] = v
	}
	for k, v := range clusterTopics {
		topics[k] = v
	}
}
