package cypher

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/graph"
)

// A scope lease serialises the adds of one scope across server processes: the
// lock is a (:ScopeLock) node in Neo4j, unique per scope key, so it holds for
// every replica. It is taken and released in short transactions of its own;
// the model calls of an add run between them, outside any transaction. Its
// time comes from Neo4j's clock only (datetime()), so replicas with skewed
// clocks agree on when a lease has expired.

// Backoff between attempts to take a busy lease: a random wait between
// leaseMinBackoff and a bound that starts at leaseFirstBound and doubles up
// to leaseMaxBackoff.
const (
	leaseMinBackoff = 10 * time.Millisecond
	leaseFirstBound = 50 * time.Millisecond
	leaseMaxBackoff = 250 * time.Millisecond
)

// acquireLease takes the scope's lock if it is free or expired. The first SET
// takes the node's write lock before the lock's state is read, so of two
// concurrent attempts the second reads what the first committed (Neo4j reads
// committed data; without the lock both could see it free).
const acquireLease = `
MERGE (l:ScopeLock {scope_key: $scope_key})
ON CREATE SET l.tenant = $tenant, l.user_id = $user_id, l.agent_id = $agent_id, l.run_id = $run_id,
  l.created_at = datetime()
WITH l
WHERE {{scope l}}
SET l.checked_at = datetime()
WITH l, (l.token IS NULL OR l.expires_at IS NULL OR l.expires_at <= datetime()) AS free
SET l.holder = CASE WHEN free THEN $holder ELSE l.holder END,
  l.token = CASE WHEN free THEN $token ELSE l.token END,
  l.expires_at = CASE WHEN free THEN datetime() + duration({milliseconds: $ttl_ms}) ELSE l.expires_at END
RETURN free, l.expires_at AS expires_at`

// AcquireLease takes the lock of scope (which needs at least one id) for
// holder, for ttl. When another holder has it, it retries with a small
// jittered backoff until wait has passed (wait 0 tries once). The returned
// Lease's Token is the fencing token Apply checks; a lease whose ttl has
// passed can be taken over by another holder, and Apply then refuses the
// stale one.
//
// Errors: Invalid (scope, holder, ttl, wait), Unavailable (the scope stayed
// busy for wait, the context ended, or Neo4j is unavailable). Safe for
// concurrent use.
func (s *Store) AcquireLease(ctx context.Context, scope graph.Scope, holder string, ttl, wait time.Duration) (graph.Lease, error) {
	const op = "acquire lease"
	if err := scope.ValidateSelector(op); err != nil {
		return graph.Lease{}, err
	}
	var bad []graph.FieldError
	if strings.TrimSpace(holder) == "" || len(holder) > graph.MaxScopeIDLen {
		bad = append(bad, graph.FieldError{Path: "holder", Message: "must be non-empty and at most 256 bytes"})
	}
	if ttl < time.Millisecond {
		bad = append(bad, graph.FieldError{Path: "ttl", Message: "must be at least 1ms"})
	}
	if wait < 0 {
		bad = append(bad, graph.FieldError{Path: "wait", Message: "must not be negative"})
	}
	if len(bad) > 0 {
		return graph.Lease{}, graph.InvalidFields(op, bad...)
	}
	deadline := time.Now().Add(wait)
	bound := leaseFirstBound
	for {
		lease, ok, err := s.tryLease(ctx, scope, holder, ttl)
		// A Conflict is two first MERGEs of the same scope racing on the
		// uniqueness constraint: the lock exists now, so try again.
		if err != nil && !errors.Is(err, graph.Conflict) {
			return graph.Lease{}, translate(op, err)
		}
		if ok {
			return lease, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return graph.Lease{}, graph.E(graph.Unavailable, op, "scope %s is busy: another add holds its lock; retry later", describeScope(scope))
		}
		pause := min(leaseMinBackoff+rand.N(bound-leaseMinBackoff), left)
		bound = min(2*bound, leaseMaxBackoff)
		timer := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			timer.Stop()
			return graph.Lease{}, graph.Wrap(graph.Unavailable, op, ctx.Err())
		case <-timer.C:
		}
	}
}

