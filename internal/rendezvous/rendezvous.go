// Package rendezvous is the start barrier of a sharded run, the one
// piece of cluster protocol mtlsbench has: shard 0 listens, the others
// dial it (a Kubernetes Job and a headless Service, srun, or ssh is all
// it needs). Once every shard is there, shard 0 announces each case's
// start instant; over the same connection each shard measures its
// clock's offset to shard 0's, so every shard starts a case at the same
// instant, to within that offset's error.
//
// The protocol is JSON lines over one TCP connection per shard:
//
//	shard → 0: hello {run_id, index, count}     0 → shard: welcome | refuse {reason}
//	shard → 0: ping {t1}                         0 → shard: pong {t1, t2, t3}   (Pings times)
//	shard → 0: ready {case}                      0 → every shard: start {case, at}
//
// A shard that leaves ends the rendezvous for every other one: its next
// barrier fails, naming the shard.
package rendezvous

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/mtlsbench/mtlsbench/results"
)

// Config is one shard's place in a rendezvous. Zero values have defaults,
// noted per field.
type Config struct {
	// Addr is shard 0's HOST:PORT. Shard 0 listens on its port on every
	// interface; the others dial it. Required.
	Addr string
	// RunID, Index and Count identify this shard; every shard must give
	// the same RunID and Count, and each index once.
	RunID        string
	Index, Count int
	// JoinTimeout bounds the wait for every shard to arrive (shard 0) or
	// for shard 0 to answer (the others, who retry meanwhile). Zero
	// means 10 minutes: pods of a Job may start minutes apart.
	JoinTimeout time.Duration
	// Lead is how far ahead of its announcement a start instant is set:
	// time for the message to arrive and the shards to wake. Zero means
	// 250 ms.
	Lead time.Duration
	// Pings is how many clock exchanges a shard makes when it joins; the
	// one with the shortest round trip gives the offset. Zero means 16.
	Pings int
	// Listener, for shard 0, replaces listening on Addr's port (tests).
	Listener net.Listener
}

func (c Config) withDefaults() Config {
	if c.JoinTimeout == 0 {
		c.JoinTimeout = 10 * time.Minute
	}
	if c.Lead == 0 {
		c.Lead = 250 * time.Millisecond
	}
	if c.Pings == 0 {
		c.Pings = 16
	}
	return c
}

// message is every message of the protocol; unused fields are omitted.
type message struct {
	Type   string `json:"type"`
	RunID  string `json:"run_id,omitempty"`
	Index  int    `json:"index,omitempty"`
	Count  int    `json:"count,omitempty"`
	Reason string `json:"reason,omitempty"`
	Case   int    `json:"case,omitempty"`
	T1     int64  `json:"t1,omitempty"`
	T2     int64  `json:"t2,omitempty"`
	T3     int64  `json:"t3,omitempty"`
	At     int64  `json:"at,omitempty"`
}

// conn is one JSON-lines connection.
type conn struct {
	c   net.Conn
	r   *bufio.Reader
	enc *json.Encoder
	wmu sync.Mutex
}

func newConn(c net.Conn) *conn {
	return &conn{c: c, r: bufio.NewReader(c), enc: json.NewEncoder(c)}
}

func (c *conn) send(m message) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.enc.Encode(m)
}

func (c *conn) recv() (message, error) {
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return message{}, err
	}
	var m message
	if err := json.Unmarshal(line, &m); err != nil {
		return message{}, fmt.Errorf("rendezvous: a message that is not JSON: %.60q", line)
	}
	return m, nil
}

// RefusedError is shard 0 refusing a shard that is not of its run: a
// different run ID or count, or an index already taken. It is the user's
// input that is wrong.
type RefusedError struct {
	Addr   string
	Index  int
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("rendezvous: shard 0 at %s refused shard %d: %s (every shard needs the same --run-id and count, and its own index)", e.Addr, e.Index, e.Reason)
}

// Session is a shard's membership of a rendezvous, from Join to Close.
type Session struct {
	cfg   Config
	clock results.ClockSync

	// Shard 0.
	ln      net.Listener
	mu      sync.Mutex
	members map[int]*conn
	ready   map[int]map[int]bool // case → shards ready
	lost    error                // the first shard that left
	changed chan struct{}        // closed and replaced on every change

	// The others.
	coord   *conn
	starts  chan message
	recvErr chan error
}

