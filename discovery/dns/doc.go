// Package dns finds nodes through DNS, polled: the A/AAAA records of a
// name (a Kubernetes headless service: one address per pod) or its SRV
// records. Each address or SRV target is a host whose port mapper is
// asked for its nodes, or, given a base name, the host of the one node
// named base@host. Nodes join and leave as the records change.
package dns
