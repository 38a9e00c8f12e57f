package static_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonode/gonode/discovery"
	"github.com/gonode/gonode/discovery/internal/testnet"
	"github.com/gonode/gonode/discovery/static"
)

// Two hosts, each a port mapper on loopback: the strategy lists their
// nodes as name@host, sees a node register and unregister, and sees a
// host's nodes go when its port mapper stops answering (logged once).
func TestStaticAsksEachHostsPortMapper(t *testing.T) {
	a := testnet.StartPortMapper(t, "127.0.0.1:0")
	b := testnet.StartPortMapper(t, "127.0.0.1:0")
	a.Register("n1")
	a.Register("n2")
	unreg := b.Register("n3")

	var mu sync.Mutex
	var lines []string
	s, err := static.New(static.Config{
		Hosts: []discovery.Host{
			{Name: "hosta", PortMapper: a.Addr},
			{Name: "hostb", PortMapper: b.Addr},
		},
		Interval: 20 * time.Millisecond,
		Logf: func(f string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			lines = append(lines, f)
			t.Logf(f, args...)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := testnet.NewRecorder()
	testnet.Run(t, s.Run, rec.Found)
	rec.WaitFor(t, 5*time.Second, "n1@hosta", "n2@hosta", "n3@hostb")

	b.Register("n4")
	rec.WaitFor(t, 5*time.Second, "n1@hosta", "n2@hosta", "n3@hostb", "n4@hostb")
	unreg()
	rec.WaitFor(t, 5*time.Second, "n1@hosta", "n2@hosta", "n4@hostb")

	b.Stop()
	rec.WaitFor(t, 5*time.Second, "n1@hosta", "n2@hosta")
	// Two more polls that see changes: the failure is logged once, not
	// at every poll.
	a.Register("n5")
	rec.WaitFor(t, 5*time.Second, "n1@hosta", "n2@hosta", "n5@hosta")
	a.Register("n6")
	rec.WaitFor(t, 5*time.Second, "n1@hosta", "n2@hosta", "n5@hosta", "n6@hosta")
	mu.Lock()
	defer mu.Unlock()
	fails := 0
	for _, l := range lines {
		if strings.Contains(l, "%s: %v") {
			fails++
		}
	}
	if fails != 1 {
		t.Errorf("a host down was logged %d times, want once: %q", fails, lines)
	}
}

func TestLocalListsThisHostsPortMapper(t *testing.T) {
	pm := testnet.StartPortMapper(t, "127.0.0.1:0")
	pm.Register("a")
	pm.Register("b")
	s, err := static.Local(pm.Addr, "myhost", t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	rec := testnet.NewRecorder()
	testnet.Run(t, s.Run, rec.Found)
	rec.WaitFor(t, 5*time.Second, "a@myhost", "b@myhost")
}

func TestStaticNeedsHosts(t *testing.T) {
	if _, err := static.New(static.Config{}); !errors.Is(err, discovery.ErrNoNodes) {
		t.Errorf("New with no hosts = %v, want ErrNoNodes", err)
	}
	if _, err := static.New(static.Config{Hosts: []discovery.Host{{Name: "h"}}}); err == nil {
		t.Error("New with a host without port mapper: no error")
	}
}
