package api_test

import (
	"net/url"
	"slices"
	"testing"
)

// TestSharedRoom: Mem0's shared-room pattern, an OR of user_id filters,
// searches, lists and deletes across several users of the key's tenant on
// the native and the Mem0 routes, in one query each, and never reaches
// another tenant's users of the same names.
func TestSharedRoom(t *testing.T) {
	srv := startServer(t, serverConfig{NoRateLimit: true})
	key, _ := newKey(t, false)
	otherKey, _ := newKey(t, false)
	c := client{t: t, base: srv.base, key: key}
	other := client{t: t, base: srv.base, key: otherKey}
	room := map[string]bool{
		addRaw(t, c, "alice", "alice brews coffee at dawn"): true,
		addRaw(t, c, "bob", "bob grinds coffee beans"):      true,
	}
	carol := addRaw(t, c, "carol", "carol drinks coffee with milk")
	foreign := addRaw(t, other, "alice", "the other tenant's alice loves coffee")
	or := map[string]any{"OR": []any{map[string]any{"user_id": "alice"}, map[string]any{"user_id": "bob"}}}
	orJSON := `{"OR":[{"user_id":"alice"},{"user_id":"bob"}]}`

	ids := func(what string, p map[string]any) []string {
		t.Helper()
		list, ok := p["results"].([]any)
		if !ok {
			t.Fatalf("%s: no results in %v", what, p)
		}
		var out []string
		for _, r := range list {
			out = append(out, r.(map[string]any)["id"].(string))
		}
		slices.Sort(out)
		return out
	}
	want := []string{}
	for id := range room {
		want = append(want, id)
	}
	slices.Sort(want)
	for _, tc := range []struct {
		name, method, path string
		body               any
	}{
		{"native search", "POST", "/search", map[string]any{"query": "coffee", "filters": or}},
		{"Mem0 search", "POST", "/v3/memories/search/", map[string]any{"query": "coffee", "filters": or}},
		{"native list", "GET", "/memories?filters=" + url.QueryEscape(orJSON), nil},
		{"Mem0 get_all", "POST", "/v3/memories/", map[string]any{"filters": or}},
		{"in list", "POST", "/search", map[string]any{"query": "coffee", "filters": map[string]any{"user_id": map[string]any{"in": []any{"alice", "bob"}}}}},
	} {
		code, p := c.do(tc.method, tc.path, tc.body)
		if code != 200 {
			t.Fatalf("%s: %d %v", tc.name, code, p)
		}
		if got := ids(tc.name, p); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want the room's %v (not carol's %s or the other tenant's %s)", tc.name, got, want, carol, foreign)
		}
	}

	// Refused: an OR branch without a scope id, an add to alternatives, a
	// delete whose filter holds more than scope ids, and ids that contradict
	// the filter.
	for _, tc := range []struct {
		name, method, path string
		body               any
	}{
		{"OR with an unscoped branch", "POST", "/search", map[string]any{"query": "coffee",
			"filters": map[string]any{"OR": []any{map[string]any{"user_id": "alice"}, map[string]any{"topic": "x"}}}}},
		{"add to a room", "POST", "/v3/memories/add/", map[string]any{"messages": []any{map[string]any{"role": "user", "content": "hi"}},
			"filters": or, "infer": false}},
		{"delete with metadata", "DELETE", "/memories?filters=" + url.QueryEscape(`{"OR":[{"user_id":"alice"},{"user_id":"bob","topic":"x"}]}`), nil},
		{"contradiction", "POST", "/search", map[string]any{"query": "coffee", "user_id": "carol", "filters": or}},
	} {
		if code, p := c.do(tc.method, tc.path, tc.body); code != 400 {
			t.Errorf("%s: %d %v, want 400", tc.name, code, p)
		}
	}
	if code, p := c.do("GET", "/memories?user_id=carol", nil); code != 200 || len(ids("carol", p)) != 1 {
		t.Fatalf("carol after the refused delete: %d %v", code, p)
	}

	// Mem0's delete_all sends the filter as the Python repr of a dict.
	if code, p := c.do("DELETE", "/v1/memories/?filters="+url.QueryEscape(`{'OR': [{'user_id': 'alice'}, {'user_id': 'bob'}]}`), nil); code != 200 {
		t.Fatalf("Mem0 delete_all of the room: %d %v", code, p)
	}
	for _, tc := range []struct {
		c    client
		user string
		want int
	}{{c, "alice", 0}, {c, "bob", 0}, {c, "carol", 1}, {other, "alice", 1}} {
		if code, p := tc.c.do("GET", "/memories?user_id="+tc.user, nil); code != 200 || len(ids(tc.user, p)) != tc.want {
			t.Errorf("after the room's delete, %s holds %d %v, want %d", tc.user, code, p, tc.want)
		}
	}
}
