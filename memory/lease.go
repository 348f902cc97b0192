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
		cur := lease
		heartbeat(hctx, "add", e.cfg.LeaseTTL, func(rctx context.Context) error {
			renewed, err := e.store.RenewLease(rctx, cur, e.cfg.LeaseTTL)
			if err == nil {
				cur = renewed
			}
			return err
		}, done, cancel)
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

// heartbeat calls renew every ttl/4 until done is closed. A renewal may
// take up to half the TTL (a loaded Neo4j) and still land in time. It ends
// the holder's work (lost) when renew says the lease or claim was taken
// over (Conflict), or when no renewal succeeded for a whole ttl: another
// holder may own it by then. op names the work in the cause. Scope leases
// and job claims share it.
func heartbeat(ctx context.Context, op string, ttl time.Duration, renew func(context.Context) error, done <-chan struct{}, lost context.CancelCauseFunc) {
	every := max(ttl/4, time.Millisecond)
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
		rctx, cancel := context.WithTimeout(ctx, max(ttl/2, every))
		err := renew(rctx)
		cancel()
		switch {
		case err == nil:
			lastOK = time.Now()
		case errors.Is(err, graph.Conflict):
			lost(graph.Wrap(graph.Conflict, op, err))
			return
		case time.Since(lastOK) >= ttl:
			lost(graph.E(graph.Unavailable, op, "not renewed for %v: %v", ttl, err))
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
