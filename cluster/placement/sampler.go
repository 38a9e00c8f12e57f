package placement

import (
	"bytes"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"time"

	"github.com/gonode/gonode/proc"
)

// A Sampler measures its node. The load process calls it once when it
// starts and once per interval, always from its own goroutine, so a
// Sampler may keep state between calls without a lock. It fills
// everything but Node, At and Age, which the load process sets.
type Sampler func() Load

// NewSampler returns the sampler Start uses by default for the process
// table pn. A sample walks every process's Info (a lock per process, no
// stop of the world): 6 ms for 10,000 processes (BenchmarkSample), 1.3%
// of a core at the default interval. It reads /proc/self/stat once (CPU
// and resident memory), or, where /proc is missing, runtime/metrics'
// estimate of the CPU Go used and the memory it has mapped.
func NewSampler(pn *proc.Node) Sampler {
	var last cpuTime
	return func() Load {
		l := Load{CPUs: runtime.GOMAXPROCS(0)}
		var top [MailboxTop]int
		for _, in := range pn.Processes() {
			l.Processes++
			if in.Status == "running" && in.Style != "attached" && in.Name != ServerName {
				l.Runnable++
			}
			insertTop(&top, in.MessageQueueLen)
		}
		for _, d := range top {
			if d > 0 {
				l.Mailboxes = append(l.Mailboxes, d)
			}
		}
		now := readCPU()
		if !last.at.IsZero() && now.at.After(last.at) && now.used >= last.used {
			l.CPU = (now.used - last.used).Seconds() / now.at.Sub(last.at).Seconds()
		}
		last = now
		l.Memory = now.rss
		return l
	}
}

// insertTop keeps the MailboxTop largest depths, largest first.
func insertTop(top *[MailboxTop]int, d int) {
	for i := range top {
		if d > top[i] {
			copy(top[i+1:], top[i:len(top)-1])
			top[i] = d
			return
		}
	}
}

// cpuTime is the OS process's CPU time used up to at, and its memory.
type cpuTime struct {
	at   time.Time
	used time.Duration
	rss  uint64
}

// clockTick is USER_HZ, the unit of utime and stime in /proc/self/stat:
// 100 on every Linux ABI (the kernel converts to it for user space).
const clockTick = 100

// readCPU reads utime, stime and rss from /proc/self/stat, or falls back
// on runtime/metrics' estimates where that file is missing.
func readCPU() cpuTime {
	c := cpuTime{at: time.Now()}
	if b, err := os.ReadFile("/proc/self/stat"); err == nil {
		// Fields after the command, which is in parentheses and may hold
		// spaces: state is field 3, utime 14, stime 15, rss 24 (pages).
		if i := bytes.LastIndexByte(b, ')'); i >= 0 {
			f := bytes.Fields(b[i+1:])
			if len(f) > 21 {
				ut, err1 := strconv.ParseUint(string(f[11]), 10, 64)
				st, err2 := strconv.ParseUint(string(f[12]), 10, 64)
				rss, err3 := strconv.ParseUint(string(f[21]), 10, 64)
				if err1 == nil && err2 == nil && err3 == nil {
					c.used = time.Duration(ut+st) * time.Second / clockTick
					c.rss = rss * uint64(os.Getpagesize())
					return c
				}
			}
		}
	}
	s := []metrics.Sample{{Name: "/cpu/classes/total:cpu-seconds"}, {Name: "/cpu/classes/idle:cpu-seconds"}, {Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindFloat64 && s[1].Value.Kind() == metrics.KindFloat64 {
		c.used = time.Duration((s[0].Value.Float64() - s[1].Value.Float64()) * float64(time.Second))
	}
	if s[2].Value.Kind() == metrics.KindUint64 {
		c.rss = s[2].Value.Uint64()
	}
	return c
}
