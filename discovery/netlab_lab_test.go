// A netlab runs gonode processes as hosts of a small network, for the
// discovery tests and figures that need real hosts: each host is a
// network namespace of its own with one address, its own port mapper on
// port 4369 and its own gossip port, and all of them hang off one bridge
// in a hub namespace, which also answers DNS. Nothing is added to the
// namespace the tests run in; everything made is removed when the test
// ends, failed or not.
//
//	hub namespace: bridge "gnbr" 10.77.0.254/24, DNS server on :53
//	host i:        eth0 10.77.0.i/24 (veth to the bridge), lo
//
// The addresses are the same in every lab: labs never see each other.
// (Test files, not a package: the lab is for these tests only.)

package discovery_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Subnet is the /24 of every lab, HubAddr the hub's address in it (the
// DNS server's).
const (
	Subnet  = "10.77.0."
	HubAddr = Subnet + "254"
)

// prefix starts every namespace a lab makes, followed by the test
// process's pid, so that a sweep can tell whose they are.
const prefix = "gnd-"

// Lab is one network of hosts for one test. Its methods are called from
// the test's goroutine, except the State queries, which are safe from
// any.
type Lab struct {
	t     testing.TB
	id    string
	bin   string // the gonode binary
	dir   string // scripts and homes
	hub   string // the hub namespace
	Hosts []*Host

	dns   *dnsServer
	watch watcher

	mu    sync.Mutex
	nodes []*Node // guarded by mu: every node started, to stop at cleanup
}

// Host is one namespace of a Lab.
type Host struct {
	NS   string // the namespace's name
	Addr string // its address on the bridge
	lab  *Lab
	pm   *exec.Cmd // its port mapper
	cpus string    // taskset's CPU list for its nodes; "" none
}

var labSeq atomic.Int32

// newLab makes a lab of n hosts (at most 200), each with its port mapper
// running, for the gonode binary bin (see buildGonode). It skips the test where
// namespaces cannot be made (not root, no ip(8)).
func newLab(t testing.TB, bin string, n int) *Lab {
	t.Helper()
	labUsable(t)
	if n < 1 || n > 200 {
		t.Fatalf("netlab: %d hosts: want 1-200", n)
	}
	sweep(t)
	l := &Lab{t: t, bin: bin, dir: t.TempDir()}
	l.id = strconv.Itoa(os.Getpid()) + "x" + strconv.Itoa(int(labSeq.Add(1)))
	l.hub = prefix + l.id + "-hub"
	l.watch.init()
	t.Cleanup(l.remove)
	if out, err := exec.Command("ip", "netns", "add", l.hub).CombinedOutput(); err != nil {
		t.Skipf("netlab: cannot create a network namespace here (ip netns add: %v: %s); skipping", err, strings.TrimSpace(string(out)))
	}
	l.ip("-n", l.hub, "link", "set", "lo", "up")
	l.ip("-n", l.hub, "link", "add", "name", "gnbr", "type", "bridge")
	l.ip("-n", l.hub, "addr", "add", HubAddr+"/24", "dev", "gnbr")
	l.ip("-n", l.hub, "link", "set", "gnbr", "up")
	for i := 1; i <= n; i++ {
		h := &Host{NS: fmt.Sprintf("%s%s-%d", prefix, l.id, i), Addr: Subnet + strconv.Itoa(i), lab: l}
		l.Hosts = append(l.Hosts, h)
		l.ip("netns", "add", h.NS)
		if err := l.resolvConf(h.NS); err != nil {
			t.Skipf("netlab: cannot give the namespace a resolver (%v); skipping", err)
		}
		veth := h.veth()
		l.ip("-n", l.hub, "link", "add", "name", veth, "type", "veth", "peer", "name", "eth0", "netns", h.NS)
		l.ip("-n", l.hub, "link", "set", veth, "master", "gnbr")
		l.ip("-n", l.hub, "link", "set", veth, "up")
		l.ip("-n", h.NS, "link", "set", "lo", "up")
		l.ip("-n", h.NS, "addr", "add", h.Addr+"/24", "dev", "eth0")
		l.ip("-n", h.NS, "link", "set", "eth0", "up")
	}
	for _, h := range l.Hosts {
		h.startPortMapper()
	}
	return l
}

// resolvConf points the namespace's resolver at the hub's DNS server:
// `ip netns exec` mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf.
func (l *Lab) resolvConf(ns string) error {
	dir := filepath.Join("/etc/netns", ns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// A short timeout: a lookup the hub does not answer (no DNS server in
	// this lab) fails fast instead of holding a poll.
	return os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte("nameserver "+HubAddr+"\noptions timeout:1 attempts:1\n"), 0o644)
}

// env is the environment of every process in the lab: its own home, the
// port mapper on 4369 whatever this process's environment says.
func (l *Lab) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ERL_EPMD_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+l.dir, "ERL_EPMD_PORT=4369")
}

