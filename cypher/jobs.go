package cypher

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/graph"
)

// Asynchronous adds are (:Job) nodes: a transactional outbox in the system of
// record. A job is created in the transaction that acknowledges it; workers
// claim jobs with a lease (renewed by a heartbeat, taken over when it lapses)
// and a fencing token, one scope's jobs strictly in the order they were
// created.

// enqueueJob numbers the job within its scope (a counter node, locked by
// the first SET before it is read), so one scope's jobs have a total order
// even when two are created in the same instant.
const enqueueJob = `
MERGE (c:JobCounter {tenant: $props.tenant, scope_key: $props.scope_key})
ON CREATE SET c.n = 0
SET c.locked_at = datetime()
WITH c
SET c.n = c.n + 1
WITH c.n AS seq
CREATE (j:Job)
SET j = $props, j.seq = seq, j.created_at = datetime(), j.updated_at = datetime(), j.run_at = datetime()
RETURN j {.*} AS j`

// EnqueueJob stores an asynchronous add as a PENDING job and returns it. The
// job's request keeps the raw messages. With audit.Once the job's answer is
// recorded with the key (a retried enqueue returns the same job).
// Errors: Invalid, Conflict (graph.IsDone), Unavailable.
func (s *Store) EnqueueJob(ctx context.Context, req graph.AddRequest, maxAttempts int, audit graph.Audit) (graph.Job, error) {
	const op = "enqueue add"
	if err := req.Scope.ValidateSelector(op); err != nil {
		return graph.Job{}, err
	}
	if err := checkOnce(op, audit.Once); err != nil {
		return graph.Job{}, err
	}
	req.Audit = graph.Audit{ActorID: audit.ActorID, Role: audit.Role, RequestID: audit.RequestID}
	body, err := json.Marshal(req)
	if err != nil {
		return graph.Job{}, graph.Wrap(graph.Invalid, op, err)
	}
	props := scopeProps(req.Scope)
	props["id"] = graph.NewID()
	props["status"] = string(graph.JobPending)
	props["request"] = string(body)
	props["attempts"] = int64(0)
	props["max_attempts"] = int64(max(maxAttempts, 1))
	res, err := s.write(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		if err := s.claim(ctx, tx, op, req.Scope, audit.Once); err != nil {
			return nil, err
		}
		recs, err := collect(ctx, tx, enqueueJob, map[string]any{"props": props})
		if err != nil {
			return nil, err
		}
		j, err := jobFrom(recs[0])
		if err != nil {
			return nil, err
		}
		return j, record(ctx, tx, req.Scope.Tenant, audit.Once, j.ID)
	})
	if err != nil {
		return graph.Job{}, translate(op, err)
	}
	return res.(graph.Job), nil
}

// claimJob finds the oldest job that can run: PENDING and due, or RUNNING
// with a lapsed lease (its worker died), and the first unfinished job of its
// scope (so a scope's jobs run in order). The first SET takes the job's write
// lock; the condition is checked again after it, so of two workers racing
// for one job only one claims it. A job whose workers died max_attempts
// times is FAILED instead (exhausted), so it cannot block its scope forever.
const claimJob = `
MATCH (j:Job)
WHERE j.status IN ['PENDING', 'RUNNING']
  AND ($tenants IS NULL OR j.tenant IN $tenants)
  AND ((j.status = 'PENDING' AND j.run_at <= datetime())
    OR (j.status = 'RUNNING' AND j.lease_expires_at <= datetime()))
  AND NOT EXISTS {
    MATCH (o:Job {tenant: j.tenant, scope_key: j.scope_key})
    WHERE o.status IN ['PENDING', 'RUNNING'] AND o.seq < j.seq
  }
WITH j
ORDER BY j.created_at, j.seq
LIMIT 1
SET j.claimed_at = datetime()
WITH j
WHERE (j.status = 'PENDING' AND j.run_at <= datetime())
   OR (j.status = 'RUNNING' AND j.lease_expires_at <= datetime())
WITH j, j.status = 'RUNNING' AND j.attempts >= j.max_attempts AS exhausted
SET j.status = CASE WHEN exhausted THEN 'FAILED' ELSE 'RUNNING' END,
  j.error = CASE WHEN exhausted THEN 'its worker stopped ' + toString(j.attempts) + ' times before finishing it' ELSE j.error END,
  j.completed_at = CASE WHEN exhausted THEN datetime() END,
  j.holder = CASE WHEN exhausted THEN null ELSE $holder END,
  j.token = CASE WHEN exhausted THEN null ELSE $token END,
  j.lease_expires_at = CASE WHEN exhausted THEN null ELSE datetime() + duration({milliseconds: $ttl_ms}) END,
  j.attempts = CASE WHEN exhausted THEN j.attempts ELSE j.attempts + 1 END,
  j.started_at = coalesce(j.started_at, datetime()), j.updated_at = datetime()
RETURN j {.*} AS j, exhausted`

