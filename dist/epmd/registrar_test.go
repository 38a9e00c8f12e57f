package epmd

import (
	"errors"
	"fmt"
	"net"
	"testing"
)

func startRegistrar(t *testing.T, addr, name string, port uint16) *Registrar {
	t.Helper()
	logs := newLogRecorder(t)
	r, err := StartRegistrar(testCtx(t), Config{Addr: addr, Name: name, Port: port, Logf: logs.logf})
	if err != nil {
		t.Fatalf("StartRegistrar(%s): %v", name, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func listed(t *testing.T, addr string, want map[string]uint16, gone ...string) func() bool {
	return func() bool {
		names := namesOf(t, addr)
		if names == nil {
			return false
		}
		for n, p := range want {
			if names[n] != p {
				return false
			}
		}
		for _, n := range gone {
			if _, ok := names[n]; ok {
				return false
			}
		}
		return true
	}
}

func TestRegistrarTakeover(t *testing.T) {
	addr := freeAddr(t)
	r1 := startRegistrar(t, addr, "n1", 9001)
	if !r1.Serving() {
		t.Fatal("first registrar does not serve the port mapper")
	}
	r2 := startRegistrar(t, addr, "n2", 9002)
	if r2.Serving() {
		t.Fatal("second registrar serves although the first does")
	}
	if !listed(t, addr, map[string]uint16{"n1": 9001, "n2": 9002})() {
		t.Fatalf("names = %v", namesOf(t, addr))
	}
	c1, c2 := r1.Creation(), r2.Creation()
	if c1 == 0 || c2 == 0 || c1 == c2 {
		t.Fatalf("creations %d, %d", c1, c2)
	}

	if err := r1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r1.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if r1.Serving() {
		t.Fatal("closed registrar still serving")
	}
	waitFor(t, "n2 to take over", r2.Serving)
	waitFor(t, "n2 listed without n1", listed(t, addr, map[string]uint16{"n2": 9002}, "n1"))
	if r2.Creation() != c2 {
		t.Fatalf("creation changed from %d to %d", c2, r2.Creation())
	}

	r2.Close()
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Fatal("port mapper still answering after the last registrar closed")
	}
}

func TestRegistrarThreeNodes(t *testing.T) {
	addr := freeAddr(t)
	rs := map[string]*Registrar{}
	want := map[string]uint16{}
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("n%d", i)
		rs[name] = startRegistrar(t, addr, name, uint16(9000+i))
		want[name] = uint16(9000 + i)
	}
	if !rs["n1"].Serving() || rs["n2"].Serving() || rs["n3"].Serving() {
		t.Fatal("only n1 should serve")
	}
	creations := map[string]uint32{}
	for n, r := range rs {
		creations[n] = r.Creation()
	}

	// n1 exits: one of n2, n3 takes over and both re-register.
	rs["n1"].Close()
	delete(want, "n1")
	waitFor(t, "n2 or n3 to take over", func() bool { return rs["n2"].Serving() || rs["n3"].Serving() })
	waitFor(t, "n2 and n3 listed", listed(t, addr, want, "n1"))
	server, other := "n2", "n3"
	if rs["n3"].Serving() {
		server, other = other, server
	}
	if rs[other].Serving() {
		t.Fatal("both n2 and n3 serve")
	}

	// The new server exits too: the last one takes over.
	rs[server].Close()
	delete(want, server)
	waitFor(t, other+" to take over", rs[other].Serving)
	waitFor(t, other+" listed alone", listed(t, addr, want, server))
	for n, r := range rs {
		if r.Creation() != creations[n] {
			t.Errorf("%s creation changed from %d to %d", n, creations[n], r.Creation())
		}
	}
}

func TestRegistrarNameTaken(t *testing.T) {
	addr := freeAddr(t)
	r1 := startRegistrar(t, addr, "same", 9001)
	_, err := StartRegistrar(testCtx(t), Config{Addr: addr, Name: "same", Port: 9002})
	if !errors.Is(err, ErrNameTaken) {
		t.Fatalf("StartRegistrar with a taken name: %v, want ErrNameTaken", err)
	}
	if port, err := LookupPort(testCtx(t), addr, "same"); err != nil || port != 9001 {
		t.Fatalf("LookupPort(same) = %d, %v", port, err)
	}
	r1.Close()
}

func TestRegistrarWithExternalServer(t *testing.T) {
	s, addr, _ := startServer(t, nil)
	r := startRegistrar(t, addr, "client", 9100)
	if r.Serving() {
		t.Fatal("registrar serves although a port mapper answers")
	}
	// The external port mapper restarts on the same port: the registrar
	// notices and takes it over, since nobody else listens.
	s.Close()
	waitFor(t, "registrar to take over", r.Serving)
	waitFor(t, "client listed", listed(t, addr, map[string]uint16{"client": 9100}))
}

func TestRegistrarConfig(t *testing.T) {
	if _, err := StartRegistrar(testCtx(t), Config{Addr: "127.0.0.1:1", Name: "a@b"}); !errors.Is(err, ErrBadName) {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := StartRegistrar(testCtx(t), Config{Addr: "nonsense", Name: "a"}); err == nil {
		t.Fatal("bad address accepted")
	}
	for in, want := range map[string]string{
		":4369":         "127.0.0.1:4369",
		"0.0.0.0:4369":  "127.0.0.1:4369",
		"[::]:4369":     "127.0.0.1:4369",
		"127.0.0.1:123": "127.0.0.1:123",
	} {
		if got, err := loopbackAddr(in); err != nil || got != want {
			t.Errorf("loopbackAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestAddrFromEnv(t *testing.T) {
	t.Setenv("ERL_EPMD_PORT", "")
	if got := AddrFromEnv(); got != "127.0.0.1:4369" {
		t.Errorf("unset: %q", got)
	}
	t.Setenv("ERL_EPMD_PORT", "43691")
	if got := AddrFromEnv(); got != "127.0.0.1:43691" {
		t.Errorf("43691: %q", got)
	}
	t.Setenv("ERL_EPMD_PORT", "junk")
	if got := AddrFromEnv(); got != "127.0.0.1:4369" {
		t.Errorf("junk: %q", got)
	}
}

// The Extra a node registers with is kept per node by the embedded port
// mapper and returned by Lookup, as erl's epmd does: gonode's mark tells
// its nodes from BEAM nodes.
func TestRegistrarExtra(t *testing.T) {
	addr := freeAddr(t)
	ctx := testCtx(t)
	marked, err := StartRegistrar(ctx, Config{Addr: addr, Name: "marked", Port: 5001, Extra: GonodeExtra})
	if err != nil {
		t.Fatal(err)
	}
	defer marked.Close()
	startRegistrar(t, addr, "plain", 5002)
	if e, err := Lookup(ctx, addr, "marked"); err != nil || !e.IsGonode() || e.Port != 5001 || e.High != DistHigh {
		t.Errorf("Lookup(marked) = %+v, %v; want port 5001 and Extra %q", e, err, GonodeExtra)
	}
	if e, err := Lookup(ctx, addr, "plain"); err != nil || e.IsGonode() || len(e.Extra) != 0 {
		t.Errorf("Lookup(plain) = %+v, %v; want no Extra", e, err)
	}
}
