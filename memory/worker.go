package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
)

// JobQueue is what workers need from the system of record: the jobs of
// asynchronous adds and the idempotency records that make each job's write
// happen once. Methods return graph error kinds and are safe for concurrent
// use (cypher.Store implements it).
type JobQueue interface {
	// ClaimJob claims the next job that can run (one scope's in order).
	ClaimJob(ctx context.Context, holder string, ttl time.Duration, tenants []string) (graph.Job, bool, error)
	// RenewJob extends a claim; Conflict when it was lost.
	RenewJob(ctx context.Context, job graph.Job, ttl time.Duration) error
	// FinishJob records the end of a run; Conflict when the claim was lost.
	FinishJob(ctx context.Context, job graph.Job, status graph.JobStatus, result *graph.AddResult, errText string, retryIn time.Duration) error
	// Recall returns an idempotency record.
	Recall(ctx context.Context, tenant, key string) (graph.Recorded, bool, error)
}

// WorkerConfig tunes RunWorkers; zero values take the defaults.
type WorkerConfig struct {
	// Workers is how many jobs run at once in this process (default 2).
	Workers int
	// LeaseTTL is how long a claimed job outlives its worker's last
	// heartbeat (default DefaultLeaseTTL); a job whose worker died is taken
	// over by another worker after at most this long.
	LeaseTTL time.Duration
	// Poll is the longest pause between looks for work when the queue is
	// empty (default 1s).
	Poll time.Duration
	// RetryBase and RetryMax bound the backoff between attempts of a job
	// whose model or store was unavailable (defaults 2s and 2m).
	RetryBase, RetryMax time.Duration
	// Tenants, when not nil, are the only tenants whose jobs these workers
	// run (dedicated workers for large tenants).
	Tenants []string
	// Drain is how long the runs in progress may go on once ctx ends
	// (default 15s); a run cut short is taken over by another worker when
	// its lease lapses, and its write still happens at most once.
	Drain time.Duration
	// RunTimeout bounds one run of a job, model calls included (default
	// 5m): a hung run would otherwise keep its lease, and its scope, forever.
	RunTimeout time.Duration
	Logger     *slog.Logger
}

// jobKey is the idempotency key of a job's write: a job that ran twice (its
// worker died after the write, before recording the end) writes once.
func jobKey(id string) string { return graph.JobKeyPrefix + id }

// RunWorkers runs asynchronous adds from q until ctx ends, then waits for the
// runs in progress. Each job runs through Add with the job's idempotency key,
// so its memories are written exactly once however often it is retried.
func (e *Engine) RunWorkers(ctx context.Context, q JobQueue, cfg WorkerConfig) {
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 2 * time.Second
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 2 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Drain <= 0 {
		cfg.Drain = 15 * time.Second
	}
	if cfg.RunTimeout <= 0 {
		cfg.RunTimeout = 5 * time.Minute
	}
	// Runs outlive ctx by at most Drain.
	runs, stopRuns := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRuns()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(cfg.Drain, stopRuns) })
	defer stop()
	var wg sync.WaitGroup
	for i := range cfg.Workers {
		holder := fmt.Sprintf("%s/worker-%d", e.holder, i)
		wg.Go(func() { e.workLoop(ctx, runs, q, cfg, holder) })
	}
	wg.Wait()
}

func (e *Engine) workLoop(ctx, runs context.Context, q JobQueue, cfg WorkerConfig, holder string) {
	idle := 50 * time.Millisecond
	for ctx.Err() == nil {
		job, ok, err := q.ClaimJob(ctx, holder, cfg.LeaseTTL, cfg.Tenants)
		if err != nil && ctx.Err() == nil {
			cfg.Logger.Warn("claim job", "err", err)
		}
		if !ok {
			// Jittered, growing pauses while there is nothing to do.
			pause := idle/2 + rand.N(idle/2+1)
			idle = min(2*idle, cfg.Poll)
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
			continue
		}
		idle = 50 * time.Millisecond
		// Shutdown does not cut a run short at once: it has Drain to
		// finish and record its end.
		e.runJob(runs, q, cfg, job)
	}
}

