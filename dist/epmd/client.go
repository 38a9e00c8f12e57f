package epmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// Registration is a name held in a port mapper: the open ALIVE2 socket.
// The name stays registered until Close or until the port mapper drops
// the socket, which closes Done. Its methods are safe for concurrent use.
type Registration struct {
	conn     net.Conn
	creation uint32
	done     chan struct{} // closed by watch when the socket drops

	once     sync.Once
	closeErr error // set once by Close
}

// Register registers the short name name (the part before '@') with the
// distribution port port in the port mapper at addr (host:port), as a
// hidden node if hidden. A name another node holds gives an error wrapping
// ErrNameTaken. ctx bounds the exchange, not the registration's life.
func Register(ctx context.Context, addr, name string, port uint16, hidden bool) (*Registration, error) {
	if err := checkShortName(name); err != nil {
		return nil, err
	}
	conn, err := dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	return registerConn(ctx, conn, name, port, hidden, nil)
}

// registerConn sends ALIVE2_REQ on conn, which it owns from then on. extra
// is the entry's Extra field (see Config.Extra).
func registerConn(ctx context.Context, conn net.Conn, name string, port uint16, hidden bool, extra []byte) (*Registration, error) {
	if len(extra) > maxExtraLen {
		conn.Close()
		return nil, fmt.Errorf("epmd: registering %q: extra of %d bytes, at most %d", name, len(extra), maxExtraLen)
	}
	req := aliveReq{Port: port, NodeType: NodeTypeNormal, High: DistHigh, Low: DistLow, Name: name, Extra: extra}
	if hidden {
		req.NodeType = NodeTypeHidden
	}
	var result uint8
	var creation uint32
	err := exchange(ctx, conn, func() (err error) {
		if _, err = conn.Write(frame(encodeAliveReq(req))); err != nil {
			return err
		}
		result, creation, err = decodeAliveResp(conn)
		return err
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("epmd: registering %q at %s: %w", name, conn.RemoteAddr(), err)
	}
	if result != 0 {
		conn.Close()
		return nil, fmt.Errorf("%w: %q at %s (result %d)", ErrNameTaken, name, conn.RemoteAddr(), result)
	}
	r := &Registration{conn: conn, creation: creation, done: make(chan struct{})}
	go r.watch()
	return r, nil
}

// watch waits for the socket to drop. The port mapper never sends anything
// on it, so data also ends the registration.
func (r *Registration) watch() {
	defer close(r.done)
	var buf [1]byte
	r.conn.Read(buf[:])
	r.conn.Close()
}

// Creation is the creation the port mapper assigned to this registration.
func (r *Registration) Creation() uint32 { return r.creation }

// Done is closed when the registration socket drops, by Close or because
// the port mapper went away.
func (r *Registration) Done() <-chan struct{} { return r.done }

// Close unregisters the name by closing the socket, and waits until Done
// is closed. It is idempotent.
func (r *Registration) Close() error {
	r.once.Do(func() {
		if err := r.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			r.closeErr = err
		}
	})
	<-r.done
	return r.closeErr
}

// LookupPort asks the port mapper at addr for the distribution port of the
// node with short name name. An unknown name gives an error wrapping
// ErrNotRegistered.
func LookupPort(ctx context.Context, addr, name string) (uint16, error) {
	e, err := Lookup(ctx, addr, name)
	return e.Port, err
}

// Entry is what the port mapper knows of a registered node (PORT2_RESP).
type Entry struct {
	Port     uint16
	NodeType uint8 // NodeTypeNormal or NodeTypeHidden
	High     uint16
	Low      uint16
	// Extra is what the node registered with it: empty for BEAM nodes,
	// GonodeExtra for gonode nodes (see Config.Extra).
	Extra []byte
}

// Lookup asks the port mapper at addr for the entry of the node with short
// name name. An unknown name gives an error wrapping ErrNotRegistered.
func Lookup(ctx context.Context, addr, name string) (Entry, error) {
	if err := checkShortName(name); err != nil {
		return Entry{}, err
	}
	conn, err := dial(ctx, addr)
	if err != nil {
		return Entry{}, err
	}
	defer conn.Close()
	var p portInfo
	err = exchange(ctx, conn, func() (err error) {
		if _, err = conn.Write(frame(encodePortReq(name))); err != nil {
			return err
		}
		p, err = decodePort2Resp(conn)
		return err
	})
	if err != nil {
		return Entry{}, fmt.Errorf("epmd: looking up %q at %s: %w", name, addr, err)
	}
	return Entry{Port: p.Port, NodeType: p.NodeType, High: p.High, Low: p.Low, Extra: p.Extra}, nil
}

// Names lists the nodes registered in the port mapper at addr.
func Names(ctx context.Context, addr string) ([]NodeEntry, error) {
	conn, err := dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var entries []NodeEntry
	err = exchange(ctx, conn, func() error {
		if _, err := conn.Write(frame([]byte{OpNamesReq})); err != nil {
			return err
		}
		data, err := io.ReadAll(io.LimitReader(conn, maxNamesResp+1))
		if err != nil {
			return err
		}
		if len(data) > maxNamesResp {
			return protoErr("NAMES reply longer than %d bytes", maxNamesResp)
		}
		_, entries, err = parseNames(data)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("epmd: listing names at %s: %w", addr, err)
	}
	return entries, nil
}

// checkShortName checks a name a client sends: storable by epmd, and the
// short part only.
func checkShortName(name string) error {
	if strings.IndexByte(name, '@') >= 0 {
		return fmt.Errorf("%w: %q: give the part before '@'", ErrBadName, name)
	}
	return checkName(name)
}

func dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("epmd: %w", err)
	}
	return conn, nil
}

// exchange runs f, which talks over conn, so that ctx's deadline and
// cancellation interrupt it; it then clears conn's deadline. When ctx ends
// first the error wraps ctx.Err().
func exchange(ctx context.Context, conn net.Conn, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dl, hasDeadline := ctx.Deadline()
	if hasDeadline {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	err := f()
	ctxErr := ctx.Err()
	var ne net.Error
	if ctxErr == nil && hasDeadline && errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(dl) {
		ctxErr = context.DeadlineExceeded // the conn's deadline fired just before ctx's
	}
	if !stop() || (err != nil && ctxErr != nil) {
		if err == nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w (%v)", ctxErr, err)
	}
	if err != nil {
		return err
	}
	return conn.SetDeadline(time.Time{})
}

// Kill asks the port mapper at addr to stop (epmd -kill). It reports
// whether it agreed: epmd, and gonode's standalone port mapper, refuse
// while names are registered; the one a node embeds always refuses.
func Kill(ctx context.Context, addr string) (bool, error) {
	conn, err := dial(ctx, addr)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	var reply [2]byte
	err = exchange(ctx, conn, func() error {
		if _, err := conn.Write(frame([]byte{OpKillReq})); err != nil {
			return err
		}
		_, err := io.ReadFull(conn, reply[:])
		return err
	})
	if err != nil {
		return false, fmt.Errorf("epmd: kill at %s: %w", addr, err)
	}
	return string(reply[:]) == "OK", nil
}
