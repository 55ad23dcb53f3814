package loadgen

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// Holding connections (Config.Hold) without a goroutine each.
//
// A held connection costs what it keeps. It used to keep its worker's
// goroutine asleep on a timer: a stack grown to 8-16 KiB by the handshake
// (crypto/tls, certificate verification and signing run deep), kept until
// a garbage collection shrank it, plus the worker's tls.Config clone,
// timer and HTTP buffers. Measured at 3,000 held connections, goroutine
// stacks were a quarter of the generator's peak memory, and most of what
// it kept once every connection was held.
//
// Now a worker whose connection succeeded parks the socket in the
// engine's holder (a heldConn: the descriptor and when its hold ends)
// and its goroutine ends, freeing the grown stack for the handshakes
// still running. Its per-connection state (tls.Config clone, HTTP
// client, timer) is released too and made again, lazily, for its next
// connection. The worker stays busy (active) while its connection is
// held, exactly as before: a closed loop's concurrency and an open loop's
// cap count held connections.
//
// One holder goroutine per run wakes when the first hold ends. Every hold
// lasts Config.Hold from when it was parked, so holds end in the order
// they were parked and the holder's queue is a FIFO: no heap, one timer.
// When a hold ends the holder checks the connection is still there (a
// non-blocking read: end of stream or a reset means the target dropped
// it, counted in Result.HoldLost; bytes it sent meanwhile, such as a
// second session ticket, are read and discarded), closes it, and starts
// the worker's loop again in a new goroutine. When the run stops it does
// the same for every connection still held, without restarting workers.

// heldConn is one parked connection.
type heldConn struct {
	w     *worker
	f     *os.File      // the socket, registered with the poller
	until time.Duration // when the hold ends, from engine.t0
	fd    int32         // f's descriptor (f.Fd would make it blocking)
	// counted: the connection's handshake was counted in the window, so
	// its loss counts too.
	counted bool
}

// holder keeps an engine's held connections.
type holder struct {
	e    *engine
	kick chan struct{} // wakes the holder when the queue stops being empty

	mu     sync.Mutex // guards queue, head, closed, checked, lost and lostExample
	queue  []heldConn // queue[head:] are held, in the order their holds end
	head   int
	closed bool // the run is stopping: park no more

	// checked and lost count the held connections whose handshake
	// counted, checked at the end of their hold and found gone;
	// lostExample is the first loss. Read after the workers stop.
	checked, lost int64
	lostExample   string
	buf           [512]byte // the holder goroutine's probe buffer
}

func newHolder(e *engine, capacity int) *holder {
	return &holder{e: e, kick: make(chan struct{}, 1), queue: make([]heldConn, 0, min(capacity, 1<<16))}
}

// park hands w's connection, just made (counted says whether its
// handshake counted in the window), to the holder, and releases w's
// per-connection state. It returns false when the run is stopping: the
// hold ends at once, and the caller closes the connection. After park
// returns true the calling goroutine must not touch w: the holder may
// already be running it again.
func (h *holder) park(w *worker, counted bool) bool {
	e := w.eng
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		var buf [64]byte
		w.totalRecv += h.check(w.sock.fd, counted, buf[:])
		return false
	}
	// The bytes so far are the connection's all but what the holder reads
	// at the end of the hold.
	w.totalSent += w.wire.written
	w.totalRecv += w.wire.read
	c := heldConn{w: w, f: w.sock.f, fd: int32(w.sock.fd), until: time.Since(e.t0) + e.cfg.Hold, counted: counted}
	w.current.Store(nil)
	w.wire.reset(nil)
	w.sock.detach()
	w.release()
	if h.head == len(h.queue) {
		// The holder may be waiting with nothing to wait for.
		select {
		case h.kick <- struct{}{}:
		default:
		}
	}
	h.queue = append(h.queue, c)
	return true
}

// run is the holder goroutine: it ends holds as they fall due, then,
// when the run stops, every hold left.
func (h *holder) run() {
	e := h.e
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		h.mu.Lock()
		var (
			due  heldConn
			wait time.Duration = -1 // -1: nothing held
		)
		if h.head < len(h.queue) {
			next := h.queue[h.head]
			if wait = next.until - time.Since(e.t0); wait <= 0 {
				due = h.pop()
			}
		}
		h.mu.Unlock()
		if due.w != nil {
			h.end(due, true)
			continue
		}
		var fire <-chan time.Time
		if wait > 0 {
			timer.Reset(wait)
			fire = timer.C
		}
		select {
		case <-fire:
		case <-h.kick:
			timer.Stop()
		case <-e.stopCh:
			h.mu.Lock()
			h.closed = true
			rest := h.queue[h.head:]
			h.queue, h.head = nil, 0
			h.mu.Unlock()
			for _, c := range rest {
				h.end(c, false)
			}
			return
		}
	}
}

