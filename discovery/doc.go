// Package discovery finds the nodes of a cluster and connects to them,
// as libcluster does for Elixir. Its one job is the part every way of
// finding nodes shares: the Strategy interface, a Start that runs a
// strategy and connects to each node it reports (with backoff for nodes
// that refuse), and helpers the strategies use (polling, asking port
// mappers).
//
// The strategies live in subpackages (static, dns, gossip) and setup
// turns the command line into one. None of them imports dist: the
// connection is made through the Connect function Start is given, which
// dist.Node.Connect fits.
package discovery
