package dist

import (
	"sync"
	"time"
)

// A send, link, monitor or exit signal to a node that is not connected
// connects first, as in Erlang. When that fails, every other process
// sending there would wait the whole set-up time again (up to 7 s for a
// host that does not answer): the failure is remembered for connectFailMemory
// and those signals fail at once meanwhile. connect() from the shell and
// Node.Connect always try.
const (
	connectFailMemory = time.Second
	maxConnectFails   = 1024 // nodes remembered at once
)

type failedConnects struct {
	mu   sync.Mutex
	errs map[string]failedConnect // guarded by mu
}

type failedConnect struct {
	at  time.Time
	err error
}

// recent returns the error of a connect to node that failed within
// connectFailMemory, or nil.
func (f *failedConnects) recent(node string, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e, ok := f.errs[node]; ok && now.Sub(e.at) < connectFailMemory {
		return e.err
	}
	return nil
}

// remember records a failed connect to node; nil err forgets it.
func (f *failedConnects) remember(node string, err error, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.errs, node)
		return
	}
	if f.errs == nil {
		f.errs = make(map[string]failedConnect)
	}
	if len(f.errs) >= maxConnectFails {
		for k, e := range f.errs {
			if now.Sub(e.at) >= connectFailMemory {
				delete(f.errs, k)
			}
		}
		if len(f.errs) >= maxConnectFails {
			return // a storm of failures to distinct nodes: remember none more
		}
	}
	f.errs[node] = failedConnect{at: now, err: err}
}