// pop removes the first held connection; h.mu is held.
func (h *holder) pop() heldConn {
	c := h.queue[h.head]
	h.queue[h.head] = heldConn{}
	h.head++
	switch {
	case h.head == len(h.queue):
		h.queue, h.head = h.queue[:0], 0
	case h.head >= 1024 && 2*h.head >= len(h.queue):
		// Move what is left to the front so that the queue does not grow
		// past the most connections held at once.
		n := copy(h.queue, h.queue[h.head:])
		clear(h.queue[n:])
		h.queue, h.head = h.queue[:n], 0
	}
	return c
}

// end ends one hold: checks the connection, closes it and, when resume is
// set and the run goes on, starts its worker's loop again.
func (h *holder) end(c heldConn, resume bool) {
	e := h.e
	w := c.w
	fd := int(c.fd)
	h.mu.Lock()
	w.totalRecv += h.check(fd, c.counted, h.buf[:])
	h.mu.Unlock()
	if e.cfg.Linger0 {
		_ = setLinger0(fd)
	}
	_ = c.f.Close()
	w.active.Store(0)
	if resume && !e.stopping.Load() {
		if e.open {
			e.wg.Go(w.runOpen)
		} else {
			e.wg.Go(func() { w.runClosed(0) })
		}
	}
}

// check probes a held connection as its hold ends and, when its
// handshake counted, counts it, and its loss. It returns the bytes read.
// h.mu is held.
func (h *holder) check(fd int, counted bool, buf []byte) int64 {
	n, err := probeHeld(fd, buf)
	if !counted {
		return n
	}
	h.checked++
	if err != nil {
		h.lost++
		if h.lostExample == "" {
			h.lostExample = (&Error{Class: ClassIO, Phase: "hold", Err: holdError(h.e.target, err)}).Error()
		}
	}
	return n
}

// holdError words a held connection's loss as net does for a read.
func holdError(t *dialTarget, err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("the target closed the connection while it was held (end of stream)")
	}
	return &net.OpError{Op: "read", Net: "tcp", Addr: t.addr, Err: err}
}

// probeHeld reads, without waiting, what the peer sent on a held
// connection, and reports how many bytes that was and whether the
// connection is gone: io.EOF when the peer closed it, the error when it
// was reset; nil when it is still open (nothing to read, or data and then
// nothing). A peer that keeps sending is not gone: the reads are bounded.
func probeHeld(fd int, buf []byte) (n int64, err error) {
	for range 64 {
		r, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)),
			syscall.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			if r == 0 {
				return n, io.EOF
			}
			n += int64(r)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return n, nil
		default:
			return n, os.NewSyscallError("read", e)
		}
	}
	return n, nil
}

// holdWarning is the result's note on held connections found gone.
func (h *holder) holdWarning() string {
	if h.lost == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d held connections were gone when their hold ended (the target closed or reset them while they were held); the first: %s",
		h.lost, h.checked, h.lostExample)
}

// holdGCPercent is the garbage collector's target while a run holds
// many connections (see limitGC), and holdGCFrom how many.
const (
	holdGCPercent = 25
	holdGCFrom    = 1000
)

var (
	gcMu      sync.Mutex // guards gcHolders and gcSaved
	gcHolders int        // runs that lowered the target, which the last one restores
	gcSaved   int
)

// limitGC lowers the garbage collector's target while a run holds conns
// connections, when they are many, and returns the function that
// restores it.
//
// Why: with the default GOGC=100 the heap may grow to twice what is live
// before a collection. A burst of thousands of handshakes (-c 18000
// --hold starts them all at once) leaves about 30 KiB of garbage per
// handshake while thousands more are in flight, each with about 4.5 KiB
// of live heap besides its goroutine's 8 KiB stack; measured at 3,000
// held connections, the heap peaked at twice its live size. At 25 the heap stays within a quarter of what
// is live, for four times the collections (a run that holds connections
// is bound by the target's handshakes, not the generator's CPU; its CPU
// per handshake includes the extra collections).
//
// A memory limit (debug.SetMemoryLimit) sized from the run was tried
// instead: below what the burst needs live it makes the collector run
// without pause (3,000 connections under a limit of 14 KiB each: client
// CPU per handshake went from 0.6 to 1.2-1.8 ms, the peak no lower); and
// what is live per handshake depends on the case (key types, groups,
// requests, an in-process target), which a proportional target follows
// by itself. The GOGC environment variable, when set, wins.
func limitGC(conns int) (restore func()) {
	if conns < holdGCFrom || os.Getenv("GOGC") != "" {
		return func() {}
	}
	gcMu.Lock()
	defer gcMu.Unlock()
	if gcHolders == 0 {
		gcSaved = debug.SetGCPercent(holdGCPercent)
	}
	gcHolders++
	return func() {
		gcMu.Lock()
		defer gcMu.Unlock()
		if gcHolders--; gcHolders == 0 {
			debug.SetGCPercent(gcSaved)
		}
	}
}
