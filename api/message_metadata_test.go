package api_test

import (
	"net/url"
	"testing"
)

// TestPerMessageMetadata: a session is one infer=false request on the
// native and the Mem0 route, each message with its own metadata, found
// again by it; with infer the server says where the problem is.
func TestPerMessageMetadata(t *testing.T) {
	srv := startServer(t, serverConfig{NoRateLimit: true})
	key, _ := newKey(t, false)
	c := client{t: t, base: srv.base, key: key}
	for _, tc := range []struct{ route, user string }{{"/memories", "native"}, {"/v3/memories/add/", "mem0"}} {
		code, p := c.do("POST", tc.route, map[string]any{"user_id": tc.user, "infer": false, "metadata": map[string]any{"session": "s7"},
			"messages": []any{
				map[string]any{"role": "user", "content": "We hiked Sintra", "metadata": map[string]any{"turn": 1, "date": "2023-05-01"}},
				map[string]any{"role": "assistant", "content": "Sounds lovely", "metadata": map[string]any{"turn": 2}},
			}})
		if code != 200 {
			t.Fatalf("%s: %d %v", tc.route, code, p)
		}
		code, p = c.do("GET", "/memories?user_id="+tc.user+"&filters="+url.QueryEscape(`{"AND":[{"turn":1},{"session":"s7"}]}`), nil)
		results, _ := p["results"].([]any)
		if code != 200 || len(results) != 1 {
			t.Fatalf("%s: list by turn 1: %d %v", tc.route, code, p)
		}
		if m := results[0].(map[string]any); m["memory"] != "We hiked Sintra" || m["metadata"].(map[string]any)["date"] != "2023-05-01" {
			t.Errorf("%s: turn 1 is %v", tc.route, m)
		}
	}
	code, p := c.do("POST", "/memories", map[string]any{"user_id": "u", "infer": true,
		"messages": []any{map[string]any{"role": "user", "content": "x", "metadata": map[string]any{"turn": 1}}}})
	if fields, _ := p["errors"].([]any); code != 400 || len(fields) == 0 || fields[0].(map[string]any)["path"] != "messages[0].metadata" {
		t.Fatalf("per-message metadata with infer: %d %v, want a 400 at messages[0].metadata", code, p)
	}
}
