package dist

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"

	"github.com/gonode/gonode/dist/wire"
)

// readLoop reads frames until the connection fails, hands each message to
// the node (decoding it here, or in batches beside: see decodeStage), and
// then tells the node that the connection is gone.
func (c *conn) readLoop() {
	defer c.n.wg.Done()
	fr := wire.NewFrameReader(c.br, c.n.cfg.MaxFrame)
	ds := newDecodeStage(c)
	var batch *frameBatch
	for {
		frame, err := fr.ReadFrame()
		if err != nil {
			if batch != nil {
				ds.hand(batch)
			}
			ds.stop()
			if c.closeReason() == nil {
				reason := fmt.Errorf("connection closed: %w", err)
				switch {
				case errors.Is(err, os.ErrDeadlineExceeded):
					// Nothing from the peer for the tick time.
					reason = errTickTimeout
				case !isNetErr(err) && !errors.Is(err, io.EOF):
					c.n.logf("dist: closing connection from %s: %v", c.peer.Name, err)
				}
				if c.shut(reason) && reason == errTickTimeout {
					c.n.logf("dist: dropping the connection to %s: %v", c.peer.Name, reason)
				}
			}
			c.readEnded()
			c.n.connDown(c, c.closeReason())
			return
		}
		if len(frame) == 0 {
			continue // tick
		}
		c.stats.msgsIn.Add(1)
		c.stats.bytesIn.Add(uint64(4 + len(frame)))
		alone := c.br.Buffered() == 0
		if batch == nil && alone && ds.busy.Load() == 0 {
			if !c.deliver(frame) {
				ds.stop()
				c.readEnded()
				c.n.connDown(c, c.closeReason())
				return
			}
			// The next read goes to the socket and, with nothing there
			// yet, costs a system call before this goroutine parks: let
			// the process the message woke run first, since it is
			// waiting on this node's critical path.
			runtime.Gosched()
			continue
		}
		if batch == nil {
			batch = ds.get()
		}
		batch.add(frame)
		if alone || len(batch.buf) >= batchBytes {
			ds.hand(batch)
			batch = nil
		}
	}
}

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed)
}
