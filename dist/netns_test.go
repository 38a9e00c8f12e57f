package dist

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// A partition between two nodes in network namespaces of their own.
//
// netLab builds, for one test, two namespaces A and B joined by a veth
// pair ("data", the link that is cut), and a control veth pair from each
// to this process's namespace, over which the test's hidden node drives
// the two peers. Each peer's node name carries an address on its loopback
// device (reachable over both links); the addresses come from
// 198.18.0.0/15, the range set aside for benchmarking networks (RFC 2544),
// one /24 per lab:
//
//	root: ctlA .1/30  ---  A: ctl .2/30, lo .9/32  (peer A: pa@198.18.K.9)
//	root: ctlB .5/30  ---  B: ctl .6/30, lo .10/32 (peer B: pb@198.18.K.10)
//	A: data  ---  B: data   (routes .9 <-> .10 only; cut and healed)
//
// Each namespace has its own port mapper: the first node there serves one
// on every address, port $ERL_EPMD_PORT as in this process.
type netLab struct {
	t          *testing.T
	nsA, nsB   string // namespace names
	ctlA, ctlB string // the control veths' ends in this namespace
	net        string // 198.18.K.
	ipA, ipB   string // the peers' addresses
	cutBy      string // how cut cuts: "netem" (loss 100%) or "link" (down)
}

// labSeq tells apart the labs of one test process (-count=2 runs them at
// once).
var labSeq atomic.Int32

// labLock, the directory where ip(8) keeps the namespaces it made (there
// once newNetLab has made one), is locked to serialise the choice of a
// lab's /24 between test processes; locking it leaves no file behind.
const labLock = "/run/netns"

// newNetLab sets a lab up, or skips the test where namespaces cannot be
// made. Everything it creates is removed by t.Cleanup, failure or not.
func newNetLab(t *testing.T) *netLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("partition test: needs root to create network namespaces (CI runs as root); skipping")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("partition test: `ip` (Debian package iproute2) not on PATH; skipping")
	}
	sweepLabs(t)
	id := strconv.Itoa(os.Getpid()) + "x" + strconv.Itoa(int(labSeq.Add(1)))
	l := &netLab{t: t, nsA: "gonode-a-" + id, nsB: "gonode-b-" + id, ctlA: "gnca" + id, ctlB: "gncb" + id}
	t.Cleanup(l.remove)
	if out, err := exec.Command("ip", "netns", "add", l.nsA).CombinedOutput(); err != nil {
		t.Skipf("partition test: cannot create a network namespace here (ip netns add: %v: %s); skipping", err, strings.TrimSpace(string(out)))
	}
	l.ip("netns", "add", l.nsB)
	for _, ns := range []string{l.nsA, l.nsB} {
		l.ip("-n", ns, "link", "set", "lo", "up")
	}
	if out, err := exec.Command("ip", "link", "add", l.ctlA, "type", "veth", "peer", "name", "ctl", "netns", l.nsA).CombinedOutput(); err != nil {
		t.Skipf("partition test: cannot create a veth pair here (%v: %s); skipping", err, strings.TrimSpace(string(out)))
	}
	l.ip("link", "add", l.ctlB, "type", "veth", "peer", "name", "ctl", "netns", l.nsB)
	l.ip("-n", l.nsA, "link", "add", "data", "type", "veth", "peer", "name", "data", "netns", l.nsB)

	// The /24: the first from 198.18.<pid mod 256> on that this namespace
	// neither has nor routes, chosen and taken under a lock.
	lock, err := os.Open(labLock)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	used := l.ip("-4", "-o", "addr", "show") + l.ip("-4", "route", "show", "table", "all")
	for i := range 256 {
		k := (os.Getpid() + i) % 256
		if net := fmt.Sprintf("198.18.%d.", k); !strings.Contains(used, net) {
			l.net = net
			break
		}
	}
	if l.net == "" {
		t.Fatal("no free /24 in 198.18.0.0/16")
	}
	l.ipA, l.ipB = l.net+"9", l.net+"10"
	l.ip("addr", "add", l.net+"1/30", "dev", l.ctlA)
	l.ip("addr", "add", l.net+"5/30", "dev", l.ctlB)
	l.ip("link", "set", l.ctlA, "up")
	l.ip("link", "set", l.ctlB, "up")
	for _, s := range []struct{ ns, ctl, lo string }{{l.nsA, l.net + "2/30", l.ipA + "/32"}, {l.nsB, l.net + "6/30", l.ipB + "/32"}} {
		l.ip("-n", s.ns, "addr", "add", s.ctl, "dev", "ctl")
		l.ip("-n", s.ns, "addr", "add", s.lo, "dev", "lo")
		l.ip("-n", s.ns, "link", "set", "ctl", "up")
		l.ip("-n", s.ns, "link", "set", "data", "up")
	}
	l.ip("route", "add", l.ipA+"/32", "via", l.net+"2")
	l.ip("route", "add", l.ipB+"/32", "via", l.net+"6")
	l.dataRoutes()

	l.cutBy = "link"
	if _, err := exec.LookPath("tc"); err == nil {
		// netem drops silently, links up: the realistic cut. Not every
		// kernel has it.
		if err := exec.Command("tc", "-n", l.nsA, "qdisc", "add", "dev", "data", "root", "netem", "loss", "0%").Run(); err == nil {
			_ = exec.Command("tc", "-n", l.nsA, "qdisc", "del", "dev", "data", "root").Run()
			l.cutBy = "netem"
		}
	}
	return l
}

