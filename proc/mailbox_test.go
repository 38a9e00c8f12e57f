package proc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestSendReceiveOrder(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	echo, _ := n.Spawn(func(p *Process) {
		for {
			m, _ := p.Receive(nil)
			_ = p.Send(me.Pid(), m)
		}
	})
	for i := range 100 {
		_ = me.Send(echo, i)
	}
	for i := range 100 {
		if got := recv(t, me); got != i {
			t.Fatalf("message %d: got %v", i, got)
		}
	}
}

func TestSendToDeadOrUnknown(t *testing.T) {
	n := newNode(t)
	dead, _ := n.Spawn(func(p *Process) {})
	waitDead(t, n, dead)
	if err := n.Send(dead, "x"); err != nil {
		t.Errorf("send to dead pid: %v, want silent drop", err)
	}
	if err := n.Send(Pid{Node: n.Name(), ID: 99999}, "x"); err != nil {
		t.Errorf("send to unknown pid: %v, want silent drop", err)
	}
	if err := n.SendName(Name{Name: "nobody"}, "x"); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("send to unknown name: %v, want ErrNotRegistered", err)
	}
	if err := n.Send(Pid{Node: "other@host", ID: 1}, "x"); !errors.Is(err, ErrNoDistribution) {
		t.Errorf("send to remote pid without forwarder: %v, want ErrNoDistribution", err)
	}
}

func TestReceiveTimeoutAndContext(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	if _, err := me.ReceiveTimeout(0); !errors.Is(err, ErrTimeout) {
		t.Errorf("empty mailbox, zero timeout: %v", err)
	}
	if _, err := me.ReceiveTimeout(time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Errorf("empty mailbox, 1ms: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := me.Receive(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	_ = n.Send(me.Pid(), "late")
	if m, err := me.ReceiveTimeout(0); err != nil || m != "late" {
		t.Errorf("message kept after timeouts: %v %v", m, err)
	}
}

func TestSelectiveReceiveKeepsOrder(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	for _, m := range []any{1, "a", 2, "b", 3, "c"} {
		_ = n.Send(me.Pid(), m)
	}
	isString := func(m any) bool { _, ok := m.(string); return ok }
	for _, want := range []string{"a", "b", "c"} {
		m, err := me.ReceiveMatchTimeout(waitTime, isString)
		if err != nil || m != want {
			t.Fatalf("got %v %v, want %q", m, err, want)
		}
	}
	if _, err := me.ReceiveMatchTimeout(0, isString); !errors.Is(err, ErrTimeout) {
		t.Fatalf("no strings left: %v", err)
	}
	for _, want := range []int{1, 2, 3} {
		if got := recv(t, me); got != want {
			t.Fatalf("got %v, want %d", got, want)
		}
	}
}

func TestSelectiveReceiveWaitsForLaterMatch(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	_ = n.Send(me.Pid(), "skip")
	_, _ = n.Spawn(func(p *Process) { _ = p.Send(me.Pid(), 42) })
	m, err := me.ReceiveMatchTimeout(waitTime, func(m any) bool { return m == 42 })
	if err != nil || m != 42 {
		t.Fatalf("got %v %v", m, err)
	}
	if got := recv(t, me); got != "skip" {
		t.Fatalf("left message: %v", got)
	}
}

func TestManySendersKeepPerPairOrder(t *testing.T) {
	n := newNode(t)
	me := attach(t, n)
	const senders, each = 8, 20000
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		_, _ = n.Spawn(func(p *Process) {
			defer wg.Done()
			for i := range each {
				_ = p.Send(me.Pid(), [2]int{s, i})
			}
		})
	}
	next := make([]int, senders)
	for range senders * each {
		m := recv(t, me).([2]int)
		if m[1] != next[m[0]] {
			t.Fatalf("sender %d: got %d, want %d", m[0], m[1], next[m[0]])
		}
		next[m[0]]++
	}
	wg.Wait()
}

func TestMillionMessagesNoneLost(t *testing.T) {
	if testing.Short() {
		t.Skip("long: run without -short")
	}
	n := newNode(t)
	me := attach(t, n)
	const total = 1_000_000
	sink, _ := n.Spawn(func(p *Process) {
		sum := 0
		for i := range total {
			m, _ := p.Receive(nil)
			if m.(int) != i {
				p.Exit(fmt.Sprintf("message %d out of order: %v", i, m))
			}
			sum++
		}
		_ = p.Send(me.Pid(), sum)
	})
	for i := range total {
		_ = me.Send(sink, i)
	}
	if got := recv(t, me); got != total {
		t.Fatalf("got %v", got)
	}
}
