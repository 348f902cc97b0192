package cypher_test

import (
	"context"
	"testing"

	"github.com/neomem/neomem/graph"
)

// TestImportTrustsNothing: an import's events name the importer as their
// actor (the export's actor kept apart), and an event about anything the
// import does not bring is refused with nothing written.
func TestImportTrustsNothing(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	mustCreate(t, s, mem(scope, "imported fact"))
	var items []graph.ExportItem
	if err := s.Export(ctx, scope, func(it graph.ExportItem) error { items = append(items, it); return nil }); err != nil {
		t.Fatal(err)
	}
	other := tenant + "-b"
	t.Cleanup(func() { _, _ = s.Reset(context.Background(), other, graph.Audit{}) })
	importer := graph.Audit{ActorID: "key:importer", RequestID: "req-import"}

	// An event about something outside the import.
	planted := append([]graph.ExportItem(nil), items...)
	planted = append(planted, graph.ExportItem{Event: &graph.Event{ID: graph.NewID(), TargetID: graph.NewID(), TargetKind: graph.TargetMemory,
		Op: graph.OpUpdate, New: "planted", Audit: graph.Audit{ActorID: "key:someone-else"}}})
	_, err := s.Import(ctx, other, planted, importer)
	wantKind(t, "import with an event about an outside item", err, graph.Invalid)
	if n := count(t, `MATCH (n) WHERE n.tenant = $t RETURN count(n) AS n`, map[string]any{"t": other}); n != 0 {
		t.Fatalf("a refused import wrote %d nodes", n)
	}

	if _, err := s.Import(ctx, other, items, importer); err != nil {
		t.Fatal(err)
	}
	rows := rows(t, `MATCH (e:Event {tenant: $t}) RETURN e.actor_id AS actor, e.request_id AS req, e.imported_actor_id AS was`, map[string]any{"t": other})
	if len(rows) == 0 {
		t.Fatal("no events imported")
	}
	for _, r := range rows {
		if r["actor"] != "key:importer" || r["req"] != "req-import" || r["was"] != "tester" {
			t.Fatalf("imported event = %v, want the importer as actor and the original kept apart", r)
		}
	}
}
