package discovery_test

import (
	"os/exec"
	"strconv"
)

// Burn starts n busy loops in h's namespace, pinned to cpus (taskset -c
// LIST; "" not pinned): the load of a host whose CPUs are all taken. The
// function returned stops them and waits; the end of the test does too.
func (h *Host) Burn(n int, cpus string) (stop func()) {
	l := h.lab
	l.t.Helper()
	var cmds []*exec.Cmd
	stop = func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
		cmds = nil
	}
	l.t.Cleanup(stop)
	for i := 0; i < n; i++ {
		argv := []string{"netns", "exec", h.NS}
		if cpus != "" {
			argv = append(argv, "taskset", "-c", cpus)
		}
		c := exec.Command("ip", append(argv, "sh", "-c", "while :; do :; done")...)
		if err := c.Start(); err != nil {
			stop()
			l.t.Fatalf("netlab: busy loop %s in %s: %v", strconv.Itoa(i), h.NS, err)
		}
		cmds = append(cmds, c)
	}
	return stop
}
