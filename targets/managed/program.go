package managed

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mtlsbench/mtlsbench/targets"
)

// program is one kind of managed server — the software, where Server is a
// running instance of it: what differs between nginx, HAProxy and openssl
// s_server. Each is a value in a file set of its own (nginx.go, haproxy.go
// with haproxy_log.go, openssl.go) and a line in programs.
type program interface {
	// kind is the kind the server is registered under with targets.
	kind() targets.Kind
	// command is the executable, looked up in PATH and then in sbinDirs,
	// and debianPackage the Debian package that installs it.
	command() string
	debianPackage() string
	// versionArgs make the executable print its version and the TLS
	// library it runs with; identify reads them from that output into b,
	// with whatever else of its build the server's configure needs.
	versionArgs() []string
	identify(output string, b *binary)
	// capability adjusts c, what every managed server can do with the
	// library it runs with, to this server: its cross-check, its limits,
	// whether it verifies the client in the handshake.
	capability(c *targets.Capability)
	// configure writes the server's files for cfg (defaults applied) into
	// dir and says how to run it, listening on addr, and how to read its
	// record (runPlan.record).
	configure(dir string, cfg targets.Config, addr string, bin binary) (runPlan, error)
}

// programs are the managed servers; each is registered with targets under
// its kind.
var programs = []program{
	nginx{},
	haproxy{},
	openssl{},
	node{},
}

func init() {
	for _, p := range programs {
		targets.Register(p.kind(), driver{p})
	}
}

// programFor returns the managed server of a kind.
func programFor(kind targets.Kind) (program, error) {
	names := make([]string, len(programs))
	for i, p := range programs {
		if p.kind() == kind {
			return p, nil
		}
		names[i] = string(p.kind())
	}
	return nil, fmt.Errorf("managed: %q is not a managed server (accepted: %s)", kind, strings.Join(names, ", "))
}

// recorder reads a running server's own record, which Server.Counts
// returns. configure makes one for each start.
type recorder interface {
	// counts returns what the server has recorded since it started,
	// leaving out the harness's own probes.
	counts(ctx context.Context, s *Server) (targets.Counts, error)
}

// logRecorder is a recorder whose record is a log with a time on every
// line. A server with one is started as a *LoggedServer, a
// targets.WindowCounter.
type logRecorder interface {
	recorder
	// logs returns the server's tally and the logs that feed it.
	logs() (*logTally, []*logTail)
}

// logFlusher is a logRecorder whose lines reach its log file by a way of
// their own (HAProxy's ring), so that no connection open and a quiet file
// do not mean every line is in. flush returns once every line the server
// logged before it was called has been read into the tally, or
// errFlushTimeout after maxWait.
type logFlusher interface {
	flush(ctx context.Context, maxWait time.Duration) error
}

// driver is how targets.Start starts a managed server.
type driver struct{ p program }

var _ targets.Driver = driver{}

// Start is Start for the driver's server.
func (d driver) Start(ctx context.Context, cfg targets.Config) (targets.Target, error) {
	return startTarget(ctx, d.p, cfg)
}

// Capabilities reports what the server can do here (see capability.go).
func (d driver) Capabilities() (targets.Capability, error) { return capabilities(d.p) }
