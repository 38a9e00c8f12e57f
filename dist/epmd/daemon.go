package epmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
)

// Standalone is a port mapper that runs on its own, outliving the nodes
// that register with it, as epmd -daemon does: `gonode epmd` runs one.
// It listens where an embedded one would (every interface, or
// $ERL_EPMD_ADDRESS and loopback) and stops on a KILL_REQ that finds no
// name registered, or when ctx ends. addr is the loopback dial address,
// 127.0.0.1:port.
func Standalone(ctx context.Context, addr string, logf func(string, ...any)) error {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	srv := NewServer(logf)
	killed := make(chan struct{})
	var once sync.Once
	srv.OnKill = func() { once.Do(func() { close(killed) }) }
	var lns []net.Listener
	for _, a := range listenAddrs(addr, os.Getenv("ERL_EPMD_ADDRESS")) {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return fmt.Errorf("epmd: listening on %s: %w", a, err)
		}
		lns = append(lns, ln)
	}
	errs := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { errs <- srv.Serve(ln) }()
	}
	var err error
	select {
	case <-ctx.Done():
	case <-killed:
	case err = <-errs:
	}
	srv.Close()
	for range len(lns) - boolInt(err != nil) {
		<-errs
	}
	if errors.Is(err, ErrServerClosed) {
		err = nil
	}
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
