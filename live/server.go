package live

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server serves a Metrics' registry at http://ADDR/metrics, in the
// Prometheus text format or OpenMetrics (as the scraper asks), for the
// length of a run.
type Server struct {
	ln   net.Listener
	srv  *http.Server
	done chan struct{} // closed when Serve has returned
}

// AddrError is a metrics address that cannot be listened on: not
// HOST:PORT, or refused by the system (in use, not a local address).
type AddrError struct {
	Addr string
	Err  error
}

func (e *AddrError) Error() string {
	return fmt.Sprintf("live: metrics address %q: %v (give HOST:PORT, e.g. 127.0.0.1:9464, or :0 for any free port)", e.Addr, e.Err)
}

func (e *AddrError) Unwrap() error { return e.Err }

// Listen binds addr (HOST:PORT; port 0 picks a free one) and serves m's
// registry on it until Close. The address is bound before Listen returns,
// so a bad one is refused before any load.
func Listen(addr string, m *Metrics) (*Server, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, &AddrError{Addr: addr, Err: errors.New("not HOST:PORT")}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &AddrError{Addr: addr, Err: err}
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry(), promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		// A scrape never holds the run up: a slow one is cut off.
		Timeout: 5 * time.Second,
	}))
	s := &Server{
		ln:   ln,
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// Addr is the address the server listens on (with the port chosen for
// port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops the server: the listener and every connection are closed,
// a scrape in progress is given up to a second, and Close returns once
// the serving goroutine has.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = s.srv.Close()
	}
	<-s.done
	return err
}