// startPortMapper runs `gonode epmd` in the host's namespace and waits
// until it answers, so that nodes started there register with it instead
// of starting a daemon of their own.
func (h *Host) startPortMapper() {
	l := h.lab
	l.t.Helper()
	h.pm = exec.Command("ip", "netns", "exec", h.NS, l.bin, "epmd")
	h.pm.Env = l.env()
	var out bytes.Buffer
	h.pm.Stdout, h.pm.Stderr = &out, &out
	if err := h.pm.Start(); err != nil {
		l.t.Fatalf("netlab: port mapper in %s: %v", h.NS, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		names := exec.Command("ip", "netns", "exec", h.NS, l.bin, "epmd", "-names")
		names.Env = l.env()
		if names.Run() == nil {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("netlab: the port mapper in %s does not answer after 30 s: %s", h.NS, out.String())
		}
		time.Sleep(20 * time.Millisecond) // polling a process we cannot wait on otherwise
	}
}

// remove stops every process of the lab and deletes its namespaces (their
// veths go with them) and resolver files, then checks nothing is left.
func (l *Lab) remove() {
	l.mu.Lock()
	nodes := l.nodes
	l.mu.Unlock()
	for _, n := range nodes {
		n.stop()
	}
	if l.dns != nil {
		l.dns.stop()
	}
	for _, h := range l.Hosts {
		if h.pm != nil && h.pm.Process != nil {
			_ = h.pm.Process.Kill()
			_ = h.pm.Wait()
		}
	}
	namespaces := []string{l.hub}
	for _, h := range l.Hosts {
		namespaces = append(namespaces, h.NS)
	}
	for _, ns := range namespaces {
		killIn(ns) // anything a node started there (none expected)
		_ = exec.Command("ip", "netns", "del", ns).Run()
		_ = os.RemoveAll(filepath.Join("/etc/netns", ns))
	}
	_ = os.Remove("/etc/netns") // only if empty: another test's may be there
	left := namespacesNow()
	for _, ns := range namespaces {
		if left[ns] {
			l.t.Errorf("netlab: network namespace %s left behind", ns)
		}
	}
}

// namespacesNow lists the named network namespaces ("NAME" or "NAME (id:
// N)" a line).
func namespacesNow() map[string]bool {
	out, _ := exec.Command("ip", "netns", "list").CombinedOutput()
	names := make(map[string]bool)
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names[f[0]] = true
		}
	}
	return names
}

// killIn kills the processes left in namespace ns, which only a lab
// makes and only its own processes run in.
func killIn(ns string) {
	out, err := exec.Command("ip", "netns", "pids", ns).Output()
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
	}
}

// sweep removes the namespaces of labs whose test process is gone
// (killed before its cleanup ran).
func sweep(t testing.TB) {
	for name := range namespacesNow() {
		rest, ok := strings.CutPrefix(name, prefix)
		pid, _, _ := strings.Cut(rest, "x")
		if !ok || pid == "" {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); err == nil {
			continue // its test still runs
		}
		killIn(name)
		if err := exec.Command("ip", "netns", "del", name).Run(); err == nil {
			_ = os.RemoveAll(filepath.Join("/etc/netns", name))
			t.Logf("netlab: removed %s, left behind by test process %s", name, pid)
		}
	}
}

// ip runs ip(8) and fails the test if it fails.
func (l *Lab) ip(args ...string) string {
	l.t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("netlab: ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// inNamespace runs f on an OS thread moved into namespace ns: sockets f
// opens stay in ns. The thread is moved back after; if it cannot be, it
// is left locked and ends with its goroutine.
func inNamespace(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer self.Close()
		target, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		err = f()
		if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// buildGonode builds the gonode binary into dir and returns its path.
func buildGonode(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "gonode")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/gonode/gonode/cmd/gonode").CombinedOutput()
	if err != nil {
		t.Fatalf("netlab: go build gonode: %v\n%s", err, out)
	}
	return bin
}

// labUsable skips the test where labs cannot be made (not root, no ip(8)),
// before it spends time on Build.
func labUsable(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("netlab: needs root to create network namespaces (CI runs as root); skipping")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("netlab: `ip` (Debian package iproute2) not on PATH; skipping")
	}
}

// Cut takes the host off the bridge without a word to anyone: its veth's
// end in the hub goes down, and what either side sends is lost.
func (h *Host) Cut() {
	h.lab.t.Helper()
	h.lab.ip("-n", h.lab.hub, "link", "set", h.veth(), "down")
}

// Heal puts the host back on the bridge.
func (h *Host) Heal() {
	h.lab.t.Helper()
	h.lab.ip("-n", h.lab.hub, "link", "set", h.veth(), "up")
}

func (h *Host) veth() string { return "hv" + strings.TrimPrefix(h.Addr, Subnet) }

// RestartPortMapper kills the host's port mapper and starts a new one:
// with the node's restart, a reboot of the host.
func (h *Host) RestartPortMapper() {
	h.lab.t.Helper()
	_ = h.pm.Process.Kill()
	_ = h.pm.Wait()
	h.startPortMapper()
}
