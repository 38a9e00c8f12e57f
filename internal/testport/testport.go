// Package testport hands tests a loopback port for a port mapper that no
// other part of the test run will take while it is unbound.
//
// A port mapper's port is left unbound between nodes: the node serving
// the embedded port mapper may exit and another take over. A port picked
// by listening on port 0 and closing comes from the kernel's ephemeral
// range, where any listener on port 0 in a parallel test package may get
// it next, and a node would then send its registration to a stranger and
// wait. Ports below that range are never handed out by the kernel.
package testport

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var (
	mu     sync.Mutex
	handed = map[int]bool{} // handed out in this process already
)

// Free returns a free loopback port below the kernel's ephemeral range
// (or, if that range cannot be read or starts too low, any free port),
// never the same one twice in a process.
func Free() (int, error) {
	lo := ephemeralLow()
	mu.Lock()
	defer mu.Unlock()
	for range 200 {
		p := 0
		if lo > 12000 {
			p = 10000 + rand.IntN(lo-10000)
		}
		if handed[p] {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		p = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if !handed[p] {
			handed[p] = true
			return p, nil
		}
	}
	return 0, errors.New("testport: no free loopback port")
}

// Port is Free as a decimal string, failing tb when there is none.
func Port(tb testing.TB) string {
	tb.Helper()
	p, err := Free()
	if err != nil {
		tb.Fatal(err)
	}
	return strconv.Itoa(p)
}

// Addr is Port as a 127.0.0.1 host:port.
func Addr(tb testing.TB) string {
	tb.Helper()
	return net.JoinHostPort("127.0.0.1", Port(tb))
}

func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	var lo, hi int
	if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &lo, &hi); err != nil {
		return 0
	}
	return lo
}
