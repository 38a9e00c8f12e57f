package dist

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

// TestAcceptQuietOnEmptyClose: a connection closed before its first byte
// (a dial given up when the peer's own connection won, a port probe) is
// not logged; one that sends bytes no protocol knows is.
func TestAcceptQuietOnEmptyClose(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	a := c.start("quiet@localhost")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port()))
	for range 3 {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		nc.Close()
	}
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = nc.Write([]byte("zzzz"))
	eventually(t, "the garbage logged", func() bool { return strings.Contains(c.logs.text(), "not a protocol this node speaks") })
	nc.Close()
	if strings.Contains(c.logs.text(), "unknown peer") {
		t.Fatalf("an empty connection was logged:\n%s", c.logs.text())
	}
}