// failUnreadable ends a job whose stored request cannot be read.
const failUnreadable = `
MATCH (j:Job {id: $id})
SET j.status = 'FAILED', j.error = $error, j.completed_at = datetime(), j.updated_at = datetime(),
  j.token = null, j.holder = null, j.lease_expires_at = null`

// ClaimJob claims the next job that can run for holder, with a lease of
// ttl, among the jobs of tenants (nil: every tenant); ok is false when none
// can (a job found exhausted or unreadable is FAILED on the way). Errors:
// Unavailable. Safe for concurrent use (also across processes).
func (s *Store) ClaimJob(ctx context.Context, holder string, ttl time.Duration, tenants []string) (job graph.Job, ok bool, err error) {
	const op = "claim job"
	params := map[string]any{"holder": holder, "token": newToken(), "ttl_ms": ttl.Milliseconds(), "tenants": nil}
	if tenants != nil {
		params["tenants"] = tenants
	}
	res, err := s.write(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		recs, err := collect(ctx, tx, claimJob, params)
		if err != nil || len(recs) == 0 {
			return nil, err
		}
		if exhausted, _ := recs[0].Get("exhausted"); exhausted == true {
			return nil, nil
		}
		j, err := jobFrom(recs[0])
		if err != nil {
			v, _ := recs[0].Get("j")
			id := str(v.(map[string]any), "id")
			_, ferr := collect(ctx, tx, failUnreadable, map[string]any{"id": id, "error": "the stored request cannot be read: " + err.Error()})
			return nil, ferr
		}
		return j, nil
	})
	if err != nil {
		return graph.Job{}, false, translate(op, err)
	}
	if res == nil {
		return graph.Job{}, false, nil
	}
	return res.(graph.Job), true, nil
}

const renewJob = `
MATCH (j:Job {id: $id})
WHERE j.token = $token AND j.status = 'RUNNING' AND j.lease_expires_at > datetime()
SET j.lease_expires_at = datetime() + duration({milliseconds: $ttl_ms})
RETURN count(j) AS n`

// RenewJob extends the lease of a claimed job (the worker's heartbeat).
// Errors: Conflict (the lease lapsed or the job was taken over), Unavailable.
func (s *Store) RenewJob(ctx context.Context, job graph.Job, ttl time.Duration) error {
	const op = "renew job"
	params := map[string]any{"id": job.ID, "token": job.Token, "ttl_ms": ttl.Milliseconds()}
	res, err := s.writeRecords(ctx, renewJob, params)
	if err != nil {
		return translate(op, err)
	}
	if n, _ := res[0].Get("n"); n != int64(1) {
		return graph.E(graph.Conflict, op, "job %s: lease lost", job.ID)
	}
	return nil
}

// finishJob ends a run: SUCCEEDED with the result, FAILED with the error,
// or back to PENDING (due after retryIn) for another attempt.
const finishJob = `
MATCH (j:Job {id: $id})
WHERE j.token = $token AND j.status = 'RUNNING'
SET j.status = $status, j.result = $result, j.error = $error, j.updated_at = datetime(),
  j.completed_at = CASE WHEN $status IN ['SUCCEEDED', 'FAILED'] THEN datetime() END,
  j.run_at = datetime() + duration({milliseconds: $retry_ms}),
  j.token = null, j.holder = null, j.lease_expires_at = null
RETURN count(j) AS n`

// FinishJob records the end of a claimed job's run: status SUCCEEDED (with
// result), FAILED (with errText), or PENDING again (errText kept, due after
// retryIn). Errors: Conflict (the claim was lost: another worker owns the
// job now), Unavailable.
func (s *Store) FinishJob(ctx context.Context, job graph.Job, status graph.JobStatus, result *graph.AddResult, errText string, retryIn time.Duration) error {
	const op = "finish job"
	var res any
	if result != nil {
		b, err := json.Marshal(result)
		if err != nil {
			return graph.Wrap(graph.Other, op, err)
		}
		res = string(b)
	}
	params := map[string]any{"id": job.ID, "token": job.Token, "status": string(status), "result": res,
		"error": nullable(errText), "retry_ms": retryIn.Milliseconds()}
	out, err := s.writeRecords(ctx, finishJob, params)
	if err != nil {
		return translate(op, err)
	}
	if n, _ := out[0].Get("n"); n != int64(1) {
		return graph.E(graph.Conflict, op, "job %s: claim lost", job.ID)
	}
	return nil
}