// finishTimeout bounds recording the end of a run.
const finishTimeout = 10 * time.Second

// runJob runs one claimed job and records how it ended.
func (e *Engine) runJob(ctx context.Context, q JobQueue, cfg WorkerConfig, job graph.Job) {
	log := cfg.Logger.With("job", job.ID, "attempt", job.Attempts)
	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jctx, cancelRun := context.WithTimeout(jctx, cfg.RunTimeout)
	defer cancelRun()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		heartbeat(jctx, "async add", cfg.LeaseTTL, func(rctx context.Context) error {
			return q.RenewJob(rctx, job, cfg.LeaseTTL)
		}, done, cancel)
	})
	res, err := e.runOnce(jctx, q, job)
	close(done)
	wg.Wait()

	status, errText, retry := graph.JobSucceeded, "", time.Duration(0)
	if err != nil {
		errText = err.Error()
		status = graph.JobFailed
		if retryable(err) && job.Attempts < job.MaxAttempts {
			status = graph.JobPending
			retry = min(cfg.RetryBase<<(job.Attempts-1), cfg.RetryMax)
			retry = retry/2 + rand.N(retry/2+1)
		}
		log.Warn("async add failed", "err", err, "next", status, "retry_in", retry)
	}
	var out *graph.AddResult
	if err == nil {
		out = &res
	}
	// Recorded even when ctx (shutdown) ended, with a bounded context of its
	// own; a write already marked the job SUCCEEDED in its own transaction,
	// so a lost claim then is expected.
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer fcancel()
	if err := q.FinishJob(fctx, job, status, out, errText, retry); err != nil && !(status == graph.JobSucceeded && errors.Is(err, graph.Conflict)) {
		// Lost claim or Neo4j down: the lease lapses and another run
		// finds the write recorded under the job's key.
		log.Warn("record job end", "err", err)
	}
}

// runOnce runs the job's add with its idempotency key, fenced by the job's
// claim; a write already recorded under the key is the result.
func (e *Engine) runOnce(ctx context.Context, q JobQueue, job graph.Job) (graph.AddResult, error) {
	key := jobKey(job.ID)
	if res, ok, err := recalled(ctx, q, job.Scope.Tenant, key); err != nil || ok {
		return res, err
	}
	req := job.Request
	req.Scope = job.Scope
	req.JobID = job.ID
	req.Audit.Once = &graph.Once{Key: key, Fingerprint: jobFingerprint, JobID: job.ID, JobToken: job.Token}
	res, err := e.Add(ctx, req)
	if graph.IsDone(err) {
		res, ok, rerr := recalled(ctx, q, job.Scope.Tenant, key)
		if rerr != nil || !ok {
			return graph.AddResult{}, errors.Join(err, rerr)
		}
		return res, nil
	}
	return res, lostLease(ctx, err)
}

// jobFingerprint marks the idempotency records of jobs.
const jobFingerprint = "job"

// recalled returns the add result recorded under key, if any.
func recalled(ctx context.Context, q JobQueue, tenant, key string) (graph.AddResult, bool, error) {
	rec, ok, err := q.Recall(ctx, tenant, key)
	if err != nil || !ok || len(rec.Result) == 0 || rec.Fingerprint != jobFingerprint {
		return graph.AddResult{}, false, err
	}
	var res graph.AddResult
	if err := json.Unmarshal(rec.Result, &res); err != nil {
		return graph.AddResult{}, false, graph.Wrap(graph.Other, "read job result", err)
	}
	return res, true, nil
}

// retryable says whether another attempt may succeed: a model or Neo4j that
// was unavailable, a busy or lost scope lock. Bad input never is.
func retryable(err error) bool {
	if _, ok := llm.AsProviderError(err); ok {
		return true
	}
	return errors.Is(err, graph.Unavailable) || errors.Is(err, graph.Conflict)
}
