package repl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/epmd"
)

// Connect connects to a node; false if it cannot be reached or refuses,
// with the reason in a one-line warning on stderr (Erlang's
// net_kernel:connect_node returns false and says nothing). With a timeout
// it tries again until it connects or the time is up: a script can wait
// for a peer that is starting.
func (x *Proc) Connect(name string, timeout ...time.Duration) bool {
	if len(timeout) > 1 {
		fail("connect takes a node, and optionally a timeout")
	}
	if err := x.connect(name, timeout...); err != nil {
		x.warnConnect(name, err)
		return false
	}
	return true
}

// WaitFor connects to a node, trying again until it answers or the
// timeout passes; then it fails the snippet with the reason, so that a
// script stops with exit code 1 instead of going on without the peer.
//
// Once connected it also waits, within the same timeout, until the peer
// has evaluated its startup input (a script, -e, piped input), so that
// the functions its script declares exist when waitFor returns. A peer
// that cannot say (an Erlang or Elixir node, or a gonode whose
// --rpc-allow refuses node.AwaitStartup) counts as started.
func (x *Proc) WaitFor(name string, timeout time.Duration) bool {
	start := time.Now()
	if err := x.connect(name, timeout); err != nil {
		fail("waitFor %s: not connected after %v: %s", name, timeout, connectReason(name, err))
	}
	if name == x.rt.node.Name() {
		return true
	}
	left := max(timeout-time.Since(start), 0)
	ctx, cancel := context.WithTimeout(x.ctx(), left+setupGrace)
	defer cancel()
	v, err := x.rt.dist.RPC(ctx, name, "node.AwaitStartup", left.Milliseconds())
	var re *dist.RemoteError
	switch {
	case errors.As(err, &re):
	case errors.Is(err, dist.ErrUnencodable):
		// An Erlang or Elixir node: its functions are module:function,
		// it has no startup input to wait for, and connected means ready.
	case err != nil:
		fail("waitFor %s: %w", name, err)
	case v == false:
		fail("waitFor %s: connected, but its startup input (a script) is still running after %v", name, timeout)
	}
	return true
}

// setupGrace is what waitFor gives the peer's answer beyond the timeout.
const setupGrace = 2 * time.Second

// retryConnect is how long connect with a timeout waits between attempts.
const retryConnect = 100 * time.Millisecond

func (x *Proc) connect(name string, timeout ...time.Duration) error {
	d := x.needDist()
	ctx := x.ctx()
	if len(timeout) == 0 {
		err := d.Connect(ctx, name)
		if errors.Is(err, dist.ErrBadNodeName) {
			fail("connect: %w", err)
		}
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout[0])
	defer cancel()
	var last error
	for {
		err := d.Connect(ctx, name)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, dist.ErrBadNodeName):
			fail("connect: %w", err)
		case last == nil || ctx.Err() == nil:
			last = err // an attempt cut short by the timeout says less than the one before
		}
		if permanent(err) {
			return err
		}
		select {
		case <-ctx.Done():
			if x.ctx().Err() != nil {
				fail("connect %s: interrupted", name)
			}
			return last
		case <-time.After(retryConnect):
		}
	}
}

// permanent says whether trying again cannot help: the peer refuses this
// node's cookie or certificate.
func permanent(err error) bool {
	return errors.Is(err, dist.ErrBadCookie) || errors.Is(err, dist.ErrTLSMismatch) ||
		errors.Is(err, dist.ErrTLSCertificate) || errors.Is(err, dist.ErrNotAllowed) ||
		errors.Is(err, dist.ErrClosed)
}

// warnConnect says why connect returned false. A refused cookie is logged
// by the node already; a TLS refusal says it all itself.
func (x *Proc) warnConnect(name string, err error) {
	switch {
	case errors.Is(err, dist.ErrBadCookie):
	case errors.Is(err, dist.ErrTLSMismatch) || errors.Is(err, dist.ErrTLSCertificate):
		fmt.Fprintf(x.rt.errw, "gonode: %v\n", err)
	default:
		fmt.Fprintf(x.rt.errw, "[warning] cannot connect to %s: %s\n", name, connectReason(name, err))
	}
}

var lookupAt = regexp.MustCompile(`looking up "[^"]*" at (\S+?):? `)

// connectReason says in a few words why connecting to name failed: no
// such name on the host's port mapper, no port mapper or no host there,
// a refused cookie, or the error itself.
func connectReason(name string, err error) string {
	alive, host, _ := strings.Cut(name, "@")
	mapper := "the port mapper on " + host
	if m := lookupAt.FindStringSubmatch(err.Error()); m != nil {
		mapper = "the port mapper at " + m[1]
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.Is(err, epmd.ErrNotRegistered):
		return fmt.Sprintf("no node %q is registered with %s (not started yet, or under another ERL_EPMD_PORT)", alive, mapper)
	case errors.Is(err, dist.ErrBadCookie):
		return "the node refused this node's cookie"
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("unknown host %s (%v)", host, dnsErr.Err)
	case errors.As(err, &opErr) && opErr.Op == "dial" && strings.Contains(err.Error(), "port mapper"):
		return fmt.Sprintf("host %s unreachable: %s does not answer (%v)", host, mapper, opErr.Err)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return fmt.Sprintf("host %s unreachable (%v)", host, opErr.Err)
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time (" + err.Error() + ")"
	}
	return err.Error()
}

// Disconnect drops the connection to a node.
func (x *Proc) Disconnect(name string) bool { return x.needDist().Disconnect(name) }

// List returns the connected visible nodes.
func (x *Proc) List() []string {
	if x.rt.dist == nil {
		return []string{}
	}
	return x.rt.dist.Nodes()
}

// Ping answers "pong" or "pang".
func (x *Proc) Ping(name string) string {
	if x.rt.dist == nil {
		return "pang"
	}
	return x.rt.dist.Ping(x.ctx(), name)
}

// MonitorNodes subscribes the caller to NodeUp and NodeDown messages.
func (x *Proc) MonitorNodes(on bool) bool {
	x.needDist().MonitorNodes(x.proc().Pid(), on, false)
	return true
}

// NodeNotices turns the node up/down lines above the prompt on or off.
func (x *Proc) NodeNotices(on bool) bool { return x.rt.notices.Swap(on) }
