package api_test

import (
	"net/http"
	"testing"
	"time"
)

// TestAddTimestamp: Mem0's timestamp (Unix seconds) dates the memories of
// an add on the native route, the Mem0 route and an async add; a search
// that names that day ranks them by time (explain's time_rank); weights.time
// turns that off; a bad timestamp is a 400 at "timestamp" that stores
// nothing.
func TestAddTimestamp(t *testing.T) {
	key, tenant := newKey(t, false)
	srv := startServer(t, serverConfig{NoRateLimit: true, Workers: 1, WorkerTenants: []string{tenant}})
	c := client{t: t, base: srv.base, key: key}
	said := time.Date(2023, 5, 8, 13, 56, 0, 0, time.UTC)
	msg := func(text string) []any { return []any{map[string]any{"role": "user", "content": text}} }

	if code, p := c.do("POST", "/memories", map[string]any{"user_id": "u", "infer": false, "timestamp": said.Unix(),
		"messages": msg("we hiked in Sintra")}); code != 200 {
		t.Fatalf("native add: %d %v", code, p)
	}
	if code, p := c.do("POST", "/v3/memories/add/", map[string]any{"user_id": "u", "infer": false, "timestamp": said.Add(time.Hour).Unix(),
		"messages": msg("we ate pastel de nata in Belem")}); code != 200 {
		t.Fatalf("mem0 add: %d %v", code, p)
	}
	hc := &http.Client{Timeout: time.Minute}
	code, _, out, err := call(hc, srv.base, key, "POST", "/memories", nil, map[string]any{"user_id": "u", "infer": false, "async": true,
		"timestamp": said.Add(2 * time.Hour).Unix(), "messages": msg("we watched the sunset at Cabo da Roca")})
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("async add: %d %v %v", code, out, err)
	}
	if ev := waitEvent(t, hc, srv.base, key, "/events/"+out["event_id"].(string)); ev["status"] != "SUCCEEDED" {
		t.Fatalf("async add: %v", ev)
	}
	if code, p := c.do("POST", "/memories", map[string]any{"user_id": "u", "infer": false,
		"messages": msg("we bought a new tent")}); code != 200 {
		t.Fatalf("add without a timestamp: %d %v", code, p)
	}

	code, page := c.do("GET", "/memories?user_id=u", nil)
	if code != 200 {
		t.Fatalf("list: %d %v", code, page)
	}
	created := map[string]time.Time{}
	for _, m := range page["results"].([]any) {
		mm := m.(map[string]any)
		at, err := time.Parse(time.RFC3339Nano, mm["created_at"].(string))
		if err != nil {
			t.Fatal(err)
		}
		created[mm["memory"].(string)] = at
	}
	for text, want := range map[string]time.Time{"we hiked in Sintra": said, "we ate pastel de nata in Belem": said.Add(time.Hour),
		"we watched the sunset at Cabo da Roca": said.Add(2 * time.Hour)} {
		if !created[text].Equal(want) {
			t.Errorf("%q created at %v, want %v", text, created[text], want)
		}
	}
	if time.Since(created["we bought a new tent"]) > time.Hour {
		t.Errorf("a memory without a timestamp is dated %v", created["we bought a new tent"])
	}

	timeRanked := func(weights map[string]any) int {
		t.Helper()
		body := map[string]any{"user_id": "u", "query": "what did we do on 8 May 2023?", "explain": true}
		if weights != nil {
			body["weights"] = weights
		}
		code, r := c.do("POST", "/search", body)
		if code != 200 {
			t.Fatalf("search: %d %v", code, r)
		}
		n := 0
		for _, h := range r["results"].([]any) {
			x := h.(map[string]any)["explain"].(map[string]any)
			if x["time_rank"].(float64) > 0 {
				n++
				if x["time_contribution"].(float64) <= 0 || h.(map[string]any)["memory"] == "we bought a new tent" {
					t.Errorf("time-ranked hit %v", h)
				}
			}
		}
		return n
	}
	if n := timeRanked(nil); n != 3 {
		t.Fatalf("%d hits ranked by the named day, want 3", n)
	}
	if n := timeRanked(map[string]any{"time": 0}); n != 0 {
		t.Fatalf("weights.time 0: %d hits ranked by time", n)
	}

	// A time relative to the server's clock: yesterday's memory.
	if code, p := c.do("POST", "/memories", map[string]any{"user_id": "v", "infer": false, "timestamp": time.Now().Add(-24 * time.Hour).Unix(),
		"messages": msg("we visited the aquarium")}); code != 200 {
		t.Fatalf("add dated yesterday: %d %v", code, p)
	}
	c.do("POST", "/memories", map[string]any{"user_id": "v", "infer": false, "timestamp": said.Unix(), "messages": msg("we visited the zoo")})
	code, r := c.do("POST", "/search", map[string]any{"user_id": "v", "query": "what did we visit yesterday?", "explain": true})
	if hits, _ := r["results"].([]any); code != 200 || len(hits) != 2 || hits[0].(map[string]any)["memory"] != "we visited the aquarium" ||
		hits[0].(map[string]any)["explain"].(map[string]any)["time_rank"].(float64) != 1 ||
		hits[1].(map[string]any)["explain"].(map[string]any)["time_rank"].(float64) != 0 {
		t.Fatalf("search for yesterday: %d %v", code, r)
	}

	for _, tc := range []struct {
		route string
		ts    any
	}{
		{"/memories", -1}, {"/memories", "yesterday"}, {"/memories", 1.5}, {"/memories", int64(253402300800)},
		{"/memories", time.Now().Add(72 * time.Hour).Unix()}, {"/v3/memories/add/", time.Now().Add(72 * time.Hour).Unix()},
		{"/v3/memories/add/", "soon"}, {"/v3/memories/add/", -5}, {"/v3/memories/add/", 2.5},
	} {
		code, p := c.do("POST", tc.route, map[string]any{"user_id": "bad", "infer": false, "timestamp": tc.ts, "messages": msg("nothing")})
		if code != 400 || !hasErrorAt(p, "timestamp") {
			t.Errorf("%s timestamp %v: %d %v, want 400 at timestamp", tc.route, tc.ts, code, p)
		}
	}
	if code, p := c.do("POST", "/search", map[string]any{"user_id": "u", "query": "x", "weights": map[string]any{"time": -1}}); code != 400 || !hasErrorAt(p, "weights.time") {
		t.Errorf("weights.time -1: %d %v", code, p)
	}
	if n := countOf(t, `MATCH (m:Memory {tenant: $tenant, user_id: 'bad'}) RETURN count(m) AS n`, tenant); n != 0 {
		t.Fatalf("refused adds stored %d memories", n)
	}
}
