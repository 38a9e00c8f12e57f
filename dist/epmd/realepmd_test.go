package epmd

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// These tests talk to the real epmd binary (Debian erlang-base).

func epmdPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("epmd")
	if err != nil {
		t.Skip("epmd not found on PATH (install erlang-base); skipping the tests against the real port mapper")
	}
	return path
}

// epmdEnv is the environment without ERL_EPMD_PORT, so -port decides.
func epmdEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ERL_EPMD_PORT=") {
			env = append(env, kv)
		}
	}
	return env
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startRealEpmd runs `epmd -port P` on a free port and returns its address.
func startRealEpmd(t *testing.T) string {
	t.Helper()
	path := epmdPath(t)
	addr := freeAddr(t)
	port := strconv.Itoa(mustPort(t, addr))
	out := &lockedBuffer{}
	cmd := exec.Command(path, "-port", port)
	cmd.Env = epmdEnv()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if s := out.String(); s != "" {
			t.Logf("epmd output: %s", s)
		}
	})
	waitFor(t, "epmd to answer on "+addr, func() bool {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("epmd exited: %v: %s", err, out.String())
		default:
		}
		_, err := Names(testCtx(t), addr)
		return err == nil
	})
	return addr
}

// epmdNames runs `epmd -port P -names` and returns its output.
func epmdNames(t *testing.T, addr string) string {
	t.Helper()
	cmd := exec.Command(epmdPath(t), "-port", strconv.Itoa(mustPort(t, addr)), "-names")
	cmd.Env = epmdEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("epmd -names: %v: %s", err, out)
	}
	return string(out)
}

func TestRealEpmdClient(t *testing.T) {
	addr := startRealEpmd(t)
	ctx := testCtx(t)

	reg, err := Register(ctx, addr, "gonode_real", 5678, false)
	if err != nil {
		t.Fatal(err)
	}
	if reg.Creation() == 0 {
		t.Fatal("zero creation from epmd")
	}
	if out := epmdNames(t, addr); !strings.Contains(out, "name gonode_real at port 5678\n") {
		t.Fatalf("epmd -names does not list gonode_real:\n%s", out)
	}
	if port, err := LookupPort(ctx, addr, "gonode_real"); err != nil || port != 5678 {
		t.Fatalf("LookupPort = %d, %v", port, err)
	}
	if _, err := LookupPort(ctx, addr, "nobody"); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("LookupPort(nobody) = %v, want ErrNotRegistered", err)
	}
	if names := namesOf(t, addr); names["gonode_real"] != 5678 {
		t.Fatalf("Names = %v", names)
	}
	if _, err := Register(ctx, addr, "gonode_real", 5679, false); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("duplicate = %v, want ErrNameTaken", err)
	}

	reg.Close()
	waitFor(t, "epmd to drop gonode_real", func() bool {
		return !strings.Contains(epmdNames(t, addr), "gonode_real")
	})
	again, err := Register(ctx, addr, "gonode_real", 5678, false)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.Creation() != reg.Creation()+1 {
		t.Fatalf("epmd gave creation %d after %d; our server copies +1", again.Creation(), reg.Creation())
	}
}

func TestRealEpmdRegistrar(t *testing.T) {
	addr := startRealEpmd(t)
	r := startRegistrar(t, addr, "gonode_reg", 6000)
	if r.Serving() {
		t.Fatal("registrar serves although the real epmd runs")
	}
	if out := epmdNames(t, addr); !strings.Contains(out, "name gonode_reg at port 6000\n") {
		t.Fatalf("epmd -names does not list gonode_reg:\n%s", out)
	}
	r.Close()
	waitFor(t, "epmd to drop gonode_reg", func() bool {
		return !strings.Contains(epmdNames(t, addr), "gonode_reg")
	})
}

// The real epmd client, `epmd -names`, reads our embedded server.
func TestRealEpmdNamesAgainstEmbedded(t *testing.T) {
	epmdPath(t)
	_, addr, _ := startServer(t, nil)
	reg, err := Register(testCtx(t), addr, "embedded", 7777, false)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	out := epmdNames(t, addr)
	port := strconv.Itoa(mustPort(t, addr))
	if !strings.Contains(out, "up and running on port "+port) || !strings.Contains(out, "name embedded at port 7777\n") {
		t.Fatalf("epmd -names against the embedded server:\n%s", out)
	}
	// `epmd -kill` gets "NO" and reports living nodes.
	cmd := exec.Command(epmdPath(t), "-port", port, "-kill")
	cmd.Env = epmdEnv()
	out2, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out2), "not allowed") {
		t.Fatalf("epmd -kill against the embedded server: %s", out2)
	}
	if _, err := LookupPort(testCtx(t), addr, "embedded"); err != nil {
		t.Fatal(err)
	}
}

// The same exchanges give the same bytes from the real epmd and from ours.
func TestRealEpmdSameReplies(t *testing.T) {
	real := startRealEpmd(t)
	_, ours, _ := startServer(t, nil)
	replies := func(addr string) [][]byte {
		var out [][]byte
		hold := rawConn(t, addr)
		hold.Write(frame(encodeAliveReq(aliveReq{Port: 4100, NodeType: NodeTypeHidden, High: 6, Low: 5, Name: "x", Extra: []byte("ex")})))
		r := readN(t, hold, 6)
		out = append(out, r[:2]) // creation differs
		old := rawConn(t, addr)
		old.Write(aliveFrame("old", 4000, 5))
		r = readN(t, old, 4)
		out = append(out, r[:3], []byte{boolByte(r[3] >= 1 && r[3] <= 3)}) // creation 1..3
		for _, req := range [][]byte{aliveFrame("x", 1, 6), aliveFrame("old", 1, 5)} {
			c := rawConn(t, addr)
			c.Write(req)
			out = append(out, readN(t, c, len(encodeAliveResp(binaryHigh(req), 1, 99))))
		}
		for _, req := range [][]byte{
			frame(encodePortReq("x")), frame(append(encodePortReq("old"), 0)), frame(encodePortReq("none")),
			{0, 1, OpNamesReq}, {0, 2, OpNamesReq, '1'}, {0, 0}, {0, 1, 'z'}, {0, 3, 'z', 0, 'a'}, {0, 1, 'k'},
		} {
			c := rawConn(t, addr)
			c.Write(req)
			r := readToClose(t, c)
			if len(req) > 2 && req[2] == OpNamesReq && len(r) >= 4 {
				r = r[4:] // the port mapper's own port
			}
			out = append(out, r)
		}
		return out
	}
	want, got := replies(real), replies(ours)
	for i := range want {
		if !bytes.Equal(want[i], got[i]) {
			t.Errorf("reply %d: epmd %q, ours %q", i, want[i], got[i])
		}
	}
}

func binaryHigh(req []byte) uint16 { return uint16(req[7])<<8 | uint16(req[8]) }

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