// tryLease makes one attempt; ok reports whether the lease was taken.
func (s *Store) tryLease(ctx context.Context, scope graph.Scope, holder string, ttl time.Duration) (graph.Lease, bool, error) {
	token := newToken()
	params := map[string]any{
		"scope_key": scope.Key(),
		"holder":    holder,
		"token":     token,
		"ttl_ms":    ttl.Milliseconds(),
	}
	q := scoped(acquireLease, scope, params)
	res, err := s.write(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		recs, err := collect(ctx, tx, q, params)
		if err != nil {
			return nil, err
		}
		if len(recs) != 1 {
			return nil, graph.E(graph.Other, "acquire lease", "lock query returned %d rows", len(recs))
		}
		return recs[0].AsMap(), nil
	})
	if err != nil {
		return graph.Lease{}, false, translate("acquire lease", err)
	}
	m := res.(map[string]any)
	if free, _ := m["free"].(bool); !free {
		return graph.Lease{}, false, nil
	}
	return graph.Lease{Scope: scope, Holder: holder, Token: token, Expires: timeOf(m, "expires_at")}, true, nil
}

// newToken returns 128 random bits in hex.
func newToken() string {
	var b [16]byte
	// crypto/rand.Read never fails on supported platforms (see graph.NewID).
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// describeScope names a scope for messages, without the tenant.
func describeScope(s graph.Scope) string {
	var parts []string
	for _, f := range []struct{ k, v string }{{"user_id", s.UserID}, {"agent_id", s.AgentID}, {"run_id", s.RunID}} {
		if f.v != "" {
			parts = append(parts, fmt.Sprintf("%s=%q", f.k, f.v))
		}
	}
	return "{" + strings.Join(parts, " ") + "}"
}

const releaseLease = `
MATCH (l:ScopeLock {scope_key: $scope_key})
WHERE {{scope l}}
  AND l.token = $token
SET l.holder = null, l.token = null, l.expires_at = null, l.released_at = datetime()
RETURN count(l) AS released`

// ReleaseLease frees the scope's lock if lease still holds it (its token
// matches). A lease that expired and was taken over by another holder is
// left alone: releasing is then a no-op, not an error.
// Errors: Invalid (scope, empty token), Unavailable.
func (s *Store) ReleaseLease(ctx context.Context, lease graph.Lease) error {
	const op = "release lease"
	if err := lease.Scope.ValidateSelector(op); err != nil {
		return err
	}
	if lease.Token == "" {
		return graph.InvalidFields(op, graph.FieldError{Path: "token", Message: "is required"})
	}
	params := map[string]any{"scope_key": lease.Scope.Key(), "token": lease.Token}
	q := scoped(releaseLease, lease.Scope, params)
	_, err := s.writeRecords(ctx, q, params)
	return translate(op, err)
}

// renewLease extends a lease that is still held (its token matches and it has
// not expired, by Neo4j's clock).
const renewLease = `
MATCH (l:ScopeLock {scope_key: $scope_key})
WHERE {{scope l}}
  AND l.token = $token
  AND l.expires_at > datetime()
SET l.expires_at = datetime() + duration({milliseconds: $ttl_ms}), l.renewed_at = datetime()
RETURN l.expires_at AS expires_at`

// RenewLease extends lease by ttl from now: the heartbeat of a holder that is
// still working. A lease that expired (or was taken over) is not renewed: a
// holder that missed its heartbeats must not come back, because another one
// may have decided on the scope meanwhile. Errors: Invalid, Conflict (the
// lease is lost), Unavailable. Safe for concurrent use.
func (s *Store) RenewLease(ctx context.Context, lease graph.Lease, ttl time.Duration) (graph.Lease, error) {
	const op = "renew lease"
	if err := lease.Scope.ValidateSelector(op); err != nil {
		return graph.Lease{}, err
	}
	if lease.Token == "" || ttl < time.Millisecond {
		return graph.Lease{}, graph.InvalidFields(op, graph.FieldError{Path: "lease", Message: "needs a token and a ttl of at least 1ms"})
	}
	params := map[string]any{"scope_key": lease.Scope.Key(), "token": lease.Token, "ttl_ms": ttl.Milliseconds()}
	q := scoped(renewLease, lease.Scope, params)
	recs, err := s.writeRecords(ctx, q, params)
	if err != nil {
		return graph.Lease{}, translate(op, err)
	}
	if len(recs) == 0 {
		return graph.Lease{}, graph.E(graph.Conflict, op, "lease lost: the lock of scope %s expired or was taken over", describeScope(lease.Scope))
	}
	lease.Expires = timeOf(recs[0].AsMap(), "expires_at")
	return lease, nil
}
