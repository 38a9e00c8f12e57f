package discovery

import (
	"context"
	"errors"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/gonode/gonode/dist/epmd"
)

// DefaultInterval is how often polling strategies look again (DNS, port
// mappers): the bound on how late a node joining or leaving is seen.
const DefaultInterval = 5 * time.Second

// listTimeout bounds one look (a DNS lookup, a round of port mappers):
// a look that hangs must not stop the next.
const listTimeout = 5 * time.Second

// Poll calls list at once and then every interval until ctx ends, and
// reports the set it returns (normalized: see Normalize) whenever it
// differs from the last one reported. An error from list means no answer
// (a resolver that timed out): the last set stands, and the error goes to
// log. It returns nil when ctx ends.
func Poll(ctx context.Context, interval time.Duration, list func(ctx context.Context) ([]string, error), found func([]string), log *ErrorLog, key string) error {
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var last []string
	for {
		// Not bounded by the interval: a look slower than that (a busy
		// machine) must not fail; the ticker drops the ticks it missed.
		lctx, cancel := context.WithTimeout(ctx, listTimeout)
		names, err := list(lctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		log.Report(key, err)
		if err == nil {
			names = Normalize(names)
			if last == nil || !slices.Equal(names, last) {
				last = names
				found(names)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Host is a host whose port mapper lists the nodes on it.
type Host struct {
	// Name is the host part of those nodes' names (name@Name), as they
	// were started (--sname a@Name, --name a@Name).
	Name string
	// PortMapper is the port mapper's host:port.
	PortMapper string
}

// maxAskAtOnce bounds the port mappers asked at the same time.
const maxAskAtOnce = 16

// AskPortMappers asks each host's port mapper for the nodes it lists and
// returns their names (name@host.Name). A host whose port mapper does not
// answer contributes no names (its nodes are gone, as far as anyone can
// tell) and its error goes to log under the port mapper's address.
func AskPortMappers(ctx context.Context, hosts []Host, log *ErrorLog) []string {
	var (
		mu    sync.Mutex
		names []string // guarded by mu
		wg    sync.WaitGroup
		slots = make(chan struct{}, maxAskAtOnce)
	)
	for _, h := range hosts {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			entries, err := epmd.Names(ctx, h.PortMapper)
			log.Report("port mapper at "+h.PortMapper, err)
			mu.Lock()
			defer mu.Unlock()
			for _, e := range entries {
				names = append(names, e.Name+"@"+h.Name)
			}
		}()
	}
	wg.Wait()
	return names
}

// HostPort returns host:port, and host itself if it already has a port.
func HostPort(host, defaultPort string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	return net.JoinHostPort(host, defaultPort)
}

// ErrNoNodes is wrapped by errors about a strategy given nothing to look
// at (an empty host list, an empty DNS name).
var ErrNoNodes = errors.New("discovery: nothing to look up")
