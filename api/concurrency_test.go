package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/testcontainers"
)

// updater is what one concurrent client saw.
type updater struct {
	acked   []int       // n of every update answered 200
	retried map[int]int // 409s and 503s, each retried
}

// updateEvent is one UPDATE event of the memory, read with Cypher.
type updateEvent struct {
	old, new string
}

const updateEvents = `
MATCH (e:Event {tenant: $tenant, target_id: $id})
WHERE e.op = 'UPDATE'
RETURN e.old AS old, e.new AS new
ORDER BY e.at`

const memoryNode = `
MATCH (m:Memory {id: $id})
WHERE m.tenant = $tenant
RETURN m.text AS text, m.metadata AS metadata, properties(m) AS props`

// TestConcurrentUpdatesLoseNothing has 20 clients update one memory at once,
// each update adding its own metadata key, then checks that no acknowledged
// update was lost: not its metadata key, not its history event, and that the
// history is one unbroken chain from the first text to the current one. The
// clients are spread over two replicas of the API sharing the store, as
// several server processes would be.
func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	const clients, maxRequests = 20, 200
	seconds := 5.0
	if v := os.Getenv("NEOMEM_CHAOS_UPDATE_SECONDS"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			t.Fatalf("NEOMEM_CHAOS_UPDATE_SECONDS=%q is not a positive number of seconds", v)
		}
		seconds = f
	}
	// No rate limit: 20 clients on one key would otherwise meet 429s.
	srv := startServer(t, serverConfig{NoRateLimit: true, Replicas: 2})
	key, tenant := newKey(t, false)
	c := client{t: t, base: srv.base, key: key}
	id := addRaw(t, c, "chaos", "v0")

	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer hc.CloseIdleConnections()
	deadline := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	results := make([]updater, clients)
	var wg sync.WaitGroup
	for g := range clients {
		wg.Go(func() {
			r := &results[g]
			r.retried = map[int]int{}
			base := srv.replicas[g%len(srv.replicas)]
			requests := 0
			for n := 0; requests < maxRequests && time.Now().Before(deadline); n++ {
				body := map[string]any{"text": fmt.Sprintf("c%d-%d", g, n), "metadata": map[string]any{fmt.Sprintf("c%d_%d", g, n): n}}
				for requests < maxRequests && time.Now().Before(deadline) {
					requests++
					code, _, p, err := call(hc, base, key, "PUT", "/memories/"+id, nil, body)
					if err != nil {
						t.Errorf("client %d: %v", g, err)
						return
					}
					if code == 409 || code == 503 {
						r.retried[code]++
						time.Sleep(10 * time.Millisecond)
						continue
					}
					if code != 200 {
						t.Errorf("client %d: PUT %v = %d %v", g, body, code, p)
						return
					}
					r.acked = append(r.acked, n)
					break
				}
			}
		})
	}
	wg.Wait()
	acked, conflicts, unavailable := 0, 0, 0
	for _, r := range results {
		acked += len(r.acked)
		conflicts += r.retried[409]
		unavailable += r.retried[503]
	}
	t.Logf("%d clients for %.1fs: %d updates acknowledged, %d retried after 409, %d after 503", clients, seconds, acked, conflicts, unavailable)
	if acked == 0 {
		t.Fatal("no update was acknowledged")
	}

	// Every acknowledged metadata key is in the final metadata.
	code, m := c.do("GET", "/memories/"+id, nil)
	if code != 200 {
		t.Fatalf("GET /memories/%s = %d %v", id, code, m)
	}
	md, _ := m["metadata"].(map[string]any)
	lost := []string{}
	for g, r := range results {
		for _, n := range r.acked {
			k := fmt.Sprintf("c%d_%d", g, n)
			if v, ok := md[k]; !ok || v != float64(n) {
				lost = append(lost, k)
			}
		}
	}
	if len(lost) > 0 {
		t.Errorf("lost %d of %d metadata keys (first: %v)", len(lost), acked, lost[:min(len(lost), 10)])
	}

	// One UPDATE event per acknowledged update.
	ctx := context.Background()
	d := testcontainers.Driver(t)
	params := map[string]any{"tenant": tenant, "id": id}
	res, err := neo4j.ExecuteQuery(ctx, d, updateEvents, params, neo4j.EagerResultTransformer)
	if err != nil {
		t.Fatal(err)
	}
	var events []updateEvent
	for _, rec := range res.Records {
		old, _, _ := neo4j.GetRecordValue[string](rec, "old")
		nu, _, _ := neo4j.GetRecordValue[string](rec, "new")
		events = append(events, updateEvent{old: old, new: nu})
	}
	if len(events) != acked {
		t.Errorf("%d UPDATE events, want %d (one per acknowledged update)", len(events), acked)
	}

	// The history is one chain: v0 → … → the current text, every event on it
	// exactly once. Two events with the same old text are a fork: two updates
	// that read the same state and both wrote.
	byOld := map[string][]int{}
	for i, e := range events {
		byOld[e.old] = append(byOld[e.old], i)
	}
	forks := 0
	for i, e := range events {
		if is := byOld[e.old]; len(is) > 1 && is[0] == i {
			forks++
			if forks <= 5 {
				t.Errorf("history forks: %d UPDATE events have old %q", len(is), e.old)
			}
		}
	}
	visited := make([]bool, len(events))
	walked, cur := 0, "v0"
	for {
		is := byOld[cur]
		if len(is) == 0 || visited[is[0]] {
			break
		}
		e := events[is[0]]
		visited[is[0]] = true
		walked++
		cur = e.new
	}
	if walked != len(events) || forks > 0 {
		t.Errorf("history chain from %q visits %d of %d UPDATE events (%d forks)", "v0", walked, len(events), forks)
	} else if m["memory"] != cur {
		t.Errorf("final text %q, want %q (the new text of the chain's last event)", m["memory"], cur)
	}

	// The node's meta_* properties and metadata JSON match the API's metadata.
	res, err = neo4j.ExecuteQuery(ctx, d, memoryNode, params, neo4j.EagerResultTransformer)
	if err != nil || len(res.Records) != 1 {
		t.Fatalf("read the Memory node: %d records, %v", len(res.Records), err)
	}
	text, _, _ := neo4j.GetRecordValue[string](res.Records[0], "text")
	mdText, _, _ := neo4j.GetRecordValue[string](res.Records[0], "metadata")
	props, _, _ := neo4j.GetRecordValue[map[string]any](res.Records[0], "props")
	if text != m["memory"] {
		t.Errorf("node text %q, API text %q", text, m["memory"])
	}
	var stored map[string]any
	if err := json.Unmarshal([]byte(mdText), &stored); err != nil {
		t.Errorf("node metadata %q: %v", mdText, err)
	}
	if diff := cmp.Diff(md, stored); diff != "" {
		t.Errorf("node metadata JSON differs from the API's (-api +node):\n%s", diff)
	}
	flat, want := map[string]any{}, map[string]any{}
	for k, v := range props {
		if name, ok := strings.CutPrefix(k, "meta_"); ok {
			flat[name] = v
		}
	}
	for k, v := range md {
		if f, ok := v.(float64); ok && f == math.Trunc(f) {
			v = int64(f) // stored flattened as an integer
		}
		want[k] = v
	}
	if diff := cmp.Diff(want, flat); diff != "" {
		t.Errorf("meta_* properties differ from the metadata (-metadata +meta_*):\n%s", diff)
	}
}

