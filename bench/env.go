package bench

import (
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/mtlsbench/mtlsbench/internal/cpuset"
	"github.com/mtlsbench/mtlsbench/internal/procstat"
	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

// environment describes this machine for the result.
func environment(cases []scenarios.Case) results.Environment {
	env := results.Environment{
		OS: runtime.GOOS, Arch: runtime.GOARCH, Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		CPUModel: procstat.CPUModel(),
	}
	env.OpenSSL = loadgen.OpenSSLVersion()
	env.Hostname, _ = os.Hostname()
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		env.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	if len(cases) > 0 {
		if cases[0].Target.ClientCPUs != "" {
			env.ClientCPUs, _ = cpuset.Of(0)
		}
		env.TargetCPUs = cases[0].Target.CPUs
	}
	return env
}
