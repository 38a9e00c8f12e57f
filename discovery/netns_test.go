package discovery_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// labStrategy is one way of discovery as a lab runs it: the flags of
// node i (0-based) of hosts, and how long the README says a killed node
// takes to leave the others' discovered() and a restarted one to be back.
type labStrategy struct {
	name   string
	setup  func(l *Lab) // what the strategy needs of the lab (a DNS server)
	flags  func(hosts []*Host, i int) []string
	drop   time.Duration // a killed node leaves discovered() within this
	rejoin time.Duration // a restarted node is connected and found again within this
}

// dnsName is the name the lab's DNS server answers with the hosts.
const dnsName = "nodes.gonode.test"

var labStrategies = []labStrategy{
	{
		name: "static",
		flags: func(hosts []*Host, i int) []string {
			addrs := make([]string, len(hosts))
			for j, h := range hosts {
				addrs[j] = h.Addr
			}
			return []string{"--discover", "static:" + strings.Join(addrs, ",")}
		},
		drop:   5 * time.Second, // the port mappers are asked every 5 s
		rejoin: 5 * time.Second,
	},
	{
		name:  "dns",
		setup: func(l *Lab) { l.ServeDNS(dnsName, l.Hosts) },
		flags: func(hosts []*Host, i int) []string {
			return []string{"--discover", "dns:" + dnsName}
		},
		drop:   5 * time.Second, // looked up every 5 s, then the port mappers asked
		rejoin: 5 * time.Second,
	},
	{
		// The first node is the seed the others join: killing it is the
		// case users of memberlist and libcluster report never heals.
		name: "gossip",
		flags: func(hosts []*Host, i int) []string {
			if i == 0 {
				return []string{"--discover", "gossip"}
			}
			return []string{"--join", hosts[0].Addr + ":7946"}
		},
		drop:   7 * time.Second,  // probed, suspected and declared failed about 6 s after
		rejoin: 15 * time.Second, // the seed restarts alone; the others join it again every 15 s
	},
}

// startAll starts one node per host of l, named n1, n2...
func startAll(l *Lab, s labStrategy) []*Node {
	if s.setup != nil {
		s.setup(l)
	}
	nodes := make([]*Node, len(l.Hosts))
	for i, h := range l.Hosts {
		nodes[i] = h.Start("n"+strconv.Itoa(i+1), s.flags(l.Hosts, i)...)
	}
	return nodes
}

func names(nodes []*Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Name
	}
	slices.Sort(out)
	return out
}

// mesh holds when every node of nodes is connected to and has found
// every other, and nothing else.
func mesh(nodes []*Node) func(map[string]State) bool {
	all := names(nodes)
	return func(states map[string]State) bool {
		for _, n := range all {
			others := slices.DeleteFunc(slices.Clone(all), func(o string) bool { return o == n })
			if !states[n].Sees(others) {
				return false
			}
		}
		return true
	}
}

// dropped holds when no node of survivors has victim in its list of
// connected nodes (connected) or of nodes found (!connected).
func dropped(victim *Node, survivors []*Node, connected bool) func(map[string]State) bool {
	return func(states map[string]State) bool {
		for _, n := range survivors {
			s := states[n.Name]
			if in := slices.Contains(s.Found, victim.Name); connected {
				in = slices.Contains(s.Connected, victim.Name)
				if in {
					return false
				}
			} else if in {
				return false
			}
		}
		return true
	}
}

// TestNetnsKillRestart: for each strategy, three gonode processes on
// three hosts (network namespaces joined by a bridge) find each other and
// connect; one is killed with SIGKILL and the other two drop it, from
// their connections and from what discovery found; it is restarted with
// the same flags and is back in every node's lists; killed and restarted
// at once, it is back again; cut off, its host rebooted and dropped, and
// restarted before its link is healed (the others' connections to it
// left half-open), it is back once the link is; cut off until dropped
// and healed without a restart, it is back. The waits are bounds
// well above the README's stated times (the machine is shared), and the
// times taken are logged: scripts/discovery-figures.sh measures them.
func TestNetnsKillRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 9 gonode processes in network namespaces; skipped with -short")
	}
	labUsable(t)
	bin := buildGonode(t, t.TempDir())
	for _, s := range labStrategies {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t, bin, 3)
			start := time.Now()
			nodes := startAll(l, s)
			at := l.Wait(60*time.Second, "a full mesh of 3", mesh(nodes))
			t.Logf("full mesh %v after the first start", at.Sub(start))

			victim, survivors := nodes[0], nodes[1:]
			killed := victim.Kill()
			at = l.Wait(30*time.Second, victim.Name+" dropped from the survivors' connections", dropped(victim, survivors, true))
			t.Logf("connections to %s gone %v after kill -9", victim.Name, at.Sub(killed))
			at = l.Wait(4*s.drop+30*time.Second, victim.Name+" dropped from what the survivors' discovery found", dropped(victim, survivors, false))
			t.Logf("%s no longer found %v after kill -9 (README: within %v)", victim.Name, at.Sub(killed), s.drop)

			restarted := time.Now()
			victim.Restart()
			at = l.Wait(4*s.rejoin+30*time.Second, victim.Name+" back in a full mesh after its restart", mesh(nodes))
			t.Logf("full mesh again %v after the restart (README: within %v)", at.Sub(restarted), s.rejoin)

			// Killed and restarted at once, before anyone noticed in
			// discovery: its old self's records must not keep it out.
			victim.Kill()
			restarted = time.Now()
			victim.Restart()
			at = l.Wait(4*s.rejoin+30*time.Second, victim.Name+" back in a full mesh after an immediate restart", mesh(nodes))
			t.Logf("full mesh again %v after an immediate restart", at.Sub(restarted))

			// Cut off, its host rebooted there (node and port mapper
			// killed and started again) once the others' discovery dropped
			// it, then the link healed: no FIN reached the others, who
			// still hold connections to its old self (for a tick time,
			// 60 s); they must not keep the new one out.
			victim.Host.Cut()
			victim.Kill()
			victim.Host.RestartPortMapper()
			l.Wait(4*s.drop+30*time.Second, victim.Name+" cut off and dropped from what the survivors' discovery found", dropped(victim, survivors, false))
			victim.Restart()
			victim.Host.Heal()
			healed := time.Now()
			at = l.Wait(4*s.rejoin+30*time.Second, victim.Name+" back in a full mesh after its host rebooted behind a cut link", mesh(nodes))
			t.Logf("full mesh again %v after a reboot behind a cut link, healed", at.Sub(healed))

			// Cut off until the others' discovery dropped it, and healed,
			// without a restart: each side's gossip declared the other
			// failed, and must merge again (memberlist alone never does).
			victim.Host.Cut()
			l.Wait(4*s.drop+30*time.Second, victim.Name+" cut off and dropped from what the survivors' discovery found", dropped(victim, survivors, false))
			victim.Host.Heal()
			healed = time.Now()
			at = l.Wait(4*s.rejoin+30*time.Second, victim.Name+" back in a full mesh after a partition healed", mesh(nodes))
			t.Logf("full mesh again %v after a partition healed", at.Sub(healed))
		})
	}
}
