package gossip

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/gonode/gonode/discovery"
)

// DefaultPort is the gossip port (TCP and UDP) when none is given:
// memberlist's and Serf's.
const DefaultPort = 7946

// DefaultRejoinInterval is how often a member joins its seeds again.
const DefaultRejoinInterval = 15 * time.Second

// firstJoinRetry is the wait after a first failed join, doubled after
// each failure up to RejoinInterval: members started together with their
// seed (a script, a deployment) find it up a moment later.
const firstJoinRetry = 250 * time.Millisecond

// label keeps gonode's gossip apart from other memberlist users on the
// same ports (Consul, Serf): a packet with another label is dropped.
const label = "gonode"

// Config configures a Member.
type Config struct {
	// Node is this node's name, name@host: the metadata other members see.
	Node string
	// BindAddr is the address to gossip on (default 0.0.0.0: all).
	BindAddr string
	// Port is the gossip port, TCP and UDP (DefaultPort if 0 and
	// AnyPort is false).
	Port int
	// AnyPort lets the system choose the port (tests; see Member.Addr).
	AnyPort bool
	// AdvertiseAddr is the address other members reach this one at
	// (default: memberlist's choice, a private address of this host, or
	// BindAddr if it is one address).
	AdvertiseAddr string
	// Join lists host:port of members to join through; none starts a
	// cluster of one that others join.
	Join []string
	// RejoinInterval is how often the Join members are joined again
	// (default DefaultRejoinInterval): a seed that restarted, or a member
	// that was cut off, comes back into one cluster. Joining a member
	// already known costs one state exchange.
	RejoinInterval time.Duration
	// SecretKey, if set (16, 24 or 32 bytes), encrypts and authenticates
	// all gossip; members with another key cannot join.
	SecretKey []byte
	// Tune, if set, adjusts memberlist's configuration (a LAN profile:
	// probes every second) before it starts; tests shorten the timings.
	Tune func(*memberlist.Config)
	// Logf receives join failures (once until they change); nil
	// discards them.
	Logf func(format string, args ...any)
	// Verbose also passes memberlist's own warnings and errors to Logf:
	// every failed probe and refuted suspicion, too many for a shell.
	Verbose bool
}

// Member is this node in the gossip cluster. It gossips from Start until
// Close; Run reports the nodes of the cluster.
type Member struct {
	cfg     Config
	list    *memberlist.Memberlist
	members members
	log     discovery.ErrorLog

	joins     sync.WaitGroup // the join Run has under way
	joinMu    sync.Mutex     // guards closing and joins.Add against Close's Wait
	closing   bool           // guarded by joinMu: Close began; no new join
	closeOnce sync.Once
	closeErr  error
	// closed silences memberlist's logger once Close has shut it down:
	// Shutdown does not wait for a probe under way, which may log after.
	closed atomic.Bool
}

// Start binds the gossip port and starts gossiping, alone until Run joins
// the Join members. A port already taken is an error here, not later.
func Start(cfg Config) (*Member, error) {
	if !discovery.ValidName(cfg.Node) {
		return nil, fmt.Errorf("gossip: node name %q: want name@host", cfg.Node)
	}
	if len(cfg.Node) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("gossip: node name %q longer than the %d bytes of metadata", cfg.Node, memberlist.MetaMaxSize)
	}
	if cfg.RejoinInterval <= 0 {
		cfg.RejoinInterval = DefaultRejoinInterval
	}
	m := &Member{cfg: cfg, log: discovery.ErrorLog{Logf: cfg.Logf}}
	m.members.init()
	mc := memberlist.DefaultLANConfig()
	// The member name must be unique in the cluster; a restarted node gets
	// a new one, so it joins as a new member instead of fighting its old
	// self's dead record (memberlist refuses a dead name's return for a
	// while). Its node name travels as metadata.
	var suffix [4]byte
	crand.Read(suffix[:])
	mc.Name = cfg.Node + "/" + hex.EncodeToString(suffix[:])
	mc.Label = label
	if cfg.BindAddr != "" {
		mc.BindAddr = cfg.BindAddr
	}
	switch {
	case cfg.AnyPort:
		mc.BindPort = 0
	case cfg.Port > 0 && cfg.Port <= 65535:
		mc.BindPort = cfg.Port
	case cfg.Port == 0:
		mc.BindPort = DefaultPort
	default:
		return nil, fmt.Errorf("gossip: port %d out of range", cfg.Port)
	}
	mc.AdvertisePort = mc.BindPort
	if cfg.AdvertiseAddr != "" {
		mc.AdvertiseAddr = cfg.AdvertiseAddr
	}
	mc.SecretKey = cfg.SecretKey
	mc.Delegate = meta(cfg.Node)
	mc.Events = &m.members
	mc.Alive = aliveCheck{}
	logf := cfg.Logf
	if !cfg.Verbose {
		logf = nil
	}
	mc.Logger = log.New(logWriter{logf, &m.closed}, "", 0)
	if cfg.Tune != nil {
		cfg.Tune(mc)
	}
	list, err := memberlist.Create(mc)
	if err != nil {
		if mc.BindPort != 0 {
			return nil, fmt.Errorf("gossip: cannot gossip on %s port %d (choose another with --gossip-port): %w", bindName(mc.BindAddr), mc.BindPort, err)
		}
		return nil, fmt.Errorf("gossip: %w", err)
	}
	m.list = list
	return m, nil
}