const getJob = `
MATCH (j:Job {id: $id})
WHERE {{scope j}}
RETURN j {.*} AS j`

// GetJob returns one job of the tenant. Errors: Invalid, NotFound,
// Unavailable.
func (s *Store) GetJob(ctx context.Context, tenant, id string) (graph.Job, error) {
	const op = "get event"
	scope := graph.Scope{Tenant: tenant}
	if err := checkScopeAndID(op, scope, id); err != nil {
		return graph.Job{}, err
	}
	params := map[string]any{"id": id}
	q := scoped(getJob, scope, params)
	// Neo4j reads committed data property by property: a read that races
	// the transaction finishing the job (status, result and completion
	// time in one write) or deleting it can see part of it. Such a torn
	// view is read again; a job still half there after that is gone.
	for attempt := 0; ; attempt++ {
		recs, err := s.readRecords(ctx, q, params)
		if err != nil {
			return graph.Job{}, translate(op, err)
		}
		if len(recs) == 0 {
			return graph.Job{}, graph.E(graph.NotFound, op, "event %s not found", id)
		}
		j, err := jobFrom(recs[0])
		if err == nil && whole(j) {
			return j, nil
		}
		if attempt == tornReads {
			if err != nil {
				return graph.Job{}, graph.E(graph.NotFound, op, "event %s not found (being deleted)", id)
			}
			return j, nil
		}
		select {
		case <-ctx.Done():
			return graph.Job{}, translate(op, ctx.Err())
		case <-time.After(time.Duration(attempt+1) * 5 * time.Millisecond):
		}
	}
}

// tornReads is how many times GetJob reads a job again that it saw in part.
const tornReads = 3

// whole reports whether a job read carries everything its status implies:
// its id, a finished job its completion time, a succeeded one its result, a
// failed one its error.
func whole(j graph.Job) bool {
	switch {
	case j.ID == "":
		return false
	case j.Status == graph.JobSucceeded:
		return j.Result != nil && j.CompletedAt != nil
	case j.Status == graph.JobFailed:
		return j.Error != "" && j.CompletedAt != nil
	}
	return true
}

// jobFrom maps a j {.*} projection.
func jobFrom(rec *neo4j.Record) (graph.Job, error) {
	v, _ := rec.Get("j")
	p, ok := v.(map[string]any)
	if !ok {
		return graph.Job{}, graph.E(graph.Other, "read job", "unexpected record %v", rec.Keys)
	}
	j := graph.Job{
		ID: str(p, "id"), Scope: scopeFrom(p), Status: graph.JobStatus(str(p, "status")),
		Error: str(p, "error"), CreatedAt: timeOf(p, "created_at"), UpdatedAt: timeOf(p, "updated_at"),
		StartedAt: timePtr(p, "started_at"), CompletedAt: timePtr(p, "completed_at"),
		Holder: str(p, "holder"), Token: str(p, "token"),
	}
	if n, ok := p["attempts"].(int64); ok {
		j.Attempts = int(n)
	}
	if n, ok := p["max_attempts"].(int64); ok {
		j.MaxAttempts = int(n)
	}
	if err := unmarshalNumbers(str(p, "request"), &j.Request); err != nil {
		return graph.Job{}, graph.Wrap(graph.Other, "read job request", err)
	}
	j.Request.Metadata = graph.NormalizeNumbers(j.Request.Metadata).(map[string]any)
	j.Request.Scope = j.Scope
	if r := str(p, "result"); r != "" {
		var res graph.AddResult
		if err := json.Unmarshal([]byte(r), &res); err != nil {
			return graph.Job{}, graph.Wrap(graph.Other, "read job result", err)
		}
		j.Result = &res
	}
	return j, nil
}

// unmarshalNumbers decodes JSON keeping numbers as json.Number, so integers
// stay exact (numbers turns them into int64 or float64).
func unmarshalNumbers(text string, v any) error {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	return dec.Decode(v)
}
