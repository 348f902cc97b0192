package cypher

import (
	"context"
	"encoding/json"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/graph"
)

// Idempotency keys are (:IdempotencyKey {tenant, key}) nodes, unique per
// tenant and key. A write that carries a graph.Once claims its key at the
// start of its transaction and records its result at the end, so the key and
// the write commit together or not at all: a client that retries after a
// lost answer gets the first answer, never a second write.

// DefaultOnceTTL is how long an idempotency key is kept.
const DefaultOnceTTL = 24 * time.Hour

// claimOnce takes the key's write lock (MERGE on the unique (tenant, key)
// waits for a concurrent claim of the same key to commit or roll back) and
// says what the key holds: new or expired (free: claimed for this request),
// a recorded result (done), or no result yet — a write spanning several
// transactions (a batched delete) that did not finish, which the same
// request may resume and another may not. The first SET takes the lock
// before anything of the key is read.
const claimOnce = `
MERGE (k:IdempotencyKey {tenant: $tenant, key: $key})
ON CREATE SET k.created = true
ON MATCH SET k.created = false
WITH k
WITH k, k.created OR k.expires_at <= datetime() AS free
SET k.fingerprint = CASE WHEN free THEN $fingerprint ELSE k.fingerprint END,
  k.scope_key = CASE WHEN free THEN $scope_key ELSE k.scope_key END,
  k.user_id = CASE WHEN free THEN $user_id ELSE k.user_id END,
  k.agent_id = CASE WHEN free THEN $agent_id ELSE k.agent_id END,
  k.run_id = CASE WHEN free THEN $run_id ELSE k.run_id END,
  k.created_at = CASE WHEN free THEN datetime() ELSE k.created_at END,
  k.expires_at = CASE WHEN free THEN datetime() + duration({milliseconds: $ttl_ms}) ELSE k.expires_at END,
  k.result = CASE WHEN free THEN null ELSE k.result END
REMOVE k.created
RETURN free OR (k.result IS NULL AND k.fingerprint = $fingerprint) AS go`

// fenceJob checks, inside the write's transaction, that the job is still
// claimed with the token (and write-locks it until commit, so a worker
// taking it over waits and then sees the outcome).
const fenceJob = `
MATCH (j:Job {id: $id})
WHERE j.tenant = $tenant
SET j.fenced_at = datetime()
WITH j
WHERE j.status = 'RUNNING' AND j.token = $token
RETURN count(j) AS n`

// recordOnce stores the result with the claimed key, and for a job marks it
// SUCCEEDED with the result in the same transaction.
const recordOnce = `
MATCH (k:IdempotencyKey {tenant: $tenant, key: $key})
SET k.result = $result
WITH k
OPTIONAL MATCH (j:Job {id: $job_id})
WHERE j.tenant = $tenant AND j.token = $job_token
SET j.status = 'SUCCEEDED', j.result = $result, j.error = null, j.completed_at = datetime(), j.updated_at = datetime(),
  j.token = null, j.holder = null, j.lease_expires_at = null
RETURN count(k) AS n`

// claim claims o's key for a write in scope (its tenant; its ids, when it
// has any, are recorded with the key so erasing the scope erases the
// answer) inside tx; Done when the key was already recorded (or is in use
// by another request), Conflict when o's job is no longer claimed by this
// worker. A nil o is a write without a key.
func (s *Store) claim(ctx context.Context, tx neo4j.ManagedTransaction, op string, scope graph.Scope, o *graph.Once) error {
	if o == nil {
		return nil
	}
	tenant, scopeKey := scope.Tenant, ""
	if scope.HasID() {
		scopeKey = scope.Key()
	}
	if o.JobID != "" {
		recs, err := collect(ctx, tx, fenceJob, map[string]any{"id": o.JobID, "tenant": tenant, "token": o.JobToken})
		if err != nil {
			return err
		}
		if n, _ := recs[0].Get("n"); n != int64(1) {
			return graph.E(graph.Conflict, op, "job %s is no longer claimed by this worker", o.JobID)
		}
	}
	params := map[string]any{"tenant": tenant, "key": o.Key, "fingerprint": o.Fingerprint,
		"scope_key": nullable(scopeKey), "user_id": nullable(scope.UserID), "agent_id": nullable(scope.AgentID),
		"run_id": nullable(scope.RunID), "ttl_ms": s.cfg.OnceTTL.Milliseconds()}
	recs, err := collect(ctx, tx, claimOnce, params)
	if err != nil {
		return err
	}
	if ok, _ := recs[0].Get("go"); ok != true {
		return graph.Done(op)
	}
	return nil
}