func bindName(addr string) string {
	if addr == "" || addr == "0.0.0.0" {
		return "all interfaces"
	}
	return addr
}

// Addr is the host:port other members join this one at.
func (m *Member) Addr() string {
	n := m.list.LocalNode()
	return net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
}

// Run joins the Join members (again every RejoinInterval, and with
// backoff while none answers) and reports the node names of the cluster's
// live members, this one included, whenever they change, until ctx ends.
// A member suspected of failure stays in the set until it is declared
// failed. Run leaves the cluster only on Close.
func (m *Member) Run(ctx context.Context, found func([]string)) error {
	// A join runs in a goroutine of its own: one to an unreachable host
	// takes memberlist's TCP timeout, and membership changes are reported
	// meanwhile. Close waits for it.
	var joinAt <-chan time.Time
	joinNow := make(chan time.Time, 1)
	if len(m.cfg.Join) > 0 {
		joinNow <- time.Now()
		joinAt = joinNow
	}
	joined := make(chan error, 1)
	backoff := firstJoinRetry
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	var last []string
	report := func() {
		names := m.names()
		if last == nil || !slices.Equal(names, last) {
			last = names
			found(names)
		}
	}
	report()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-m.members.changed:
			report()
		case <-joinAt:
			joinAt = nil
			m.joinMu.Lock()
			if m.closing {
				m.joinMu.Unlock()
				continue
			}
			m.joins.Add(1)
			m.joinMu.Unlock()
			go func() {
				defer m.joins.Done()
				joined <- m.join()
			}()
		case err := <-joined:
			wait := m.cfg.RejoinInterval
			if err != nil {
				wait = backoff + rand.N(backoff/4)
				backoff = min(2*backoff, m.cfg.RejoinInterval)
			} else {
				backoff = firstJoinRetry
			}
			timer = time.NewTimer(wait)
			joinAt = timer.C
		}
	}
}

// join joins through the Join members once.
func (m *Member) join() error {
	_, err := m.list.Join(m.cfg.Join)
	if err != nil {
		// memberlist lists one error per member on lines of their own:
		// one line reads better in a log.
		parts := strings.Split(err.Error(), "\n\t* ")
		if len(parts) > 1 {
			parts = parts[1:]
		}
		err = fmt.Errorf("%w: %s", errJoin, strings.TrimSpace(strings.Join(parts, "; ")))
	}
	m.log.Report("gossip seed "+strings.Join(m.cfg.Join, ","), err)
	return err
}

// errJoin is wrapped by the error of a join that reached nobody.
var errJoin = errors.New("no member answered")

// names returns the node names of the live members.
func (m *Member) names() []string { return m.members.names() }

// Close leaves the cluster, telling the others at once (they drop this
// node without waiting to detect a failure), and stops gossiping.
// It waits for a join under way (a host that does not answer holds it
// for up to memberlist's TCP timeout). Idempotent, and safe while Run
// runs, though Run is meant to return first. memberlist's Shutdown does
// not wait for a probe under way: it may run on for up to its TCP
// timeout, but logs and reports nothing.
func (m *Member) Close() error {
	m.closeOnce.Do(func() {
		m.joinMu.Lock()
		m.closing = true
		m.joinMu.Unlock()
		// One second to hand the leave message to another member: a
		// cluster of one has nobody to tell.
		err := m.list.Leave(time.Second)
		m.closeErr = errors.Join(err, m.list.Shutdown())
		m.closed.Store(true)
		m.joins.Wait()
		if m.closeErr != nil {
			m.closeErr = fmt.Errorf("gossip: leaving: %w", m.closeErr)
		}
	})
	return m.closeErr
}
