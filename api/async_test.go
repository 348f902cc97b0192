package api_test

import (
	"net/http"
	"testing"
	"time"
)

// TestAsyncAdds: an async add answers 202 with an event at once; the
// server's workers run the job (one scope's jobs in order), and the event
// reports the result; the memories name the job as their source.
func TestAsyncAdds(t *testing.T) {
	key, tenant := newKey(t, false)
	srv := startServer(t, serverConfig{NoRateLimit: true, Workers: 3, WorkerTenants: []string{tenant}})
	hc := &http.Client{Timeout: time.Minute}
	add := func(text string, hdr map[string]string) (int, http.Header, map[string]any) {
		t.Helper()
		code, h, out, err := call(hc, srv.base, key, "POST", "/memories", hdr, map[string]any{"user_id": "u", "infer": false, "async": true,
			"messages": []map[string]any{{"role": "user", "content": text}}})
		if err != nil {
			t.Fatal(err)
		}
		return code, h, out
	}

	// Ten adds of one scope, queued at once: they run in order.
	var events []string
	for i := range 10 {
		code, h, out := add(string(rune('a'+i))+" is a letter", nil)
		if code != http.StatusAccepted || out["status"] != "PENDING" || h.Get("Location") != "/events/"+out["event_id"].(string) {
			t.Fatalf("async add: %d %v, Location %q", code, out, h.Get("Location"))
		}
		events = append(events, out["event_id"].(string))
	}
	var ids []string
	for _, id := range events {
		ev := waitEvent(t, hc, srv.base, key, "/events/"+id)
		if ev["status"] != "SUCCEEDED" || ev["event_type"] != "ADD" || ev["attempts"].(float64) < 1 {
			t.Fatalf("event %s: %v", id, ev)
		}
		res := ev["results"].([]any)
		if len(res) != 1 {
			t.Fatalf("event %s results: %v", id, res)
		}
		ids = append(ids, res[0].(map[string]any)["id"].(string))
	}
	// Acknowledged order is creation order, and each memory links to its job.
	code, _, page, err := call(hc, srv.base, key, "GET", "/memories?user_id=u", nil, nil)
	if err != nil || code != 200 {
		t.Fatal(code, err)
	}
	got := page["results"].([]any)
	if len(got) != len(ids) {
		t.Fatalf("%d memories for %d async adds", len(got), len(ids))
	}
	for i, m := range got {
		if m.(map[string]any)["id"] != ids[i] {
			t.Fatalf("memory %d is %v, want %s: the scope's jobs ran out of order", i, m.(map[string]any)["id"], ids[i])
		}
	}
	// A memory shows its source, and its event the turns it came from.
	code, _, m0, err := call(hc, srv.base, key, "GET", "/memories/"+ids[0], nil, nil)
	if err != nil || code != 200 {
		t.Fatal(code, err)
	}
	if src, _ := m0["source"].([]any); len(src) != 1 || src[0] != "job:"+events[0] || m0["version"] != float64(1) {
		t.Fatalf("memory of an async add: source %v, version %v", m0["source"], m0["version"])
	}
	_, _, ev0, _ := call(hc, srv.base, key, "GET", "/events/"+events[0], nil, nil)
	if msgs, _ := ev0["messages"].([]any); len(msgs) != 1 || msgs[0].(map[string]any)["content"] != "a is a letter" {
		t.Fatalf("event messages: %v", ev0["messages"])
	}
	if n := countOf(t, `MATCH (m:Memory {tenant: $tenant}) WHERE size(m.source) = 1 AND m.source[0] STARTS WITH 'job:' RETURN count(m) AS n`, tenant); n != 10 {
		t.Fatalf("%d of 10 memories name their job as source", n)
	}
	if n := countOf(t, `MATCH (j:Job {tenant: $tenant, status: 'SUCCEEDED'}) WHERE j.request CONTAINS 'is a letter' RETURN count(j) AS n`, tenant); n != 10 {
		t.Fatalf("%d of 10 jobs succeeded keeping their raw messages", n)
	}

	// A retried async add with its key is one job.
	hdr := map[string]string{"Idempotency-Key": "async-1"}
	_, _, first := add("z is last", hdr)
	_, h, again := add("z is last", hdr)
	if first["event_id"] != again["event_id"] || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retried async add: %v then %v", first, again)
	}
	waitEvent(t, hc, srv.base, key, "/events/"+first["event_id"].(string))

	// Mem0's route: async_mode, and its event route.
	code, _, out, err := call(hc, srv.base, key, "POST", "/v3/memories/add/", nil, map[string]any{"user_id": "u", "infer": false, "async_mode": true,
		"messages": []map[string]any{{"role": "user", "content": "mem0 style"}}})
	if err != nil || code != 200 {
		t.Fatalf("mem0 async add: %d %v %v", code, out, err)
	}
	r := out["results"].([]any)[0].(map[string]any)
	if r["status"] != "PENDING" || r["event_id"] == nil {
		t.Fatalf("mem0 async add answer: %v", out)
	}
	if ev := waitEvent(t, hc, srv.base, key, "/v1/event/"+r["event_id"].(string)+"/"); ev["status"] != "SUCCEEDED" {
		t.Fatalf("mem0 event: %v", ev)
	}

	// Bad input is refused at once, and no job is stored.
	code, _, out, _ = call(hc, srv.base, key, "POST", "/memories", nil, map[string]any{"user_id": "u", "async": true, "infer": false, "messages": []any{}})
	if code != 400 {
		t.Fatalf("async add without messages: %d %v", code, out)
	}
	// Another tenant's event is not found.
	other, _ := newKey(t, false)
	if code, _, _, _ := call(hc, srv.base, other, "GET", "/events/"+events[0], nil, nil); code != 404 {
		t.Fatalf("another tenant's event: %d, want 404", code)
	}
}