// TestUpdateIfMatch: GET returns an ETag; PUT and DELETE with If-Match
// succeed only with the current one, and a stale one gets 412.
func TestUpdateIfMatch(t *testing.T) {
	srv := startServer(t, serverConfig{})
	key, _ := newKey(t, false)
	c := client{t: t, base: srv.base, key: key}
	id := addRaw(t, c, "etag", "v0")
	hc := &http.Client{Timeout: time.Minute}
	send := func(method string, hdr map[string]string, body any) (int, http.Header, map[string]any) {
		t.Helper()
		code, h, p, err := call(hc, srv.base, key, method, "/memories/"+id, hdr, body)
		if err != nil {
			t.Fatal(err)
		}
		return code, h, p
	}

	code, h, p := send("GET", nil, nil)
	etag := h.Get("ETag")
	if code != 200 || etag == "" {
		t.Fatalf("GET = %d, ETag %q, %v; want 200 with an ETag", code, etag, p)
	}
	code, h, p = send("PUT", map[string]string{"If-Match": etag}, map[string]any{"text": "v1"})
	current := h.Get("ETag")
	if code != 200 || p["memory"] != "v1" {
		t.Fatalf("PUT with the current ETag = %d %v, want 200", code, p)
	}
	if current == "" || current == etag {
		t.Fatalf("PUT returned ETag %q, want a new one (was %q)", current, etag)
	}
	code, h, p = send("PUT", map[string]string{"If-Match": etag}, map[string]any{"text": "v2"})
	if ct := h.Get("Content-Type"); code != 412 || ct != "application/problem+json" || p == nil {
		t.Fatalf("PUT with a stale ETag = %d %s %v, want 412 problem+json", code, ct, p)
	}
	if code, _, p := send("GET", nil, nil); code != 200 || p["memory"] != "v1" {
		t.Fatalf("GET after the refused PUT = %d %v, want text v1", code, p)
	}

	code, h, p = send("DELETE", map[string]string{"If-Match": etag}, nil)
	if ct := h.Get("Content-Type"); code != 412 || ct != "application/problem+json" {
		t.Fatalf("DELETE with a stale ETag = %d %s %v, want 412 problem+json", code, ct, p)
	}
	if code, _, p := send("GET", nil, nil); code != 200 {
		t.Fatalf("GET after the refused DELETE = %d %v, want the memory still there", code, p)
	}
	if code, _, p := send("DELETE", map[string]string{"If-Match": current}, nil); code != 200 {
		t.Fatalf("DELETE with the current ETag = %d %v, want 200", code, p)
	}
	if code, _, _ := send("GET", nil, nil); code != 404 {
		t.Fatalf("GET after DELETE = %d, want 404", code)
	}
}
