package placement

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Strategy says how Choose picks a node. Make one with LeastLoaded, Local,
// Hash or Among; the zero Strategy is LeastLoaded.
type Strategy struct {
	kind  kind
	key   string
	nodes []string
}

type kind uint8

const (
	kindLeastLoaded kind = iota
	kindLocal
	kindHash
	kindAmong
)

// LeastLoaded picks, by the power of two choices, among the nodes whose
// record is fresh: two distinct ones drawn at random, and the one with
// the lower Score. Equal scores: the one this node sent fewer tasks since
// its record, then the first drawn. With one fresh node, that one.
func LeastLoaded() Strategy { return Strategy{kind: kindLeastLoaded} }

// Local picks this node.
func Local() Strategy { return Strategy{kind: kindLocal} }

// Hash picks the node for key by rendezvous (highest random weight)
// hashing over the nodes with a record here, fresh or not (this node and
// every connected node running the service): every node with the same
// peers picks the same node for a key, and when a node leaves only the
// keys it had move, each to the node that was its runner-up.
func Hash(key string) Strategy { return Strategy{kind: kindHash, key: key} }

// Among picks, as LeastLoaded does, among those of nodes whose record is
// fresh.
func Among(nodes ...string) Strategy {
	return Strategy{kind: kindAmong, nodes: slices.Clone(nodes)}
}

// String prints the strategy as the shell helper that makes it.
func (st Strategy) String() string {
	switch st.kind {
	case kindLocal:
		return "local()"
	case kindHash:
		return "hash(" + strconv.Quote(st.key) + ")"
	case kindAmong:
		q := make([]string, len(st.nodes))
		for i, n := range st.nodes {
			q[i] = strconv.Quote(n)
		}
		return "among(" + strings.Join(q, ", ") + ")"
	}
	return "leastLoaded()"
}

// Candidate is a node Choose considered.
type Candidate struct {
	Node   string
	Score  float64       // the record's Score (LeastLoaded, Among)
	Age    time.Duration // how old its record was
	Placed int           // tasks this node sent there since its record
	Weight uint64        // the rendezvous weight (Hash)
}

// Explanation says why Choose picked Node.
type Explanation struct {
	Strategy   Strategy
	Node       string
	Candidates []Candidate // the two drawn (LeastLoaded, Among), or every node (Hash)
	Live       int         // how many nodes were eligible
	Reason     string
}

// String prints the explanation on a few lines, for the shell's
// explainPlacement.
func (e Explanation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s chose %s: %s", e.Strategy, e.Node, e.Reason)
	for _, c := range e.Candidates {
		mark := " "
		if c.Node == e.Node {
			mark = "*"
		}
		if e.Strategy.kind == kindHash {
			fmt.Fprintf(&b, "\n %s %-24s weight %016x", mark, c.Node, c.Weight)
		} else {
			fmt.Fprintf(&b, "\n %s %-24s score %.3f  placed since %d  record age %v", mark, c.Node, c.Score, c.Placed, c.Age.Round(time.Millisecond))
		}
	}
	return b.String()
}

// Choose picks a node for new work by st and says why; the caller then
// spawns or calls there. Errors: ErrNoLiveNode when no node fits (Among
// with none of its nodes fresh, LeastLoaded with no fresh record),
// ErrClosed after Close. A node chosen by LeastLoaded or Among counts one
// task placed there until its next record arrives.
func (s *Service) Choose(st Strategy) (string, Explanation, error) {
	return s.choose(st, true)
}

// Explain is Choose without counting a placement: what Choose would say
// now (LeastLoaded draws its two candidates anew).
func (s *Service) Explain(st Strategy) (Explanation, error) {
	_, why, err := s.choose(st, false)
	return why, err
}

func (s *Service) choose(st Strategy, count bool) (string, Explanation, error) {
	why := Explanation{Strategy: st}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", why, ErrClosed
	}
	switch st.kind {
	case kindLocal:
		why.Node, why.Live, why.Reason = s.node.Name(), 1, "the local node"
		return why.Node, why, nil
	case kindHash:
		nodes := make([]string, 0, len(s.records))
		for n := range s.records {
			nodes = append(nodes, n)
		}
		why.Live = len(nodes)
		if len(nodes) == 0 {
			return "", why, fmt.Errorf("%w: no record at all", ErrNoLiveNode)
		}
		why.Node, why.Candidates = rendezvous(st.key, nodes)
		why.Reason = fmt.Sprintf("the highest weight for the key among %d nodes", len(nodes))
		return why.Node, why, nil
	}
	var live []*entry
	for _, e := range s.records {
		if now.Sub(e.received) <= s.o.MaxAge && (st.kind != kindAmong || slices.Contains(st.nodes, e.load.Node)) {
			live = append(live, e)
		}
	}
	why.Live = len(live)
	if len(live) == 0 {
		if st.kind == kindAmong {
			return "", why, fmt.Errorf("%w: none of %v has a record younger than %v", ErrNoLiveNode, st.nodes, s.o.MaxAge)
		}
		return "", why, fmt.Errorf("%w: no record younger than %v", ErrNoLiveNode, s.o.MaxAge)
	}
	// Map order is random, but the draw must depend on Rand alone.
	slices.SortFunc(live, func(a, b *entry) int { return strings.Compare(a.load.Node, b.load.Node) })
	a := live[0]
	if len(live) == 1 {
		why.Reason = "the only node with a fresh record"
	} else {
		i := s.o.Rand.IntN(len(live))
		j := s.o.Rand.IntN(len(live) - 1)
		if j >= i {
			j++
		}
		a = live[i]
		b := live[j]
		why.Candidates = append(why.Candidates, candidate(a, now), candidate(b, now))
		sa, sb := a.load.Score(), b.load.Score()
		switch {
		case sb < sa:
			a, why.Reason = b, "the lower score of two drawn at random"
		case sa < sb:
			why.Reason = "the lower score of two drawn at random"
		case b.placed < a.placed:
			a, why.Reason = b, "equal scores; fewer tasks placed there since its record"
		default:
			why.Reason = "equal scores and tasks placed; the first drawn"
		}
	}
	if len(why.Candidates) == 0 {
		why.Candidates = []Candidate{candidate(a, now)}
	}
	if count {
		a.placed++
	}
	why.Node = a.load.Node
	return why.Node, why, nil
}

func candidate(e *entry, now time.Time) Candidate {
	return Candidate{Node: e.load.Node, Score: e.load.Score(), Age: now.Sub(e.received), Placed: e.placed}
}

// rendezvous returns the node with the highest weight for key, and every
// node with its weight, highest first. Ties (two nodes hashing alike)
// go to the name that sorts first, so that every caller agrees.
func rendezvous(key string, nodes []string) (string, []Candidate) {
	cs := make([]Candidate, len(nodes))
	for i, n := range nodes {
		cs[i] = Candidate{Node: n, Weight: weight(key, n)}
	}
	slices.SortFunc(cs, func(a, b Candidate) int {
		if a.Weight != b.Weight {
			if a.Weight > b.Weight {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Node, b.Node)
	})
	if len(cs) == 0 {
		return "", nil
	}
	return cs[0].Node, cs
}

// weight is a 64-bit FNV-1a hash of the node name, a zero byte and the
// key, passed through a finalizer (splitmix64's) so that keys differing in
// their last bytes still spread over the whole range.
func weight(key, node string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(node))
	h.Write([]byte{0})
	h.Write([]byte(key))
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
