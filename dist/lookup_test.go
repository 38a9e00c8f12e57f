package dist

import (
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"testing"

	"github.com/gonode/gonode/internal/testport"

	"github.com/gonode/gonode/dist/epmd"
)

// A lookup while the port mapper is being taken over (nothing listens on
// its port for a moment) waits for the new one instead of failing: here
// the new one starts, and the node registers, at the first retry.
func TestLookupWaitsForTakeover(t *testing.T) {
	addr := testport.Addr(t) // refused from now on

	var once sync.Once
	var srv *epmd.Server
	var reg *epmd.Registrar
	t.Cleanup(func() {
		if reg != nil {
			reg.Close()
		}
		if srv != nil {
			srv.Close()
		}
	})
	takeover := func() {
		once.Do(func() {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				t.Errorf("the new port mapper cannot listen: %v", err)
				return
			}
			srv = epmd.NewServer(t.Logf)
			go func() { _ = srv.Serve(ln) }()
			reg, err = epmd.StartRegistrar(context.Background(), epmd.Config{Addr: addr, Name: "moved", Port: 4242})
			if err != nil {
				t.Errorf("register: %v", err)
			}
		})
	}
	port, err := lookupPort(ctx(t), addr, "moved", takeover)
	if err != nil || port != 4242 {
		t.Fatalf("lookup during a takeover: %d %v", port, err)
	}

	// With nobody taking over, the lookup gives up with the refusal.
	gone := testport.Addr(t)
	retries := 0
	if _, err := lookupPort(ctx(t), gone, "x", func() { retries++ }); !errors.Is(err, syscall.ECONNREFUSED) || retries == 0 {
		t.Fatalf("lookup with no port mapper: %v after %d retries", err, retries)
	}
}
