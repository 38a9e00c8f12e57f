package otp

import (
	"strings"

	"github.com/gonode/gonode/proc"
)

// supervisorLabel begins the label of every supervisor process
// ("supervisor one_for_one"): viewers find a node's supervisors by it
// without a registry that every supervisor would have to join and leave.
const supervisorLabel = "supervisor "

// IsSupervisor reports whether a process, as proc's Info describes it, is
// a supervisor StartSupervisor started. Read-only: for viewers (the web
// view, the shell's supervisionTrees) that then ask it with TreeWithin.
func IsSupervisor(in proc.Info) bool {
	return strings.HasPrefix(in.Label, supervisorLabel) && in.Status != "exited"
}
