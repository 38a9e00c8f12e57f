// Package setup turns the command line's discovery flags (--discover,
// --join, --gossip-port) into one discovery.Strategy: the only place that
// knows every strategy.
package setup
