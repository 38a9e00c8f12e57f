// Package proc runs Erlang-style processes inside one Go program: lightweight
// processes with mailboxes, addressed by pid or registered name, that talk
// only through messages, fail alone, and tell the processes that care
// through links and monitors. It has no network code; signals for processes
// of other nodes go to a Forwarder that the distribution layer installs.
package proc
