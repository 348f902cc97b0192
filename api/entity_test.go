package api_test

import "testing"

// TestDeleteEntity: DELETE /entities/{id} removes an entity of the key's
// tenant with its relations, once; another tenant's key gets a 404.
func TestDeleteEntity(t *testing.T) {
	srv := startServer(t, serverConfig{NoRateLimit: true})
	key, _ := newKey(t, false)
	otherKey, _ := newKey(t, false)
	c := client{t: t, base: srv.base, key: key}
	if code, p := c.do("POST", "/relations", map[string]any{"user_id": "alice", "relations": []any{
		map[string]any{"source": "alice", "relationship": "works_at", "target": "Acme"},
		map[string]any{"source": "alice", "relationship": "lives_in", "target": "Austin"}}}); code != 200 {
		t.Fatalf("POST /relations: %d %v", code, p)
	}
	code, p := c.do("GET", "/entities?user_id=alice", nil)
	if code != 200 {
		t.Fatalf("GET /entities: %d %v", code, p)
	}
	acme := ""
	for _, e := range p["results"].([]any) {
		if e := e.(map[string]any); e["name"] == "Acme" {
			acme = e["id"].(string)
		}
	}
	if acme == "" {
		t.Fatalf("no Acme among %v", p)
	}
	if code, p := (client{t: t, base: srv.base, key: otherKey}).do("DELETE", "/entities/"+acme, nil); code != 404 {
		t.Fatalf("DELETE by another tenant: %d %v, want 404", code, p)
	}
	if code, p := c.do("DELETE", "/entities/"+acme, nil); code != 200 || p["deleted"] != 2.0 {
		t.Fatalf("DELETE /entities/{id}: %d %v, want the entity and its one relation", code, p)
	}
	if code, _ := c.do("GET", "/entities/"+acme, nil); code != 404 {
		t.Fatalf("GET after delete: %d, want 404", code)
	}
	code, p = c.do("GET", "/relations?user_id=alice&include_invalid=true", nil)
	if rels, _ := p["results"].([]any); code != 200 || len(rels) != 1 {
		t.Fatalf("relations after delete: %d %v, want lives_in only", code, p)
	}
}
