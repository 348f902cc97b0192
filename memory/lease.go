package memory

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/neomem/neomem/graph"
)

// DefaultLeaseTTL is how long a scope's lock outlives its holder's last
// heartbeat unless Config.LeaseTTL says otherwise.
const DefaultLeaseTTL = 20 * time.Second

// releaseTimeout bounds releasing a scope's lock after an add.
const releaseTimeout = 10 * time.Second

// hold takes the scope's lock and keeps it alive with a heartbeat every
// LeaseTTL/4 until release is called. The returned context ends (with the
// cause) when the lease is lost: renewal found it taken over, or no renewal
// succeeded for a whole LeaseTTL (Neo4j unreachable), so the holder stops
// working on a scope another holder may now own. Apply's fencing check
// refuses a lost lease anyway; ending the context only stops wasted work.
func (e *Engine) hold(ctx context.Context, scope graph.Scope, holder string) (context.Context, graph.Lease, func(), error) {
	lease, err := e.store.AcquireLease(ctx, scope, holder, e.cfg.LeaseTTL, e.cfg.LeaseWait)
	if err != nil {
		return ctx, graph.Lease{}, nil, err
	}
	hctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		e.heartbeat(hctx, lease, done, cancel)
	}()
	release := func() {
		close(done)
		wg.Wait()
		cancel(nil)
		// A fresh, bounded context: the request's may be done.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer rcancel()
		_ = e.store.ReleaseLease(rctx, lease)
	}
	return hctx, lease, release, nil
}

// heartbeat renews lease until done is closed or the lease is lost.
func (e *Engine) heartbeat(ctx context.Context, lease graph.Lease, done <-chan struct{}, lost context.CancelCauseFunc) {
	every := max(e.cfg.LeaseTTL/4, time.Millisecond)
	lastOK := time.Now()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		// A renewal may take up to half the TTL (a loaded Neo4j) and still
		// land before the lease runs out.
		rctx, cancel := context.WithTimeout(ctx, max(e.cfg.LeaseTTL/2, every))
		renewed, err := e.store.RenewLease(rctx, lease, e.cfg.LeaseTTL)
		cancel()
		switch {
		case err == nil:
			lease, lastOK = renewed, time.Now()
		case errors.Is(err, graph.Conflict):
			lost(graph.Wrap(graph.Conflict, "add", err))
			return
		case time.Since(lastOK) >= e.cfg.LeaseTTL:
			lost(graph.E(graph.Unavailable, "add", "scope lock not renewed for %v: %v", e.cfg.LeaseTTL, err))
			return
		}
	}
}

// lostLease returns why ctx (from hold) ended when err came from its ending:
// the lost lease says more than "context canceled".
func lostLease(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	var ge *graph.Error
	if cause := context.Cause(ctx); errors.As(cause, &ge) {
		return cause
	}
	return err
}
