package repl

import (
	"errors"
	"fmt"
	"time"

	"github.com/gonode/gonode/cluster/global"
	"github.com/gonode/gonode/cluster/pg"
	"github.com/gonode/gonode/cluster/placement"
	"github.com/gonode/gonode/dist"
)

// The cluster services every distributed gonode node runs, as OTP starts
// global and pg with the kernel: global names (cluster/global), the
// default process-group scope (cluster/pg) and load records for
// placement (cluster/placement). Each is an ordinary registered process
// on the node; the shell's helpers (cluster_api.go) call their Go API.
// The runtime that starts them (start, for gonode and Embed) owns them
// and closes them before the node; remote shell sessions share them.

// clusterServices are one node's three services.
type clusterServices struct {
	global    *global.Server
	pg        *pg.Scope
	placement *placement.Service
}

// errNoCluster is a helper's failure on a node that runs no cluster
// services: one started by dist.Start with ServeRemoteShell, not by gonode
// or Embed.
var errNoCluster = errors.New("this node runs no cluster services (global names, groups, placement): it was not started by gonode or repl.Embed")

// clusterCallTimeout bounds a helper's wait for a service that talks to
// peers (registerGlobal, unregisterGlobal) when the caller gives none.
const clusterCallTimeout = 5 * time.Second

// startCluster starts the services on d; on an error it closes those it
// started. logf is where they log what they ignore and name conflicts.
func startCluster(d *dist.Node, logf func(string, ...any)) (*clusterServices, error) {
	c := &clusterServices{}
	var err error
	if c.global, err = global.Start(d, global.Options{Logf: logf}); err != nil {
		return nil, fmt.Errorf("cluster services: %w", err)
	}
	if c.pg, err = pg.StartWith(d, pg.DefaultScope, pg.Options{Logf: logf}); err != nil {
		c.close()
		return nil, fmt.Errorf("cluster services: %w", err)
	}
	if c.placement, err = placement.Start(d, placement.Options{Logf: logf}); err != nil {
		c.close()
		return nil, fmt.Errorf("cluster services: %w", err)
	}
	return c, nil
}

// close stops the services that run and waits for their processes (and
// global's reconnector). Peers see them go: this node's groups and load
// record leave their replicas, its global names go with their holders.
func (c *clusterServices) close() {
	if c == nil {
		return
	}
	if c.placement != nil {
		_ = c.placement.Close()
	}
	if c.pg != nil {
		_ = c.pg.Close()
	}
	if c.global != nil {
		_ = c.global.Close()
	}
}

// needCluster returns the node's services, or fails the helper what with
// the reason there are none.
func (x *Proc) needCluster() *clusterServices {
	x.needDist()
	if x.rt.cluster == nil {
		fail("%w", errNoCluster)
	}
	return x.rt.cluster
}
