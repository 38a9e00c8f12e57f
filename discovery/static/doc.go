// Package static finds the nodes on a fixed list of hosts by asking each
// host's port mapper which nodes it lists, again every few seconds
// (libcluster's Epmd strategy, with hosts instead of node names). Local is
// the one-host case: every node of this machine's port mapper.
package static
