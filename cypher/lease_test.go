package cypher_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neomem/neomem/graph"
)

func TestLease(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "alice", RunID: "r1"}
	p := map[string]any{"key": scope.Key(), "t": tenant}
	holderIs := func(want string) {
		t.Helper()
		got := rows(t, `MATCH (l:ScopeLock {scope_key: $key}) RETURN l.holder AS holder, l.token AS token`, p)
		if len(got) != 1 {
			t.Fatalf("ScopeLock nodes: %d, want 1", len(got))
		}
		if h, _ := got[0]["holder"].(string); h != want {
			t.Fatalf("lock holder = %q, want %q", h, want)
		}
	}

	first, err := s.AcquireLease(ctx, scope, "first", time.Minute, 0)
	if err != nil {
		t.Fatalf("AcquireLease: %v", err)
	}
	if first.Token == "" || first.Holder != "first" || first.Scope != scope || time.Until(first.Expires) < 50*time.Second {
		t.Fatalf("lease = %+v", first)
	}
	p["token"] = first.Token
	if n := count(t, `MATCH (l:ScopeLock {scope_key: $key}) WHERE l.tenant = $t AND l.user_id = 'alice' AND l.run_id = 'r1'
		AND l.agent_id IS NULL AND l.token = $token AND l.expires_at > datetime() RETURN count(l) AS n`, p); n != 1 {
		t.Fatalf("lock node: %d matches, want 1", n)
	}

	// Busy: another holder waits, then gets Unavailable.
	start := time.Now()
	_, err = s.AcquireLease(ctx, scope, "second", time.Minute, 150*time.Millisecond)
	wantKind(t, "AcquireLease of a held scope", err, graph.Unavailable)
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Fatalf("gave up after %v, want at least the 150ms wait", waited)
	}
	// Other scopes are not affected.
	if l, err := s.AcquireLease(ctx, graph.Scope{Tenant: tenant, UserID: "alice"}, "other", time.Minute, 0); err != nil {
		t.Fatalf("AcquireLease of another scope: %v", err)
	} else if err := s.ReleaseLease(ctx, l); err != nil {
		t.Fatal(err)
	}

	// A stale token releases nothing.
	if err := s.ReleaseLease(ctx, graph.Lease{Scope: scope, Token: "stale"}); err != nil {
		t.Fatalf("ReleaseLease with a stale token: %v", err)
	}
	holderIs("first")
	if err := s.ReleaseLease(ctx, first); err != nil {
		t.Fatalf("ReleaseLease: %v", err)
	}
	holderIs("")

	// An expired lease is taken over; its late release is a no-op.
	short, err := s.AcquireLease(ctx, scope, "short", 50*time.Millisecond, 0)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	next, err := s.AcquireLease(ctx, scope, "next", time.Minute, 0)
	if err != nil {
		t.Fatalf("AcquireLease of an expired lease: %v", err)
	}
	if next.Token == short.Token {
		t.Fatal("the new lease reuses the old token")
	}
	if err := s.ReleaseLease(ctx, short); err != nil {
		t.Fatal(err)
	}
	holderIs("next")

	// A waiting holder gets the lease once it is released.
	go func() {
		time.Sleep(100 * time.Millisecond)
		_ = s.ReleaseLease(ctx, next)
	}()
	waiter, err := s.AcquireLease(ctx, scope, "waiter", time.Minute, 5*time.Second)
	if err != nil {
		t.Fatalf("AcquireLease while the holder releases: %v", err)
	}
	holderIs("waiter")
	if err := s.ReleaseLease(ctx, waiter); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		scope     graph.Scope
		holder    string
		ttl, wait time.Duration
	}{
		{"no scope id", graph.Scope{Tenant: tenant}, "h", time.Second, 0},
		{"no holder", scope, " ", time.Second, 0},
		{"no ttl", scope, "h", 0, 0},
		{"negative wait", scope, "h", time.Second, -time.Second},
	}
	for _, tt := range tests {
		_, err := s.AcquireLease(ctx, tt.scope, tt.holder, tt.ttl, tt.wait)
		wantKind(t, "AcquireLease with "+tt.name, err, graph.Invalid)
	}
	err = s.ReleaseLease(ctx, graph.Lease{Scope: scope})
	wantKind(t, "ReleaseLease without a token", err, graph.Invalid)

	cctx, cancel := context.WithCancel(ctx)
	held, err := s.AcquireLease(ctx, scope, "held", time.Minute, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.ReleaseLease(ctx, held)
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = s.AcquireLease(cctx, scope, "cancelled", time.Minute, time.Minute)
	wantKind(t, "AcquireLease with a cancelled context", err, graph.Unavailable)
}

// TestLeaseContention: goroutines (as separate server processes would) take
// the same scope's lease in turn; never are two inside at once, and every
// one gets its turn.
func TestLeaseContention(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, AgentID: "busy"}
	const workers, rounds = 10, 3
	var inside, maxInside, turns atomic.Int64
	tokens := sync.Map{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				l, err := s.AcquireLease(ctx, scope, "worker", 30*time.Second, 30*time.Second)
				if err != nil {
					t.Errorf("worker %d: AcquireLease: %v", w, err)
					return
				}
				if _, dup := tokens.LoadOrStore(l.Token, true); dup {
					t.Errorf("token %s handed out twice", l.Token)
				}
				n := inside.Add(1)
				for {
					m := maxInside.Load()
					if n <= m || maxInside.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(5 * time.Millisecond)
				inside.Add(-1)
				turns.Add(1)
				if err := s.ReleaseLease(ctx, l); err != nil {
					t.Errorf("worker %d: ReleaseLease: %v", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if m := maxInside.Load(); m != 1 {
		t.Fatalf("at most %d holders at once, want 1", m)
	}
	if n := turns.Load(); n != workers*rounds {
		t.Fatalf("turns = %d, want %d", n, workers*rounds)
	}
	if n := count(t, `MATCH (l:ScopeLock {scope_key: $key}) RETURN count(l) AS n`, map[string]any{"key": scope.Key()}); n != 1 {
		t.Fatalf("ScopeLock nodes for the scope: %d, want 1", n)
	}
}
