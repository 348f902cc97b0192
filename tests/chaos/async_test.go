package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neomem/neomem/testcontainers/neomem"
)

// asyncAdds is how many asynchronous adds one run sends: 200 by default,
// 1,000 with NEOMEM_CHAOS=long, or NEOMEM_CHAOS_ASYNC_ADDS.
func asyncAdds(t *testing.T) int {
	n := 200
	if os.Getenv("NEOMEM_CHAOS") == "long" {
		n = 1000
	}
	if raw := os.Getenv("NEOMEM_CHAOS_ASYNC_ADDS"); raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil || v < 20 || v > 100000 {
			t.Fatalf("NEOMEM_CHAOS_ASYNC_ADDS=%q: want a count from 20 to 100000", raw)
		}
		n = v
	}
	return n
}

// TestAsyncAddsSurviveWorkerKill sends asynchronous adds (infer=false)
// spread over three server processes that all run workers, from one client
// per scope that sends its scope's adds one after the other. One server is
// SIGKILLed while one of its workers holds a job; requests that got no
// answer are retried on another server with the same Idempotency-Key. Every
// acknowledged job must end SUCCEEDED, each add written exactly once (one
// memory and one ADD event per add), and each scope's memories in the order
// its adds were acknowledged.
func TestAsyncAddsSurviveWorkerKill(t *testing.T) {
	total := asyncAdds(t)
	const scopes = 10
	perScope := total / scopes
	d := startNeo4j(t)
	tenant := "chaos-async-" + randomHex(4)
	model := neomem.StartFakeLLM(t, "fakellm-async")
	servers := make([]*neomem.Server, 3)
	for i := range servers {
		servers[i] = neomem.StartServer(t, fmt.Sprintf("neomem-%c", 'a'+i), serverEnv(d, model, tenant, map[string]string{
			"NEOMEM_LEASE_TTL": leaseTTL.String(),
			"NEOMEM_WORKERS":   "2",
		}))
	}
	victim := servers[2]
	var alive [3]atomic.Bool
	for i := range alive {
		alive[i].Store(true)
	}

	client := &http.Client{Timeout: 30 * time.Second}
	type ack struct{ event, text string }
	acked := make([][]ack, scopes)
	var sent, retried atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for sc := range scopes {
		wg.Go(func() {
			user := fmt.Sprintf("async-%02d", sc)
			for i := range perScope {
				text := fmt.Sprintf("%s note %04d", user, i)
				body := addBody(user, text, false)
				body["async"] = true
				key := newUUID()
				var r response
				for attempt := 0; ; attempt++ {
					s := (sc + i + attempt) % 3
					if !alive[s].Load() {
						continue
					}
					r = post(context.Background(), client, servers[s].URL+"/memories", body, map[string]string{"Idempotency-Key": key})
					if r.err == nil && r.status == http.StatusAccepted {
						break
					}
					if attempt > 20 {
						t.Errorf("%s: no 202 after %d attempts: %d %v %s", text, attempt, r.status, r.err, r.body)
						return
					}
					retried.Add(1)
					time.Sleep(50 * time.Millisecond)
				}
				var out struct {
					EventID string `json:"event_id"`
				}
				if err := json.Unmarshal(r.body, &out); err != nil || out.EventID == "" {
					t.Errorf("%s: 202 without an event id: %s", text, r.body)
					return
				}
				acked[sc] = append(acked[sc], ack{out.EventID, text})
				sent.Add(1)
			}
		})
	}

	// Kill the victim once a third of the adds are in and one of its
	// workers holds a job.
	for sent.Load() < int64(total/3) && time.Since(start) < 2*time.Minute {
		time.Sleep(20 * time.Millisecond)
	}
	pid := victim.Cmd.Process.Pid
	deadline := time.Now().Add(30 * time.Second)
	for {
		recs := d.query(`MATCH (j:Job {tenant: $tenant, status: 'RUNNING'}) WHERE j.holder CONTAINS $pid RETURN count(j) AS n`,
			map[string]any{"tenant": tenant, "pid": fmt.Sprintf("/%d/", pid)})
		if recs[0].Values[0].(int64) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no job held by %s's workers within 30s", victim.Name)
		}
		time.Sleep(5 * time.Millisecond)
	}
	alive[2].Store(false)
	victim.Kill()
	killed := time.Now()
	t.Logf("%s (pid %d) killed holding a job, %d adds acknowledged so far", victim.Name, pid, sent.Load())
	wg.Wait()
	if t.Failed() {
		return
	}

	// Every acknowledged job ends SUCCEEDED.
	var statuses map[string]int64
	for {
		statuses = map[string]int64{}
		for _, rec := range d.query(`MATCH (j:Job {tenant: $tenant}) RETURN j.status AS s, count(*) AS n`, map[string]any{"tenant": tenant}) {
			statuses[rec.Values[0].(string)] = rec.Values[1].(int64)
		}
		if statuses["SUCCEEDED"]+statuses["FAILED"] >= int64(total) || time.Since(killed) > 3*time.Minute {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%d adds acknowledged in %v (%d retried on another server); jobs %v, all done %v after the kill",
		sent.Load(), time.Since(start).Round(time.Millisecond), retried.Load(), statuses, time.Since(killed).Round(time.Millisecond))
	if statuses["SUCCEEDED"] != int64(total) || len(statuses) != 1 {
		t.Fatalf("jobs by status %v, want %d SUCCEEDED and nothing else", statuses, total)
	}
	if n := d.query(`MATCH (j:Job {tenant: $tenant}) WHERE j.attempts > 1 RETURN count(j) AS n`,
		map[string]any{"tenant": tenant})[0].Values[0].(int64); n == 0 {
		t.Errorf("no job was taken over from the killed server")
	} else {
		t.Logf("%d jobs ran more than once (taken over from the killed server)", n)
	}

	// Exactly once: one memory and one ADD event per add, each from its job.
	rec := d.query(`
MATCH (m:Memory {tenant: $tenant})
OPTIONAL MATCH (e:Event {tenant: $tenant, target_id: m.id, op: 'ADD'})
WITH m, count(e) AS adds
RETURN count(m) AS memories, count(DISTINCT m.text) AS texts, sum(adds) AS adds,
  sum(CASE WHEN size(m.source) = 1 AND m.source[0] STARTS WITH 'job:' THEN 1 ELSE 0 END) AS sourced`,
		map[string]any{"tenant": tenant})[0]
	memories, texts, adds, sourced := rec.Values[0].(int64), rec.Values[1].(int64), rec.Values[2].(int64), rec.Values[3].(int64)
	if memories != int64(total) || texts != int64(total) || adds != int64(total) || sourced != int64(total) {
		t.Fatalf("%d memories (%d distinct texts), %d ADD events, %d naming their job; want %d of each", memories, texts, adds, sourced, total)
	}

	// Per-scope order: memories in creation order are the acknowledged order.
	for sc, acks := range acked {
		user := fmt.Sprintf("async-%02d", sc)
		recs := d.query(`MATCH (m:Memory {tenant: $tenant, user_id: $user}) RETURN m.text AS text ORDER BY m.created_at, m.id`,
			map[string]any{"tenant": tenant, "user": user})
		if len(recs) != len(acks) {
			t.Fatalf("%s: %d memories for %d acknowledged adds", user, len(recs), len(acks))
		}
		for i, r := range recs {
			if r.Values[0].(string) != acks[i].text {
				t.Fatalf("%s: memory %d is %q, want %q: the scope's jobs ran out of order", user, i, r.Values[0], acks[i].text)
			}
		}
	}
	// The event route answers for every acknowledged add.
	for _, acks := range acked {
		r := get(servers[0].URL + "/events/" + acks[len(acks)-1].event)
		if r.status != 200 || !json.Valid(r.body) {
			t.Fatalf("GET /events/%s = %d %s", acks[len(acks)-1].event, r.status, r.body)
		}
	}
	if in := d.check(tenant); !in.ok() {
		t.Errorf("partial writes: %v", in)
	}
}
