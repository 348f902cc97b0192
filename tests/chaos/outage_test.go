package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neomem/neomem/testcontainers/neomem"
)

// Fail fast: while Neo4j is down, every error a client gets is a 503 with
// Retry-After, within this long of sending the request (issue #10).
const failFastBound = 5 * time.Second

// Writers' settings: how many, the pause between two texts, and how long
// (and how often) one text is retried before the writer gives up on it.
const (
	writers        = 4
	writerPause    = 20 * time.Millisecond
	retryPause     = 250 * time.Millisecond
	retryFor       = 90 * time.Second
	maxAttempts    = 200
	outageDowntime = 3 * time.Second
)

// attempt is one request of a writer, as the client saw it.
type attempt struct {
	writer     int
	sent       time.Time
	latency    time.Duration
	status     int // 0: no response
	retryAfter string
	err        string
}

// write is one unique text a writer adds, with its idempotency key.
type write struct {
	user      string // the scope: the writer's user_id
	text, key string
	acked     bool
	id        string // the memory id the 200 reported
	attempts  int
	gaveUp    string // why the writer stopped retrying, if it did
}

// ledger records every attempt and write of the writers.
type ledger struct {
	mu       sync.Mutex
	attempts []attempt
	writes   []*write
	acks     []int // per writer
}

func (l *ledger) record(a attempt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.attempts = append(l.attempts, a)
	if a.status == http.StatusOK {
		l.acks[a.writer]++
	}
}

func (l *ledger) ackCounts() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.acks...)
}