// Join enters the rendezvous: shard 0 waits until every other shard has
// joined, the others until shard 0 welcomed them and their clock is
// measured. Errors are prefixed "rendezvous:".
func Join(ctx context.Context, cfg Config) (*Session, error) {
	cfg = cfg.withDefaults()
	if cfg.Count < 2 || cfg.Index < 0 || cfg.Index >= cfg.Count {
		return nil, fmt.Errorf("rendezvous: shard %d of %d: a rendezvous needs at least 2 shards and an index below the count", cfg.Index, cfg.Count)
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil && cfg.Listener == nil {
		return nil, fmt.Errorf("rendezvous: address %q is not HOST:PORT", cfg.Addr)
	}
	s := &Session{cfg: cfg}
	ctx, cancel := context.WithTimeout(ctx, cfg.JoinTimeout)
	defer cancel()
	if cfg.Index == 0 {
		return s, s.lead(ctx)
	}
	return s, s.follow(ctx)
}

// Clock is this shard's clock offset to shard 0 (zero for shard 0).
func (s *Session) Clock() results.ClockSync { return s.clock }

// lead is shard 0's Join: listen and welcome every other shard.
func (s *Session) lead(ctx context.Context) error {
	s.members, s.ready, s.changed = map[int]*conn{}, map[int]map[int]bool{}, make(chan struct{})
	s.ln = s.cfg.Listener
	if s.ln == nil {
		_, port, _ := net.SplitHostPort(s.cfg.Addr)
		ln, err := net.Listen("tcp", net.JoinHostPort("", port))
		if err != nil {
			return fmt.Errorf("rendezvous: shard 0 listens on port %s: %w", port, err)
		}
		s.ln = ln
	}
	go s.accept()
	for {
		s.mu.Lock()
		n, changed := len(s.members), s.changed
		s.mu.Unlock()
		if n == s.cfg.Count-1 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			s.mu.Lock()
			var missing []int
			for i := 1; i < s.cfg.Count; i++ {
				if s.members[i] == nil {
					missing = append(missing, i)
				}
			}
			s.mu.Unlock()
			s.Close()
			return fmt.Errorf("rendezvous: shards %v did not join within %s: %w", missing, s.cfg.JoinTimeout, ctx.Err())
		}
	}
}

// notify wakes whoever waits on a change; s.mu must be held.
func (s *Session) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Session) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.serve(newConn(c))
	}
}

// serve is shard 0's side of one shard's connection.
func (s *Session) serve(c *conn) {
	_ = c.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	hello, err := c.recv()
	if err != nil || hello.Type != "hello" {
		c.c.Close()
		return
	}
	refuse := func(reason string) {
		_ = c.send(message{Type: "refuse", Reason: reason})
		c.c.Close()
	}
	switch {
	case hello.RunID != s.cfg.RunID:
		refuse(fmt.Sprintf("run %q, but shard 0 runs %q", hello.RunID, s.cfg.RunID))
		return
	case hello.Count != s.cfg.Count:
		refuse(fmt.Sprintf("%d shards, but shard 0 has %d", hello.Count, s.cfg.Count))
		return
	case hello.Index <= 0 || hello.Index >= s.cfg.Count:
		refuse(fmt.Sprintf("index %d: the others are 1 to %d", hello.Index, s.cfg.Count-1))
		return
	}
	s.mu.Lock()
	if s.members[hello.Index] != nil {
		s.mu.Unlock()
		refuse(fmt.Sprintf("shard %d has already joined", hello.Index))
		return
	}
	s.members[hello.Index] = c
	s.mu.Unlock()
	if c.send(message{Type: "welcome"}) != nil {
		s.leave(hello.Index, c, errors.New("closed at once"))
		return
	}
	s.mu.Lock()
	s.notify()
	s.mu.Unlock()
	_ = c.c.SetReadDeadline(time.Time{})
	for {
		m, err := c.recv()
		if err != nil {
			s.leave(hello.Index, c, err)
			return
		}
		switch m.Type {
		case "ping":
			t2 := time.Now().UnixNano()
			_ = c.send(message{Type: "pong", T1: m.T1, T2: t2, T3: time.Now().UnixNano()})
		case "ready":
			s.mu.Lock()
			if s.ready[m.Case] == nil {
				s.ready[m.Case] = map[int]bool{}
			}
			s.ready[m.Case][hello.Index] = true
			s.notify()
			s.mu.Unlock()
		case "bye":
			// A shard whose run ended: a later barrier waits for it in
			// vain, so it fails instead, naming it.
			s.leave(hello.Index, c, errors.New("its run ended"))
			return
		}
	}
}

func (s *Session) leave(index int, c *conn, err error) {
	c.c.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.members[index] == c && s.lost == nil {
		s.lost = fmt.Errorf("rendezvous: shard %d left the run (%v)", index, err)
	}
	s.notify()
}

