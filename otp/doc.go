// Package otp builds fault tolerance on top of proc's processes, the way
// Erlang/OTP's behaviours do: supervisors that start children and restart
// them by policy (on this node or on others, moving them when a node dies),
// servers with a call/cast/info loop, and tasks that run work concurrently
// and collect the results.
//
// otp imports proc only. Children and tasks on other nodes are started
// through small interfaces (Spawner, Caller) that the distribution layer or
// the shell provides, so that this package knows nothing of the network.
package otp
