package dist

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonode/gonode/dist/epmd"
	"github.com/gonode/gonode/dist/wire"
	"github.com/gonode/gonode/proc"
)

// Errors callers branch on.
var (
	ErrNodeDown    = errors.New("dist: node down")      // the peer is not connected, or went away during the request
	ErrNotAllowed  = errors.New("dist: not allowed")    // the peer refused the connection
	ErrBadNodeName = errors.New("dist: bad node name")  // not name@host
	ErrClosed      = errors.New("dist: node is closed") // the local node has stopped
	ErrBadCookie   = wire.ErrBadCookie                  // the peer and this node have different cookies
)

// Config describes a node to start.
type Config struct {
	Name     string        // full name, name@host (see ShortName and LongName)
	Cookie   string        // the shared secret: peers must have the same one
	Hidden   bool          // connect only where asked, and stay off peers' Nodes() lists
	TickTime time.Duration // a silent peer is dropped after this long; ticks go every quarter (default 60 s)
	MaxFrame int           // largest frame accepted or sent (default wire.DefaultMaxFrame)
	// EPMDAddr is the port mapper's address (default 127.0.0.1:$ERL_EPMD_PORT or :4369).
	EPMDAddr string
	// ListenHost is the address to listen on (default: all interfaces for
	// long names, 127.0.0.1 for names on localhost). The port is chosen by
	// the system.
	ListenHost string
	// Functions resolves rpc and spawn requests by function name; nil
	// refuses them all (undef).
	Functions Resolver
	// Sources compiles function-literal source sent by a peer's shell; nil
	// refuses such spawns.
	Sources SourceRunner
	// Types names struct types declared while the program runs (the
	// shell's), so that their values cross with their names; the default
	// Protocol's codec and local calls use it (see StructTypes).
	Types StructTypes
	Logf  func(format string, args ...any) // where connection events are logged (default log.Printf)
	// Protocol is what the node dials peers with, and accepts (default
	// NativeProtocol).
	Protocol Protocol
	// AlsoAccept lists other protocols the listener recognises by their
	// first bytes (see Protocol.IsHello).
	AlsoAccept []Protocol
	// Foreign, if set, is the protocol of nodes that are not gonode nodes
	// (the Erlang dialect, dist/erlang): the listener recognises it too,
	// and a peer whose port mapper entry lacks gonode's mark
	// (epmd.GonodeExtra) is dialled with it. Gonode peers are dialled with
	// Protocol.
	Foreign Protocol
	// Transport is how the node listens and dials (default TCP).
	Transport Transport
	// StartPortMapper, if set, starts a port mapper that outlives the node
	// when none answers (see epmd.Config.StartDaemon); nil serves one
	// inside the node.
	StartPortMapper func(ctx context.Context) error
	// RPCAllow, if not nil, is the allow-list of what peers may run here:
	// patterns (path.Match syntax) of the function names they may call,
	// cast and spawn; LiteralPattern lets them send function literals.
	// Other requests are refused with ErrRefusedCall. nil allows all, as
	// in Erlang (see rpc_allow.go).
	RPCAllow []string
	// MaxCallsPerPeer caps the calls and casts of one peer running at once;
	// a call over it is answered at once with ErrBusy (default
	// DefaultMaxCallsPerPeer; negative: no cap).
	MaxCallsPerPeer int
}

// Node is a running node: a process table (Proc) reachable by other nodes
// under its name. All methods are safe for concurrent use.
type Node struct {
	cfg     Config
	proc    *proc.Node
	codec   Codec      // for copies of local calls and checks before a connection exists
	accepts []Protocol // what the listener serves, told apart by first bytes
	reg     *epmd.Registrar
	ln      net.Listener
	logf    func(string, ...any)

	mu       sync.Mutex
	table    peerTable         // guarded by mu: connections up or being set up
	watchers map[proc.Pid]bool // guarded by mu: processes subscribed to node events (value: include hidden)

	rpc     rpcState
	failed  failedConnects             // auto-connects that failed just now
	traffic atomic.Pointer[trafficBox] // nil: no traffic tracer (traffic.go)

	ctx    context.Context // cancelled by Close; every goroutine of the node watches it
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the node starts
}

