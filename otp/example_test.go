package otp_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gonode/gonode/otp"
	"github.com/gonode/gonode/proc"
)

// A counter server under a one_for_one supervisor: it crashes, and the
// supervisor starts a fresh one under the same name.
func ExampleStartSupervisor() {
	node, _ := proc.NewNode("app@localhost", 1)
	defer node.Stop(context.Background())
	reports := make(chan otp.Event, 10)
	otp.SetReporter(node, func(e otp.Event) { reports <- e })

	counter := otp.Server{
		Init: func(p *proc.Process, arg any) (any, error) { return 0, nil },
		HandleCall: func(p *proc.Process, req any, from proc.CallRequest, n any) (any, any, error) {
			if req == "crash" {
				panic("boom")
			}
			return n.(int) + 1, n.(int) + 1, nil
		},
	}
	sup, _ := otp.StartSupervisor(nil, node, otp.SupervisorOptions{Strategy: otp.OneForOne},
		otp.ChildSpec{ID: "counter", Start: otp.ServerStarter(counter, nil, otp.ServerOptions{Name: "counter"})})

	me, _ := node.Attach(proc.SpawnOptions{})
	defer me.Exit(proc.Normal)
	fmt.Println(otp.ServerCall(me, "counter", "inc", time.Second))
	fmt.Println(otp.ServerCall(me, "counter", "inc", time.Second))
	_, err := otp.ServerCall(me, "counter", "crash", time.Second)
	fmt.Println("crash:", err != nil)
	// The supervisor has restarted it by the time it answers a call.
	children, _ := otp.WhichChildren(me, sup)
	fmt.Println(len(children), children[0].ID)
	e := <-reports
	fmt.Println("report:", e.Action, e.Child)
	fmt.Println(otp.ServerCall(me, "counter", "inc", time.Second))
	// Output:
	// 1 <nil>
	// 2 <nil>
	// crash: true
	// 1 counter
	// report: restarted counter
	// 1 <nil>
}
