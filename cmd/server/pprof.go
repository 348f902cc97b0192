package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// servePprof serves Go's runtime profiles (net/http/pprof: CPU, heap,
// goroutines, traces) on a listener of its own at addr, when
// NEOMEM_PPROF_ADDR sets one. Never on the API's port: the profiles need no
// API key, show the server's internals (goroutine stacks, command line) and
// a CPU profile or trace costs the server work, so whoever may call the API
// must not reach them by default. The handlers sit on a mux of their own,
// not http.DefaultServeMux. It returns a function that closes the listener.
func servePprof(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("NEOMEM_PPROF_ADDR: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("pprof server stopped", "err", err)
		}
	}()
	log.Warn("pprof listening", "addr", ln.Addr().String(),
		"note", "runtime profiles without authentication (NEOMEM_PPROF_ADDR): keep this address on localhost")
	return func() { srv.Close() }, nil
}