// Start brings a node up: it listens, registers its name with the port
// mapper (serving an embedded one if none answers), and accepts peers.
// A name already registered gives an error wrapping epmd.ErrNameTaken.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if !wire.ValidName(cfg.Name) {
		return nil, fmt.Errorf("%w: %q: want name@host", ErrBadNodeName, cfg.Name)
	}
	if cfg.Cookie == "" {
		return nil, errors.New("dist: empty cookie")
	}
	if err := CheckRPCAllow(cfg.RPCAllow); err != nil {
		return nil, err
	}
	if cfg.TickTime <= 0 {
		cfg.TickTime = 60 * time.Second
	}
	if cfg.EPMDAddr == "" {
		cfg.EPMDAddr = epmd.AddrFromEnv()
	}
	if cfg.MaxFrame <= 0 || cfg.MaxFrame > wire.DefaultMaxFrame {
		cfg.MaxFrame = wire.DefaultMaxFrame
	}
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	if cfg.ListenHost == "" {
		cfg.ListenHost = defaultListenHost(cfg.Name)
	}
	if !cfg.Protocol.valid() {
		cfg.Protocol = nativeProtocol(cfg.Types)
	}
	if cfg.Transport == nil {
		cfg.Transport = TCP{}
	}
	ln, err := cfg.Transport.Listen(cfg.ListenHost)
	if err != nil {
		return nil, fmt.Errorf("dist: listen: %w", err)
	}
	port := listenerPort(ln)
	alive := cfg.Name[:strings.IndexByte(cfg.Name, '@')]
	reg, err := epmd.StartRegistrar(ctx, epmd.Config{
		Addr: cfg.EPMDAddr, Name: alive, Port: uint16(port), Hidden: cfg.Hidden, Logf: cfg.Logf, Extra: epmd.GonodeExtra,
		StartDaemon: cfg.StartPortMapper,
	})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("dist: registering %s with the port mapper at %s: %w", cfg.Name, cfg.EPMDAddr, err)
	}
	pn, err := proc.NewNode(cfg.Name, reg.Creation())
	if err != nil {
		reg.Close()
		ln.Close()
		return nil, err
	}
	n := &Node{
		cfg: cfg, proc: pn, codec: newNativeCodec(cfg.Types), reg: reg, ln: ln, logf: cfg.Logf,
		accepts: acceptList(cfg),
		table:   newPeerTable(cfg.Name), watchers: make(map[proc.Pid]bool),
	}
	n.rpc.init()
	n.ctx, n.cancel = context.WithCancel(context.Background())
	pn.SetForwarder(n)
	n.wg.Add(1)
	go n.acceptLoop()
	return n, nil
}

// acceptList is what the listener serves: Protocol, AlsoAccept and
// Foreign.
func acceptList(cfg Config) []Protocol {
	out := append([]Protocol{cfg.Protocol}, cfg.AlsoAccept...)
	if cfg.Foreign.valid() {
		out = append(out, cfg.Foreign)
	}
	return out
}

func defaultListenHost(name string) string {
	host := name[strings.IndexByte(name, '@')+1:]
	if host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1" {
		return "127.0.0.1"
	}
	return ""
}

// Name returns the node's full name.
func (n *Node) Name() string { return n.cfg.Name }

// Proc returns the node's process table.
func (n *Node) Proc() *proc.Node { return n.proc }

// Hidden reports whether the node was started hidden.
func (n *Node) Hidden() bool { return n.cfg.Hidden }

// Port returns the port the node listens on for peers.
func (n *Node) Port() int { return listenerPort(n.ln) }

// closeConnectWait bounds how long Close waits for connections being set
// up that signals wait for.
const closeConnectWait = 3 * time.Second

// closeCallWait bounds how long Close waits for the calls peers made here
// to answer; a call still running then gets no answer (its caller sees
// the node go down, as with erpc).
const closeCallWait = time.Second

// Close disconnects every peer, stops every process, unregisters from the
// port mapper (handing the embedded one over to another node if this one
// served it) and waits for all of the node's goroutines. Idempotent.
func (n *Node) Close() error {
	n.mu.Lock()
	if n.table.closed {
		n.mu.Unlock()
		return nil
	}
	var connecting []chan struct{}
	for _, p := range n.table.peers {
		if p.conn == nil && len(p.pending) > 0 {
			connecting = append(connecting, p.ready)
		}
	}
	n.mu.Unlock()
	// What processes sent last goes out before the node stops: first the
	// connections that signals are waiting for are given a few seconds
	// (a refused one fails at once)...
	budget := time.NewTimer(closeConnectWait)
	defer budget.Stop()
	for _, ready := range connecting {
		select {
		case <-ready:
		case <-budget.C:
		}
	}
	// ...and the calls peers made here a second to answer...
	n.awaitCalls(closeCallWait)
	n.mu.Lock()
	if n.table.closed {
		n.mu.Unlock()
		return nil
	}
	up, waiting := n.table.shutdown()
	n.mu.Unlock()

	n.cancel()
	n.ln.Close()
	// ...then what is queued on each connection (a cast, a reply), within
	// a second.
	var drains sync.WaitGroup
	for _, c := range up {
		drains.Go(func() { c.drain(time.Second) })
	}
	drains.Wait()
	stopping := errors.New("node stopping")
	for _, c := range append(up, waiting...) {
		c.close(stopping)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stopErr := n.proc.Stop(ctx)
	n.wg.Wait()
	regErr := n.reg.Close()
	return errors.Join(stopErr, regErr)
}