// follow is Join for shards other than 0: dial (retrying until shard 0
// listens), say hello, measure the clock.
func (s *Session) follow(ctx context.Context) error {
	var d net.Dialer
	var last error
	for {
		c, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
		if err == nil {
			s.coord = newConn(c)
			break
		}
		last = err
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("rendezvous: shard 0 at %s did not answer within %s: %w", s.cfg.Addr, s.cfg.JoinTimeout, last)
		}
	}
	stop := context.AfterFunc(ctx, func() { s.coord.c.Close() })
	defer stop()
	fail := func(err error) error {
		s.coord.c.Close()
		if ctx.Err() != nil {
			return fmt.Errorf("rendezvous: joining shard 0 at %s: %w", s.cfg.Addr, ctx.Err())
		}
		return fmt.Errorf("rendezvous: joining shard 0 at %s: %w", s.cfg.Addr, err)
	}
	if err := s.coord.send(message{Type: "hello", RunID: s.cfg.RunID, Index: s.cfg.Index, Count: s.cfg.Count}); err != nil {
		return fail(err)
	}
	m, err := s.coord.recv()
	if err != nil {
		return fail(err)
	}
	if m.Type == "refuse" {
		s.coord.c.Close()
		return &RefusedError{Addr: s.cfg.Addr, Index: s.cfg.Index, Reason: m.Reason}
	}
	best := time.Duration(-1)
	for range s.cfg.Pings {
		t1 := time.Now()
		if err := s.coord.send(message{Type: "ping", T1: t1.UnixNano()}); err != nil {
			return fail(err)
		}
		m, err := s.coord.recv()
		if err != nil {
			return fail(err)
		}
		t4 := time.Now()
		rtt := t4.Sub(t1) - time.Duration(m.T3-m.T2)
		if best < 0 || rtt < best {
			best = rtt
			offset := (float64(m.T2-t1.UnixNano()) + float64(m.T3-t4.UnixNano())) / 2
			s.clock = results.ClockSync{OffsetUs: offset / 1e3, ErrorUs: float64(rtt) / 2e3}
		}
	}
	s.clock.Samples = s.cfg.Pings
	s.starts, s.recvErr = make(chan message, 4), make(chan error, 1)
	go func() {
		for {
			m, err := s.coord.recv()
			if err != nil {
				s.recvErr <- err
				return
			}
			if m.Type == "start" {
				s.starts <- m
			}
		}
	}()
	return nil
}

// Start is the barrier before case k (numbered from 0 in the order every
// shard runs them). It returns the instant to start the case, in this
// shard's clock. planned, when set, is the case's instant on a fixed
// timeline in shard 0's clock: shard 0 then announces it (early enough
// for the message to arrive) whether or not every shard is ready, and a
// shard not ready in time starts late, which the engine refuses. Without
// it, shard 0 waits for every shard and announces an instant Lead from
// then.
func (s *Session) Start(ctx context.Context, k int, planned time.Time) (time.Time, error) {
	if s.cfg.Index == 0 {
		return s.announce(ctx, k, planned)
	}
	if err := s.coord.send(message{Type: "ready", Case: k}); err != nil {
		return time.Time{}, fmt.Errorf("rendezvous: shard 0 is gone: %w", err)
	}
	for {
		select {
		case m := <-s.starts:
			if m.Case != k {
				continue // an announcement this shard was too late for
			}
			// Shard 0's instant in this clock: local = reference − offset.
			return time.Unix(0, m.At).Add(-time.Duration(s.clock.OffsetUs * 1e3)), nil
		case err := <-s.recvErr:
			s.recvErr <- err
			return time.Time{}, fmt.Errorf("rendezvous: shard 0 is gone (%v); it ends the run when a shard leaves or its own run ends", err)
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

func (s *Session) announce(ctx context.Context, k int, planned time.Time) (time.Time, error) {
	for {
		s.mu.Lock()
		lost, n, changed := s.lost, len(s.ready[k]), s.changed
		s.mu.Unlock()
		if lost != nil {
			return time.Time{}, lost
		}
		now := time.Now()
		due := !planned.IsZero() && !now.Before(planned.Add(-s.cfg.Lead))
		if n == s.cfg.Count-1 || due {
			at := now.Add(s.cfg.Lead)
			if !planned.IsZero() {
				at = planned
			}
			s.mu.Lock()
			members := make([]*conn, 0, len(s.members))
			for _, c := range s.members {
				members = append(members, c)
			}
			delete(s.ready, k)
			s.mu.Unlock()
			for _, c := range members {
				_ = c.send(message{Type: "start", Case: k, At: at.UnixNano()})
			}
			return at, nil
		}
		var wake <-chan time.Time
		if !planned.IsZero() {
			wake = time.After(time.Until(planned.Add(-s.cfg.Lead)))
		}
		select {
		case <-changed:
		case <-wake:
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// Close leaves the rendezvous: the others learn this shard is done
// (shard 0 closes every connection and its listener).
func (s *Session) Close() error {
	if s.cfg.Index == 0 {
		if s.ln != nil {
			s.ln.Close()
		}
		s.mu.Lock()
		for _, c := range s.members {
			c.c.Close()
		}
		s.members = map[int]*conn{}
		s.mu.Unlock()
		return nil
	}
	if s.coord != nil {
		_ = s.coord.send(message{Type: "bye"})
		return s.coord.c.Close()
	}
	return nil
}