// TestNeo4jOutageFailsFastAndLosesNothing kills Neo4j under steady writers
// that retry each add with its Idempotency-Key until a 200, restarts it, and
// checks: every error during the outage was a 503 with Retry-After within
// failFastBound; every acknowledged text is stored exactly once.
func TestNeo4jOutageFailsFastAndLosesNothing(t *testing.T) {
	cfg := loadSettings(t)
	d := startNeo4j(t)
	model := neomem.StartFakeLLM(t, "fakellm")
	tenant := "chaos-outage-" + randomHex(4)
	srv := neomem.StartServer(t, "neomem", serverEnv(d, model, tenant, nil))

	l := &ledger{acks: make([]int, writers)}
	client := &http.Client{Timeout: 30 * time.Second}
	// stop ends the writers after the text each has in hand; abort (when
	// the test ends early) ends them at once.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	hard, abort := context.WithCancel(context.Background())
	t.Cleanup(abort)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runWriter(ctx, hard, client, srv.URL, w, l)
		}()
	}

	// progress waits until every writer has n more acknowledgements than in
	// from, or fails the test after limit.
	progress := func(what string, from []int, n int, limit time.Duration) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for {
			now := l.ackCounts()
			done := true
			for w := range now {
				if now[w] < from[w]+n {
					done = false
				}
			}
			if done {
				return
			}
			if time.Now().After(deadline) {
				stop()
				wg.Wait()
				t.Fatalf("%s: acknowledgements per writer %v, want %d more than %v within %v", what, now, n, from, limit)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	progress("before the first outage", make([]int, writers), 3, 60*time.Second)

	// An outage has two phases: Neo4j dead (killed, not yet restarted),
	// then starting (the runtime script's up until a query answers).
	type outage struct {
		killed, starting, restarted time.Time
	}
	var outages []outage
	for c := range cfg.outages {
		time.Sleep(time.Second)
		o := outage{killed: time.Now()}
		d.kill()
		time.Sleep(outageDowntime / 2)
		r := get(srv.URL + "/readyz")
		t.Logf("outage %d: GET /readyz while Neo4j is dead = %d %s (after %v)", c+1, r.status,
			strings.TrimSpace(string(r.body[:min(200, len(r.body))])), r.latency.Round(time.Millisecond))
		time.Sleep(outageDowntime - outageDowntime/2)
		o.starting = time.Now()
		d.up()
		o.restarted = time.Now()
		outages = append(outages, o)
		t.Logf("outage %d: Neo4j SIGKILLed, unreachable for %v (dead %v, then starting %v)", c+1,
			o.restarted.Sub(o.killed).Round(time.Millisecond), o.starting.Sub(o.killed).Round(time.Millisecond),
			o.restarted.Sub(o.starting).Round(time.Millisecond))
		progress(fmt.Sprintf("after outage %d", c+1), l.ackCounts(), 3, 60*time.Second)
	}
	time.Sleep(2 * time.Second)
	stop()
	wg.Wait()

	// What the clients saw, by the phase in which each request was sent.
	phaseOf := func(at time.Time) string {
		for _, o := range outages {
			switch {
			case at.Before(o.killed) || at.After(o.restarted):
			case at.Before(o.starting):
				return "dead"
			default:
				return "starting"
			}
		}
		return "up"
	}
	var errLat durations
	byPhase := map[string]durations{}
	var violations []string
	statuses := map[string]int{}
	for _, a := range l.attempts {
		key := fmt.Sprint(a.status)
		if a.status == 0 {
			key = "no response"
		}
		statuses[key]++
		k := fmt.Sprintf("%s, sent while Neo4j was %s", key, phaseOf(a.sent))
		byPhase[k] = append(byPhase[k], a.latency)
		if a.status == http.StatusOK {
			continue
		}
		errLat = append(errLat, a.latency)
		var bad []string
		if a.status != http.StatusServiceUnavailable {
			bad = append(bad, fmt.Sprintf("status %d %s", a.status, a.err))
		} else if a.retryAfter == "" {
			bad = append(bad, "503 without Retry-After")
		}
		if a.latency > failFastBound {
			bad = append(bad, fmt.Sprintf("after %v", a.latency.Round(time.Millisecond)))
		}
		if len(bad) > 0 {
			violations = append(violations, fmt.Sprintf("writer %d at %s: %s", a.writer, a.sent.Format("15:04:05.000"), strings.Join(bad, ", ")))
		}
	}
	var acked, gaveUp []*write
	retried := 0
	for _, w := range l.writes {
		if w.attempts > 1 {
			retried++
		}
		if w.acked {
			acked = append(acked, w)
		} else {
			gaveUp = append(gaveUp, w)
		}
	}
	t.Logf("requests: %d (statuses %v); texts: %d acknowledged, %d retried at least once, %d given up",
		len(l.attempts), statuses, len(acked), retried, len(gaveUp))
	t.Logf("error responses latency: %v (bound %v)", errLat, failFastBound)
	phases := make([]string, 0, len(byPhase))
	for k := range byPhase {
		phases = append(phases, k)
	}
	sort.Strings(phases)
	for _, k := range phases {
		t.Logf("  %s: %v", k, byPhase[k])
	}
	if len(errLat) == 0 {
		t.Errorf("no request failed during %d outage(s): the outage was not observed", len(outages))
	}
	if len(violations) > 0 {
		t.Errorf("%d error responses were not a 503 with Retry-After within %v; first ones:\n  %s",
			len(violations), failFastBound, strings.Join(violations[:min(10, len(violations))], "\n  "))
	}
	for _, w := range gaveUp {
		t.Errorf("writer gave up on %q after %d attempts: %s", w.text, w.attempts, w.gaveUp)
	}

	// What Neo4j holds: every acknowledged text exactly once.
	texts := make([]string, 0, len(l.writes))
	for _, w := range l.writes {
		texts = append(texts, w.text)
	}
	stored := storedTexts(d, tenant, texts)
	var lost, dups, wrongID []string
	for _, w := range acked {
		ids := stored[w.text]
		switch {
		case len(ids) == 0:
			lost = append(lost, w.text)
		case len(ids) > 1:
			dups = append(dups, fmt.Sprintf("%s ×%d (%d requests sent for it)", w.text, len(ids), w.attempts))
		}
		if len(ids) > 0 && w.id != "" && !slices.Contains(ids, w.id) {
			wrongID = append(wrongID, fmt.Sprintf("%s: acknowledged as %s, stored as %v", w.text, w.id, ids))
		}
	}
	committedUnacked := 0
	for _, w := range gaveUp {
		if len(stored[w.text]) > 0 {
			committedUnacked++
		}
	}
	sort.Strings(dups)
	t.Logf("Neo4j: %d acknowledged texts, %d lost, %d duplicated; %d of %d unacknowledged texts committed anyway",
		len(acked), len(lost), len(dups), committedUnacked, len(gaveUp))
	if len(lost) > 0 {
		t.Errorf("%d acknowledged texts are not in Neo4j: %v", len(lost), lost[:min(10, len(lost))])
	}
	if len(dups) > 0 {
		// One request sent and two memories: the server wrote twice itself
		// (a transaction retried after a commit whose answer was lost).
		t.Errorf("%d acknowledged texts are stored more than once:\n  %s",
			len(dups), strings.Join(dups[:min(10, len(dups))], "\n  "))
	}
	if len(wrongID) > 0 {
		t.Errorf("%d acknowledged ids are not the stored memory's:\n  %s", len(wrongID), strings.Join(wrongID[:min(10, len(wrongID))], "\n  "))
	}
	if in := d.check(tenant); !in.ok() {
		t.Errorf("partial writes: %v", in)
	} else {
		t.Logf("integrity: %v", in)
	}
	if len(acked) > 0 {
		checkReplay(t, client, srv.URL, d, tenant, acked[0])
	}
}

// storedTexts returns, for each text, the ids of the tenant's memories
// holding it.
func storedTexts(d *db, tenant string, texts []string) map[string][]string {
	d.t.Helper()
	out := map[string][]string{}
	for _, rec := range d.query(`
UNWIND $texts AS text
MATCH (m:Memory {tenant: $tenant})
WHERE m.text = text
RETURN text, collect(m.id) AS ids`, map[string]any{"tenant": tenant, "texts": texts}) {
		text, _ := rec.Get("text")
		ids, _ := rec.Get("ids")
		for _, id := range ids.([]any) {
			out[text.(string)] = append(out[text.(string)], id.(string))
		}
	}
	return out
}

// checkReplay sends an acknowledged add again, with Neo4j up: the same body
// and Idempotency-Key must answer 200 with the stored result and write
// nothing; the same key with another body must answer 422.
func checkReplay(t *testing.T, client *http.Client, base string, d *db, tenant string, w *write) {
	t.Helper()
	headers := map[string]string{"Idempotency-Key": w.key}
	r := post(context.Background(), client, base+"/memories", addBody(w.user, w.text, false), headers)
	var res addResult
	switch {
	case r.err != nil || r.status != http.StatusOK:
		t.Errorf("replay of an acknowledged add with its Idempotency-Key = %d %v %s, want 200", r.status, r.err, r.body)
	case json.Unmarshal(r.body, &res) != nil || len(res.Results) != 1 || res.Results[0].ID != w.id:
		t.Errorf("replay of an acknowledged add with its Idempotency-Key = %s, want the stored result (id %s)", r.body, w.id)
	}
	if ids := storedTexts(d, tenant, []string{w.text})[w.text]; len(ids) != 1 {
		t.Errorf("after a replay with the same Idempotency-Key, %q is stored %d times, want once", w.text, len(ids))
	}
	r = post(context.Background(), client, base+"/memories", addBody(w.user, w.text+" (changed)", false), headers)
	if r.status != http.StatusUnprocessableEntity {
		t.Errorf("the same Idempotency-Key with another body = %d %v %s, want 422", r.status, r.err, r.body)
	}
}

// runWriter adds unique texts, one at a time, until ctx ends; each is
// retried with the same body and Idempotency-Key on 5xx and connection
// errors until a 200 (bounded by maxAttempts and retryFor). The text in
// hand when ctx ends is still carried through; hard ends everything.
func runWriter(ctx, hard context.Context, client *http.Client, base string, id int, l *ledger) {
	for n := 0; ctx.Err() == nil; n++ {
		w := &write{user: fmt.Sprintf("writer-%d", id), text: fmt.Sprintf("chaos writer %d text %d %s", id, n, randomHex(6)), key: newUUID()}
		l.mu.Lock()
		l.writes = append(l.writes, w)
		l.mu.Unlock()
		body := addBody(w.user, w.text, false)
		headers := map[string]string{"Idempotency-Key": w.key}
		deadline := time.Now().Add(retryFor)
		for {
			w.attempts++
			sent := time.Now()
			r := post(hard, client, base+"/memories", body, headers)
			a := attempt{writer: id, sent: sent, latency: r.latency, status: r.status}
			if r.err != nil {
				a.err = r.err.Error()
			} else if r.status != http.StatusOK {
				a.err = strings.TrimSpace(string(r.body))
				a.retryAfter = r.header.Get("Retry-After")
			}
			l.record(a)
			if r.err == nil && r.status == http.StatusOK {
				var res addResult
				if err := json.Unmarshal(r.body, &res); err == nil && len(res.Results) == 1 {
					w.id = res.Results[0].ID
				}
				w.acked = true
				break
			}
			retryable := r.err != nil || r.status >= 500
			switch {
			case !retryable:
				w.gaveUp = fmt.Sprintf("status %d: %s", r.status, a.err)
			case hard.Err() != nil:
				w.gaveUp = "the test ended"
			case w.attempts >= maxAttempts || time.Now().After(deadline):
				w.gaveUp = fmt.Sprintf("still failing after %d attempts (last: %d %s)", w.attempts, r.status, a.err)
			}
			if w.gaveUp != "" {
				break
			}
			select {
			case <-hard.Done():
			case <-time.After(retryPause):
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(writerPause):
		}
	}
}
