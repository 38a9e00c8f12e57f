package placement_test

import (
	"context"
	"fmt"
	"log"
	"strconv"

	"github.com/gonode/gonode/cluster/placement"
	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/internal/testport"
)

// One node and its placement service: what the shell's spawn, async and
// async_stream will call with a placement, and what loads() and
// explainPlacement will print.
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
	svc, err := placement.Start(node, placement.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()

	for _, st := range []placement.Strategy{placement.LeastLoaded(), placement.Local(), placement.Hash("user:42")} {
		where, why, err := svc.Choose(st)
		fmt.Println(st, "->", where, err, "|", why.Reason)
	}
	_, _, err = svc.Choose(placement.Among("elsewhere@localhost"))
	fmt.Println(err)
	fmt.Println(len(svc.Loads()), "record(s); loads() prints placement.Table(svc.Loads())")
	// Output:
	// leastLoaded() -> ex@localhost <nil> | the only node with a fresh record
	// local() -> ex@localhost <nil> | the local node
	// hash("user:42") -> ex@localhost <nil> | the highest weight for the key among 1 nodes
	// placement: no live node fits: none of [elsewhere@localhost] has a record younger than 1.5s
	// 1 record(s); loads() prints placement.Table(svc.Loads())
}
