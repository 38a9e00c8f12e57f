package erlang

import (
	"errors"
	"testing"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/dist/erlang/etf"
	"github.com/gonode/gonode/proc"
)

// TestRealNodeSpawn spawns BEAM functions by module:function on a real
// OTP node from gonode (dist.Node.SpawnRemote): with a monitor, with a
// link, printing to a group leader, of a function that does not exist;
// a function literal is refused.
func TestRealNodeSpawn(t *testing.T) {
	const cookie = "spawn_cookie_1"
	erl := startErl(t, cookie)
	n, _, _, _ := startGonode(t, erl, cookie)
	ctx, a := connectAttached(t, n, erl, "test")

	pid, ref, err := n.SpawnRemote(ctx, a, erl.name, "erlang:exit", []any{proc.Atom("bye")}, dist.SpawnOptions{Monitor: true})
	if err != nil || pid.Node != erl.name {
		t.Fatalf("spawn with a monitor: %v, %v", pid, err)
	}
	expectDown(t, a, ref, pid, proc.Atom("bye"))

	a.TrapExit(true)
	pid, _, err = n.SpawnRemote(ctx, a, erl.name, "erlang:exit", []any{proc.Atom("linked")}, dist.SpawnOptions{Link: true})
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.ReceiveTimeout(10 * time.Second)
	if x, ok := m.(proc.ExitMsg); err != nil || !ok || x.From != pid || x.Reason != proc.Atom("linked") {
		t.Errorf("linked spawn: got %#v, %v; want the exit of %v with linked", m, err, pid)
	}

	// Its output comes to the group leader given.
	gl, err := n.Proc().Attach(proc.SpawnOptions{Label: "group leader"})
	if err != nil {
		t.Fatal(err)
	}
	defer gl.Exit(proc.Normal)
	if _, _, err := n.SpawnRemote(ctx, a, erl.name, "io:format", []any{"spawned ~p~n", []any{7}}, dist.SpawnOptions{GroupLeader: gl.Pid()}); err != nil {
		t.Fatal(err)
	}
	m, err = gl.ReceiveTimeout(10 * time.Second)
	if o, ok := m.([]any); err != nil || !ok || len(o) != 3 || o[2] != "spawned 7\n" {
		t.Errorf("group leader got %#v, %v; want the output", m, err)
	}

	// As in Erlang, an unknown function starts a process that exits undef.
	pid, ref, err = n.SpawnRemote(ctx, a, erl.name, "nope:nope", nil, dist.SpawnOptions{Monitor: true})
	if err != nil {
		t.Fatal(err)
	}
	m, err = a.ReceiveTimeout(10 * time.Second)
	d, _ := m.(proc.DownMsg)
	if r, _ := d.Reason.(etf.Tuple); err != nil || d.Ref != ref || len(r) != 2 || r[0] != proc.Atom("undef") {
		t.Errorf("spawn of nope:nope: %#v, %v; want a DOWN with undef", m, err)
	}

	if _, _, err := n.SpawnRemote(ctx, a, erl.name, "", nil, dist.SpawnOptions{Source: "func() {}"}); !errors.Is(err, dist.ErrUnencodable) {
		t.Errorf("spawn of a function literal: %v, want ErrUnencodable", err)
	}
}

// A spawn request goes out as spawn_request's, and its SPAWN_REPLY comes
// back as the KindSpawnReply dist waits for.
func TestSpawnOut(t *testing.T) {
	c := newTestCodec()
	req := dist.Message{Kind: dist.KindSpawnRequest, From: pidG, To: proc.Pid{Node: peer}, Ref: refG, Fn: "lists:seq",
		Args: []any{1, 3}, Link: true, Monitor: true}
	frame, err := c.Encode(nil, &req)
	if err != nil {
		t.Fatal(err)
	}
	ctl, rest, _ := etf.Decode(frame[1:])
	args, _, _ := etf.Decode(rest)
	wref := c.refs.toWire(refG)
	want := etf.Tuple{int64(opSpawnReq), wref, pidToWire(pidG), c.selfPid(), etf.Tuple{etf.Atom("lists"), etf.Atom("seq"), int64(2)}, []any{atomLink, atomMon}}
	if !etf.Equal(ctl, want) || !etf.Equal(args, []any{int64(1), int64(3)}) {
		t.Fatalf("spawn request %#v + %#v, want %#v", ctl, args, want)
	}
	m, err := c.Decode(packetOf(t, etf.Tuple{int64(opSpawnReply), wref, pidToWire(pidG), int64(3), pidToWire(pidB)}))
	if err != nil || m.Kind != dist.KindSpawnReply || m.From != pidB || m.To != pidG || m.Ref != refG || m.Err != nil {
		t.Errorf("spawn reply: %#v, %v", m, err)
	}
	if _, err := c.Encode(nil, &req); err != nil {
		t.Fatal(err)
	}
	m, err = c.Decode(packetOf(t, etf.Tuple{int64(opSpawnReply), wref, pidToWire(pidG), int64(0), etf.Atom("badarg")}))
	if err != nil || m.Kind != dist.KindSpawnReply || m.Err == nil || m.Err.Kind != dist.RemoteBadarg {
		t.Errorf("spawn reply badarg: %#v, %v", m, err)
	}
	// A second reply to the same request is not one any more.
	if _, err := c.Decode(packetOf(t, etf.Tuple{int64(opSpawnReply), wref, pidToWire(pidG), int64(0), pidToWire(pidB)})); !errors.Is(err, dist.ErrIgnored) {
		t.Errorf("a stray spawn reply: %v, want ErrIgnored", err)
	}
}
