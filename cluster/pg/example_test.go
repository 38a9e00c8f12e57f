package pg_test

import (
	"context"
	"fmt"
	"log"
	"strconv"
	"time"

	"github.com/gonode/gonode/cluster/pg"
	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/internal/testport"
	"github.com/gonode/gonode/proc"
)

// One node, its default scope, a group with a member joined twice, and a
// process watching the group: what the shell's join, members and
// monitorGroup helpers will call.
func Example() {
	port, err := testport.Free() // a port mapper of the example's own
	if err != nil {
		log.Fatal(err)
	}
	node, err := dist.Start(context.Background(), dist.Config{
		Name: "ex@localhost", Cookie: "secret", EPMDAddr: "127.0.0.1:" + strconv.Itoa(port),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer node.Close()
	scope, err := pg.Start(node, pg.DefaultScope)
	if err != nil {
		log.Fatal(err)
	}
	defer scope.Close()

	worker, _ := node.Proc().Spawn(func(p *proc.Process) { _, _ = p.Receive(p.Context()) })
	watcher, _ := node.Proc().Attach(proc.SpawnOptions{})
	_, members, _ := scope.Monitor("workers", watcher.Pid())
	fmt.Println("members at first:", len(members))

	_ = scope.Join("workers", worker, worker)
	fmt.Println("members:", len(scope.Members("workers")), "groups:", scope.Groups())
	node.Proc().Exit(worker, proc.Kill)

	for range 2 {
		switch m, _ := watcher.ReceiveTimeout(5 * time.Second); m := m.(type) {
		case pg.JoinMsg:
			fmt.Println("joined:", len(m.Pids))
		case pg.LeaveMsg:
			fmt.Println("left:", len(m.Pids))
		}
	}
	fmt.Println("members at last:", len(scope.Members("workers")))
	// Output:
	// members at first: 0
	// members: 2 groups: [workers]
	// joined: 2
	// left: 2
	// members at last: 0
}
