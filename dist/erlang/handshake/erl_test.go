package handshake

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonode/gonode/dist/epmd"
)

// These tests run one real Erlang node (erl, Debian erlang-base) on its own
// epmd, and drive it line by line through its standard input.

// erlScript answers commands read from stdin, one per line, and prints
// nodeup/nodedown as they happen. Logger output (the node's own reasons
// for refusing a connection) goes to stdout too.
const erlScript = `
Parent = self(),
spawn(fun() -> net_kernel:monitor_nodes(true), Parent ! monitoring,
  (fun L() -> receive {E, N} -> io:format("~s ~s~n", [E, N]), L() end end)() end),
receive monitoring -> ok end,
io:format("ready ~s~n", [node()]),
(fun Loop() ->
  case io:get_line("") of
    eof -> halt();
    Line ->
      case string:lexemes(string:trim(Line), " ") of
        ["connect", N] -> io:format("connect ~s ~p~n", [N, net_kernel:connect_node(list_to_atom(N))]);
        ["nodes"] -> io:format("nodes ~p~n", [nodes(connected)]);
        ["halt"] -> halt()
      end,
      Loop()
  end
end)().
`

// erlNode is a running erl and its output, line by line.
type erlNode struct {
	in   io.Writer
	epmd string // its port mapper, host:port

	mu   sync.Mutex
	log  []string     // every line printed so far
	used map[int]bool // lines of log that expect has returned
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start runs cmd, killing it at the end of the test.
func start(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
}

// startErl starts `epmd -port P` and `erl -sname x@localhost -setcookie
// cookie` registered in it. It skips the test when erl or epmd is missing.
func startErl(t *testing.T, cookie string) *erlNode {
	erl, err1 := exec.LookPath("erl")
	epmdBin, err2 := exec.LookPath("epmd")
	if err1 != nil || err2 != nil {
		t.Skip("erl or epmd is not on PATH: install Erlang/OTP (erlang-base) to check the handshake against a real node")
	}
	port := strconv.Itoa(freePort(t))
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ERL_EPMD_PORT=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	// A home of its own: the node never reads or writes ~/.erlang.cookie.
	env = append(env, "ERL_EPMD_PORT="+port, "HOME="+t.TempDir())

	ep := exec.Command(epmdBin, "-port", port)
	ep.Env = env
	start(t, ep)
	n := &erlNode{epmd: "127.0.0.1:" + port, used: make(map[int]bool)}
	waitUntil(t, "epmd to answer", func() bool {
		_, err := epmd.Names(context.Background(), n.epmd)
		return err == nil
	})

	cmd := exec.Command(erl, "-sname", "x@localhost", "-setcookie", cookie, "-noshell",
		"-start_epmd", "false", "-kernel", "net_setuptime", "5", "-eval", erlScript)
	cmd.Env = env
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	n.in = in
	start(t, cmd)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			n.mu.Lock()
			n.log = append(n.log, sc.Text())
			n.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			n.mu.Lock()
			t.Logf("erl printed:\n%s", strings.Join(n.log, "\n"))
			n.mu.Unlock()
		}
	})
	n.expect(t, "ready x@localhost")
	return n
}

// expect waits for a line starting with prefix, printed since the last
// line expect returned or later, takes it and returns it. Lines it skips
// stay for later calls: the node prints nodeup and a command's answer in
// either order.
func (n *erlNode) expect(t *testing.T, prefix string) string {
	t.Helper()
	var line string
	waitUntil(t, fmt.Sprintf("erl to print %q", prefix), func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		for i, l := range n.log {
			if !n.used[i] && strings.HasPrefix(l, prefix) {
				n.used[i], line = true, l
				return true
			}
		}
		return false
	})
	return line
}

// logged reports whether erl printed a line containing s.
func (n *erlNode) logged(s string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, l := range n.log {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func (n *erlNode) send(t *testing.T, cmd string) {
	t.Helper()
	if _, err := fmt.Fprintln(n.in, cmd); err != nil {
		t.Fatal(err)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(15 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// dial opens a connection to the real node, with a deadline.
func (n *erlNode) dial(t *testing.T) (net.Conn, *bufio.Reader) {
	t.Helper()
	port, err := epmd.LookupPort(context.Background(), n.epmd, "x")
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// readPacket reads one [Len:u32] packet of the connected phase.
func readPacket(br *bufio.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, err
	}
	n := int(hdr[0])<<24 | int(hdr[1])<<16 | int(hdr[2])<<8 | int(hdr[3])
	if n > 1<<20 {
		return nil, fmt.Errorf("packet of %d bytes", n)
	}
	p := make([]byte, n)
	_, err := io.ReadFull(br, p)
	return p, err
}

// goAcceptor is a Go node named name@localhost, registered in the real
// node's epmd, that runs Accept on each connection and reports the result.
type goAcceptor struct {
	results chan result
}

func listenGo(t *testing.T, n *erlNode, name, cookie string) *goAcceptor {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	reg, err := epmd.Register(context.Background(), n.epmd, name, uint16(ln.Addr().(*net.TCPAddr).Port), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	cfg := Config{Name: name + "@localhost", Creation: reg.Creation(), Cookie: cookie}
	g := &goAcceptor{results: make(chan result, 4)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			c.SetDeadline(time.Now().Add(10 * time.Second))
			br := bufio.NewReader(c)
			p, err := Accept(c, br, cfg, nil)
			if err != nil {
				c.Close()
			} else {
				// Keep the connection up, reading what the node sends.
				c.SetDeadline(time.Time{})
				go io.Copy(io.Discard, br)
			}
			g.results <- result{peer: p, err: err, br: br, conn: c}
		}
	}()
	return g
}

func (g *goAcceptor) next(t *testing.T) result {
	t.Helper()
	select {
	case r := <-g.results:
		return r
	case <-time.After(15 * time.Second):
		t.Fatal("no connection from the real node")
		return result{}
	}
}
