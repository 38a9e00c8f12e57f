package main

import (
	"context"
	"net"
	"time"

	"github.com/gonode/gonode/dist/epmd"
)

// stopPortMapper stops the port mapper daemon that the nodes of a test
// started on port, once they have exited. One still holding names (a node
// the test could not stop) refuses, and is left to its own end.
func stopPortMapper(t interface{ Log(...any) }, port string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addr := net.JoinHostPort("127.0.0.1", port)
	for {
		ok, err := epmd.Kill(ctx, addr)
		if err != nil || ok {
			return // none runs, or it stopped
		}
		// Names still registered: a node's exit is on its way.
		select {
		case <-ctx.Done():
			t.Log("the port mapper on " + addr + " still holds names; left running")
			return
		case <-time.After(20 * time.Millisecond): // polling a condition under a deadline
		}
	}
}