// sweepLabs removes the namespaces of labs whose test process is gone
// (killed before its cleanup ran); their veths and routes go with them.
func sweepLabs(t *testing.T) {
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(name, "gonode-a-")
		if !ok {
			rest, ok = strings.CutPrefix(name, "gonode-b-")
		}
		pid, _, _ := strings.Cut(rest, "x")
		if !ok || pid == "" {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); err == nil {
			continue // its test still runs
		}
		if err := exec.Command("ip", "netns", "del", name).Run(); err == nil {
			t.Logf("removed %s, left behind by test process %s", name, pid)
		}
	}
}

// dataRoutes routes A's and B's loopback addresses to each other over the
// data link.
func (l *netLab) dataRoutes() {
	l.ip("-n", l.nsA, "route", "replace", l.ipB+"/32", "dev", "data", "src", l.ipA)
	l.ip("-n", l.nsB, "route", "replace", l.ipA+"/32", "dev", "data", "src", l.ipB)
}

// ip runs ip(8) and fails the test if it fails.
func (l *netLab) ip(args ...string) string {
	l.t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// cut stops all traffic on the data link, both ways, without a word to
// either side.
func (l *netLab) cut() {
	l.t.Helper()
	for _, ns := range []string{l.nsA, l.nsB} {
		if l.cutBy == "netem" {
			if out, err := exec.Command("tc", "-n", ns, "qdisc", "add", "dev", "data", "root", "netem", "loss", "100%").CombinedOutput(); err != nil {
				l.t.Fatalf("tc netem in %s: %v: %s", ns, err, out)
			}
		} else {
			l.ip("-n", ns, "link", "set", "data", "down")
		}
	}
}

// heal undoes cut.
func (l *netLab) heal() {
	l.t.Helper()
	for _, ns := range []string{l.nsA, l.nsB} {
		if l.cutBy == "netem" {
			if out, err := exec.Command("tc", "-n", ns, "qdisc", "del", "dev", "data", "root").CombinedOutput(); err != nil {
				l.t.Fatalf("tc in %s: %v: %s", ns, err, out)
			}
		} else {
			l.ip("-n", ns, "link", "set", "data", "up")
		}
	}
	if l.cutBy == "link" {
		l.dataRoutes() // a link going down takes its routes with it
	}
}

// remove deletes what the lab made (the namespaces take their veths with
// them) and checks that nothing is left.
func (l *netLab) remove() {
	for _, dev := range []string{l.ctlA, l.ctlB} {
		_ = exec.Command("ip", "link", "del", dev).Run()
	}
	for _, ns := range []string{l.nsA, l.nsB} {
		_ = exec.Command("ip", "netns", "del", ns).Run()
	}
	out, _ := exec.Command("ip", "netns", "list").CombinedOutput()
	links, _ := exec.Command("ip", "-o", "link", "show").CombinedOutput()
	for _, name := range []string{l.nsA, l.nsB} {
		if strings.Contains(string(out), name) {
			l.t.Errorf("network namespace %s left behind", name)
		}
	}
	for _, name := range []string{l.ctlA, l.ctlB} {
		if strings.Contains(string(links), " "+name+"@") || strings.Contains(string(links), " "+name+":") {
			l.t.Errorf("veth %s left behind", name)
		}
	}
	if l.net != "" {
		routes, _ := exec.Command("ip", "-4", "route", "show").CombinedOutput()
		if strings.Contains(string(routes), l.net) {
			l.t.Errorf("routes to %s0/24 left behind:\n%s", l.net, routes)
		}
	}
}

// TestFaultPartition: two peers in network namespaces of their own, one
// streaming sequenced messages to the other over a veth pair. The link is
// cut silently: both sides drop the other within a bound of the tick
// time. It is healed: the stream's next sends connect again and flow.
// Messages sent around the cut are lost (at most once), and none is
// duplicated or reordered.
func TestFaultPartition(t *testing.T) {
	t.Parallel()
	const tick = 2 * time.Second
	lab := newNetLab(t)
	cl := newCluster(t)
	id := strconv.Itoa(os.Getpid())
	// The test's node is hidden: the peers do not mesh with it, and it
	// reaches them over the control links only. Its tick time is theirs,
	// or they would drop it while it is quiet.
	a := cl.start("drv"+id+"@"+lab.net+"1", func(cfg *Config) { cfg.Hidden = true; cfg.TickTime = tick })
	pa := startPeer(t, cl.epmd, "pa"+id+"@"+lab.ipA, peerOpts{tick: tick, netns: lab.nsA})
	pb := startPeer(t, cl.epmd, "pb"+id+"@"+lab.ipB, peerOpts{tick: tick, netns: lab.nsB})
	if !pa.Serving || !pb.Serving {
		t.Fatalf("each peer should serve its namespace's port mapper: A %v, B %v", pa.Serving, pb.Serving)
	}
	for _, p := range []*peerProc{pa, pb} {
		if _, err := a.RPC(ctx(t), p.Name, "watch_nodes"); err != nil {
			t.Fatalf("watch_nodes on %s: %v", p.Name, err)
		}
	}
	me := attach(t, a)
	sink, _, err := a.SpawnRemote(ctx(t), nil, pb.Name, "seq_sink", nil, SpawnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 50 messages every 500 µs at most: a steady stream, not a flood, so
	// that the figures count the messages the cut costs.
	src, _, err := a.SpawnRemote(ctx(t), nil, pa.Name, "seq_source", []any{sink, 50, 500}, SpawnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	up := waitPeerNodeEvent(t, a, pa.Name, "up", pb.Name, time.Time{})
	waitSeqReport(t, me, sink, "the stream over the data link", func(r seqReport) bool { return r.Received >= 2000 })

	// A cut well under the tick time costs nothing: TCP sends again what
	// was dropped (its second try comes about 600 ms after the first), the
	// ticks come late but in time, nobody is dropped.
	lab.cut()
	brief := time.Now()
	time.Sleep(tick / 20) // the length of the cut: the condition under test
	lab.heal()
	briefLen := time.Since(brief) // longer where ip(8) runs slowly
	before := askSeqReport(t, me, sink, false)
	r := waitSeqReport(t, me, sink, "the stream after a brief cut", func(r seqReport) bool { return r.Received > before.Received+2000 })
	if r.Bad != 0 {
		t.Fatalf("duplicated or reordered across a brief cut: %v", r)
	}
	var drops []string
	for _, p := range []*peerProc{pa, pb} {
		for _, e := range peerNodeEvents(t, a, p.Name) {
			if e.Kind == "down" {
				drops = append(drops, fmt.Sprintf("%s dropped %s (%s)", p.Name, e.Node, e.Reason))
			}
		}
	}
	switch {
	case briefLen > tick/5:
		t.Logf("the brief cut lasted %v on this machine, too long to expect nothing lost (%v, %s)", briefLen, r, drops)
	case len(drops) > 0 || r.Gaps != 0:
		t.Errorf("a cut of %v, a tenth of the tick time %v: %s; %v", briefLen, tick, drops, r)
	default:
		t.Logf("figure: partition of two namespaces for %v (tick time %v): nobody dropped, %d messages in, 0 lost, duplicated or reordered",
			briefLen.Round(time.Millisecond), tick, r.Received)
	}

	lab.cut()
	cut := time.Now()
	downA := waitPeerNodeEvent(t, a, pa.Name, "down", pb.Name, up.At)
	downB := waitPeerNodeEvent(t, a, pb.Name, "down", pa.Name, up.At)
	atCut := askSeqReport(t, me, sink, false)
	for _, d := range []struct {
		side string
		e    nodeEvent
	}{{"A", downA}, {"B", downB}} {
		took := d.e.At.Sub(cut)
		if d.e.Reason != "net_tick_timeout" {
			t.Errorf("%s saw the partition as %q, want net_tick_timeout", d.side, d.e.Reason)
		}
		// A bound for "dropped at all", not a figure.
		if took > 3*tick || took < 0 {
			t.Errorf("%s dropped the other %v after the cut, outside (0, 3 tick times = %v]", d.side, took, 3*tick)
		}
	}

	lab.heal()
	healed := time.Now()
	reup := waitPeerNodeEvent(t, a, pa.Name, "up", pb.Name, cut)
	waitSeqReport(t, me, sink, "the stream after the heal", func(r seqReport) bool { return r.Received > atCut.Received+2000 })
	last, failed := stopSource(t, me, src)
	waitSeqReport(t, me, sink, "the last message", func(r seqReport) bool { return r.Last == last || r.Bad > 0 })
	r = askSeqReport(t, me, sink, true)
	if r.Bad != 0 {
		t.Fatalf("duplicated or reordered across the partition: %v", r)
	}
	if r.Last != last {
		t.Fatalf("the last message %d did not arrive: %v", last, r)
	}
	if len(a.Nodes()) != 0 {
		t.Errorf("the hidden driver lists visible nodes %v", a.Nodes())
	}
	t.Logf("figure: partition of two namespaces (cut by %s, tick time %v): A dropped B after %v, B dropped A after %v; "+
		"after the heal A connected again in %v; %d messages sent (%d sends failed), %d received, %d lost, %d gaps [%s], 0 duplicated or reordered",
		lab.cutBy, tick, downA.At.Sub(cut).Round(time.Millisecond), downB.At.Sub(cut).Round(time.Millisecond),
		reup.At.Sub(healed).Round(time.Millisecond), last, failed, r.Received, last-r.Received, r.Gaps, r.GapList)
}