// record stores the write's result with o's key inside tx: o.Result when the
// caller gave it, else v as JSON.
func record(ctx context.Context, tx neo4j.ManagedTransaction, tenant string, o *graph.Once, v any) error {
	if o == nil {
		return nil
	}
	b := []byte(o.Result)
	if b == nil {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return graph.Wrap(graph.Other, "record idempotency key", err)
		}
	}
	_, err := collect(ctx, tx, recordOnce, map[string]any{"tenant": tenant, "key": o.Key, "result": string(b),
		"job_id": nullable(o.JobID), "job_token": nullable(o.JobToken)})
	return err
}

// checkOnce validates a write's key before any transaction.
func checkOnce(op string, o *graph.Once) error {
	if o == nil {
		return nil
	}
	if o.Key == "" || len(o.Key) > graph.MaxOnceKey {
		return graph.InvalidFields(op, graph.FieldError{Path: "Idempotency-Key", Message: "must be 1 to 255 characters"})
	}
	return nil
}

const recallOnce = `
MATCH (k:IdempotencyKey {tenant: $tenant, key: $key})
WHERE k.expires_at > datetime()
RETURN k.fingerprint AS fingerprint, k.result AS result, k.created_at AS created_at, k.expires_at AS expires_at`

// Recall returns what was recorded for tenant's idempotency key; ok is false
// when the key is unknown or expired. Errors: Invalid, Unavailable.
func (s *Store) Recall(ctx context.Context, tenant, key string) (rec graph.Recorded, ok bool, err error) {
	const op = "recall idempotency key"
	if err := (graph.Scope{Tenant: tenant}).Validate(op); err != nil {
		return graph.Recorded{}, false, err
	}
	if err := checkOnce(op, &graph.Once{Key: key}); err != nil {
		return graph.Recorded{}, false, err
	}
	params := map[string]any{"tenant": tenant, "key": key}
	recs, err := s.readRecords(ctx, recallOnce, params)
	if err != nil {
		return graph.Recorded{}, false, translate(op, err)
	}
	if len(recs) == 0 {
		return graph.Recorded{}, false, nil
	}
	p := recs[0].AsMap()
	rec = graph.Recorded{Key: key, Fingerprint: str(p, "fingerprint"), CreatedAt: timeOf(p, "created_at"), ExpiresAt: timeOf(p, "expires_at")}
	if r := str(p, "result"); r != "" {
		rec.Result = json.RawMessage(r)
	}
	return rec, true, nil
}

const purgeOnce = `
MATCH (k:IdempotencyKey)
WHERE k.expires_at <= datetime()
WITH k LIMIT $batch
DELETE k
RETURN count(*) AS deleted`

// PurgeExpiredKeys deletes every idempotency key past its retention, in
// batches, and returns how many. Errors: Unavailable.
func (s *Store) PurgeExpiredKeys(ctx context.Context) (int, error) {
	total := 0
	for {
		res, err := s.write(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
			recs, err := collect(ctx, tx, purgeOnce, map[string]any{"batch": int64(s.cfg.DeleteBatch)})
			if err != nil {
				return nil, err
			}
			n, _, err := neo4j.GetRecordValue[int64](recs[0], "deleted")
			return n, err
		})
		if err != nil {
			return total, translate("purge idempotency keys", err)
		}
		n := int(res.(int64))
		total += n
		if n < s.cfg.DeleteBatch {
			return total, nil
		}
	}
}
