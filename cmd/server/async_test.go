package main

import (
	"net/http"
	"testing"
	"time"
)

// TestWorkerRole: `neomem worker` runs the jobs an API server without
// workers queued, and serves its probes and metrics only.
func TestWorkerRole(t *testing.T) {
	key, tenant := newKey(t, false)
	api := start(t, env(t, map[string]string{"NEOMEM_WORKERS": "0"}))
	worker := startArgs(t, []string{"worker"}, env(t, map[string]string{"NEOMEM_WORKER_TENANTS": tenant}))
	hc := &http.Client{Timeout: time.Minute}
	code, _, out, err := call(hc, api.base, key, "POST", "/memories", nil, map[string]any{"user_id": "u", "infer": false, "async": true,
		"messages": []map[string]any{{"role": "user", "content": "run by the worker role"}}})
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("async add: %d %v %v", code, out, err)
	}
	if ev := waitEvent(t, hc, api.base, key, "/events/"+out["event_id"].(string)); ev["status"] != "SUCCEEDED" {
		t.Fatalf("event: %v", ev)
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/memories?user_id=u": 404} {
		if code, _, _, err := call(hc, worker.base, key, "GET", path, nil, nil); err != nil || code != want {
			t.Errorf("worker GET %s = %d %v, want %d", path, code, err, want)
		}
	}
}
