// Package metrics serves a node's figures to Prometheus: its processes,
// registered names and mailboxes, its connections to peers and their
// traffic, the peers' calls it served, and Go's and the OS process's
// standard figures, on a registry of its own at /metrics.
//
// Everything is read from the node when Prometheus scrapes (a Collector
// that asks proc and dist), so a node nobody scrapes pays nothing; the
// only counters are those nothing else could tell (a connection's
// messages and bytes, the calls served), which dist keeps as one atomic
// add each. The package is wired by the command (gonode --metrics) only.
package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// maxRemembered bounds the visible peers a collector remembers to report
// as down (gonode_peer_up 0) once they are gone.
const maxRemembered = 1024

// collector reads a node at each scrape. Collect may run concurrently.
type collector struct {
	pn    *proc.Node
	d     *dist.Node // nil: a node without distribution
	start time.Time

	mu   sync.Mutex
	seen map[string]bool // guarded by mu: visible peers once connected

	info, uptime, procs, running, names, mailTotal, mailMax *prometheus.Desc
	nodes, up, msgsIn, msgsOut, bytesIn, bytesOut           *prometheus.Desc
	rpcServed, rpcFailed                                    *prometheus.Desc
}

func newCollector(pn *proc.Node, d *dist.Node) *collector {
	g := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("gonode_"+name, help, labels, nil)
	}
	return &collector{
		pn: pn, d: d, start: time.Now(), seen: make(map[string]bool),
		info:      g("node_info", "Always 1; the label node is this node's name.", "node"),
		uptime:    g("uptime_seconds", "Seconds since the node started serving metrics (at its start, with gonode --metrics)."),
		procs:     g("processes", "Processes alive on this node."),
		running:   g("processes_running", "Processes not waiting for a message: running or wanting to run."),
		names:     g("registered_names", "Names registered on this node (register)."),
		mailTotal: g("mailbox_messages", "Messages waiting in all the node's mailboxes."),
		mailMax:   g("mailbox_max_messages", "Messages waiting in the deepest mailbox."),
		nodes:     g("connected_nodes", "Nodes connected to this one: visible (list()) or hidden.", "kind"),
		up:        g("peer_up", "1 while the connection to the peer is up; 0 for a visible peer that was connected and is gone.", "peer"),
		msgsIn:    g("peer_messages_received_total", "Messages read from the peer since the connection came up.", "peer"),
		msgsOut:   g("peer_messages_sent_total", "Messages queued for the peer since the connection came up.", "peer"),
		bytesIn:   g("peer_bytes_received_total", "Bytes of messages read from the peer since the connection came up (ticks excluded).", "peer"),
		bytesOut:  g("peer_bytes_sent_total", "Bytes of messages queued for the peer since the connection came up (ticks excluded).", "peer"),
		rpcServed: g("rpc_served_total", "Calls and casts of peers this node dealt with: run, or refused."),
		rpcFailed: g("rpc_failed_total", "Calls and casts of peers that failed: an error, a panic, no such function, or refused (--rpc-allow, --max-peer-calls)."),
	}
}

// Describe sends every metric's description.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.info, c.uptime, c.procs, c.running, c.names, c.mailTotal, c.mailMax,
		c.nodes, c.up, c.msgsIn, c.msgsOut, c.bytesIn, c.bytesOut, c.rpcServed, c.rpcFailed} {
		ch <- d
	}
}

// Collect reads the node. Walking the processes takes a lock per process
// (no stop of the world), as the placement's load sampler does: a whole
// scrape of a node of 10,000 processes takes 8-11 ms on 2 vCPUs
// (BenchmarkGather10k).
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(c.info, 1, c.pn.Name())
	gauge(c.uptime, time.Since(c.start).Seconds())
	var count, running, total, deepest int
	for _, in := range c.pn.Processes() {
		count++
		if in.Status == "running" {
			running++
		}
		total += in.MessageQueueLen
		deepest = max(deepest, in.MessageQueueLen)
	}
	gauge(c.procs, float64(count))
	gauge(c.running, float64(running))
	gauge(c.mailTotal, float64(total))
	gauge(c.mailMax, float64(deepest))
	gauge(c.names, float64(len(c.pn.Registered())))
	if c.d == nil {
		return
	}
	peers := c.d.Peers()
	visible, hidden := 0, 0
	up := make(map[string]bool, len(peers))
	for _, p := range peers {
		if p.Hidden {
			hidden++
		} else {
			visible++
		}
		up[p.Name] = true
		gauge(c.up, 1, p.Name)
		counter(c.msgsIn, p.MessagesIn, p.Name)
		counter(c.msgsOut, p.MessagesOut, p.Name)
		counter(c.bytesIn, p.BytesIn, p.Name)
		counter(c.bytesOut, p.BytesOut, p.Name)
	}
	gauge(c.nodes, float64(visible), "visible")
	gauge(c.nodes, float64(hidden), "hidden")
	// A peer that went away would just vanish from the scrape; one that
	// was a member (visible) is reported down instead, so that an alert
	// on gonode_peer_up == 0 fires. Hidden peers (remote shells, tools)
	// come and go under fresh names and are not remembered.
	c.mu.Lock()
	for _, p := range peers {
		if !p.Hidden && len(c.seen) < maxRemembered {
			c.seen[p.Name] = true
		}
	}
	for name := range c.seen {
		if !up[name] {
			gauge(c.up, 0, name)
		}
	}
	c.mu.Unlock()
	rs := c.d.RPCServed()
	counter(c.rpcServed, rs.Served)
	counter(c.rpcFailed, rs.Failed)
}
