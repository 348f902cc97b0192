package cypher

import (
	"context"
	"fmt"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/graph"
)

// subgraph is a scope's most mentioned entities and the current relations
// among them.
const subgraph = `
CALL () {
  MATCH (e:__Entity__)
  WHERE {{scope e}}
  WITH e
  ORDER BY e.mentions DESC, e.id
  LIMIT $limit
  RETURN collect(e) AS nodes
}
CALL (nodes) {
  UNWIND nodes AS e
  MATCH (e)-[r]->(o:__Entity__)
  WHERE o IN nodes AND r.invalid_at IS NULL AND {{scope r}}
  RETURN collect(` + relationMap + `) AS edges
}
RETURN [e IN nodes | ` + entityMap + `] AS nodes, edges`

// Graph returns a scope's entities (the most mentioned first, at most limit)
// and the current relations among them. Errors: Invalid, Unavailable.
func (s *Store) Graph(ctx context.Context, scope graph.Scope, limit int) (graph.Subgraph, error) {
	const op = "graph"
	if err := scope.ValidateSelector(op); err != nil {
		return graph.Subgraph{}, err
	}
	if limit <= 0 || limit > 5000 {
		limit = 500
	}
	params := map[string]any{"limit": int64(limit)}
	q := scoped(subgraph, scope, params)
	recs, err := s.readRecords(ctx, q, params)
	if err != nil {
		return graph.Subgraph{}, translate(op, err)
	}
	m := recs[0].AsMap()
	out := graph.Subgraph{Nodes: []graph.Entity{}, Edges: []graph.Relation{}}
	nodes, _ := m["nodes"].([]any)
	for _, n := range nodes {
		out.Nodes = append(out.Nodes, entityFromMap(n.(map[string]any)))
	}
	edges, _ := m["edges"].([]any)
	for _, e := range edges {
		out.Edges = append(out.Edges, relationFromMap(e.(map[string]any)))
	}
	return out, nil
}

// Export pages: memories (with embeddings, current and invalidated), their
// events, entities (with embeddings), relations (all versions).
const (
	exportMemories = `
MATCH (m:Memory)
WHERE {{scope m}} AND ($after IS NULL OR m.id > $after)
WITH m ORDER BY m.id LIMIT $batch
RETURN ` + memoryMap + ` AS m, m.embedding AS embedding, [(m)-[:MENTIONS]->(x:__Entity__) | x.id] AS mentions`
	exportEvents = `
MATCH (e:Event)
WHERE {{scope e}} AND ($after IS NULL OR e.id > $after)
WITH e ORDER BY e.id LIMIT $batch
RETURN e {.*} AS e`
	exportEntities = `
MATCH (e:__Entity__)
WHERE {{scope e}} AND ($after IS NULL OR e.id > $after)
WITH e ORDER BY e.id LIMIT $batch
RETURN ` + entityMap + ` AS e, e.embedding AS embedding`
	exportRelations = `
MATCH (s:__Entity__)-[r]->(:__Entity__)
WHERE {{scope s}} AND {{scope r}} AND ($after IS NULL OR r.id > $after)
WITH r ORDER BY r.id LIMIT $batch
RETURN ` + relationMap + ` AS r, r.supersedes AS supersedes`
)

// Export streams everything of a scope to emit, in pages (so a large scope
// never sits in memory): memories, events, entities, relations. Errors:
// Invalid, Unavailable, and emit's own.
func (s *Store) Export(ctx context.Context, scope graph.Scope, emit func(graph.ExportItem) error) error {
	const op = "export"
	if err := scope.ValidateSelector(op); err != nil {
		return err
	}
	page := func(q string, each func(*neo4j.Record) (string, error)) error {
		var after any
		for {
			params := map[string]any{"after": after, "batch": int64(500)}
			text := scoped(q, scope, params)
			recs, err := s.readRecords(ctx, text, params)
			if err != nil {
				return translate(op, err)
			}
			for _, rec := range recs {
				id, err := each(rec)
				if err != nil {
					return err
				}
				after = id
			}
			if len(recs) < 500 {
				return nil
			}
		}
	}
	if err := page(exportMemories, func(rec *neo4j.Record) (string, error) {
		v, _ := rec.Get("m")
		m := memoryFromMap(v.(map[string]any))
		emb, _ := rec.Get("embedding")
		m.Embedding = floats(emb)
		men, _ := rec.Get("mentions")
		return m.ID, emit(graph.ExportItem{Memory: &m, Mentions: strs(map[string]any{"x": men}, "x")})
	}); err != nil {
		return err
	}
	if err := page(exportEvents, func(rec *neo4j.Record) (string, error) {
		v, _ := rec.Get("e")
		ev := eventFromMap(v.(map[string]any))
		return ev.ID, emit(graph.ExportItem{Event: &ev})
	}); err != nil {
		return err
	}
	if err := page(exportEntities, func(rec *neo4j.Record) (string, error) {
		v, _ := rec.Get("e")
		e := entityFromMap(v.(map[string]any))
		emb, _ := rec.Get("embedding")
		e.Embedding = floats(emb)
		return e.ID, emit(graph.ExportItem{Entity: &e})
	}); err != nil {
		return err
	}
	return page(exportRelations, func(rec *neo4j.Record) (string, error) {
		v, _ := rec.Get("r")
		r := relationFromMap(v.(map[string]any))
		return r.ID, emit(graph.ExportItem{Relation: &r})
	})
}

func floats(v any) []float32 {
	xs, _ := v.([]any)
	out := make([]float32, 0, len(xs))
	for _, x := range xs {
		switch f := x.(type) {
		case float64:
			out = append(out, float32(f))
		case float32:
			out = append(out, f)
		}
	}
	return out
}

func eventFromMap(p map[string]any) graph.Event {
	return graph.Event{
		ID: str(p, "id"), Scope: scopeFrom(p), TargetID: str(p, "target_id"), TargetKind: graph.TargetKind(str(p, "target_kind")),
		Op: graph.Op(str(p, "op")), Old: str(p, "old"), New: str(p, "new"), At: timeOf(p, "at"),
		Audit: graph.Audit{ActorID: str(p, "actor_id"), Role: str(p, "role"), RequestID: str(p, "request_id")},
	}
}

const (
	importMemories = `
UNWIND $rows AS row
CREATE (m:Memory)
SET m = row.props
WITH m, row
CALL db.create.setNodeVectorProperty(m, 'embedding', row.embedding)
RETURN count(*) AS n`
	importEvents = `
UNWIND $rows AS row
CREATE (e:Event)
SET e = row
RETURN count(*) AS n`
	importEntities = `
UNWIND $rows AS row
CREATE (e:__Entity__)
SET e = row.props
SET e:$(row.labels)
WITH e, row
CALL db.create.setNodeVectorProperty(e, 'embedding', row.embedding)
RETURN count(*) AS n`
	importRelations = `
UNWIND $rows AS row
MATCH (s:__Entity__ {id: row.source_id}), (t:__Entity__ {id: row.target_id})
WHERE s.tenant = $tenant AND t.tenant = $tenant
CREATE (s)-[r:$(row.type)]->(t)
SET r = row.props, r.user_id = s.user_id, r.agent_id = s.agent_id, r.run_id = s.run_id
RETURN count(*) AS n`
	importMentions = `
UNWIND $rows AS row
MATCH (m:Memory {id: row.memory_id}), (e:__Entity__ {id: row.entity_id})
WHERE m.tenant = $tenant AND e.tenant = $tenant
MERGE (m)-[:MENTIONS]->(e)
RETURN count(*) AS n`
)

// Import writes an export into tenant, in one transaction: every item gets
// the importing tenant (whatever the export said) and a new id, with every
// reference (event targets, mentions, relation ends and provenance) following
// it. Relations whose ends are not in the import, and events about items
// that are not in it, are an Invalid error and nothing is written. Events
// name the importer (audit) as their actor and request; the export's actor
// and request ids are kept as imported_actor_id and imported_request_id. Errors: Invalid, Conflict (an entity key that exists in
// the scope), Unavailable.
func (s *Store) Import(ctx context.Context, tenant string, items []graph.ExportItem, audit graph.Audit) (graph.Imported, error) {
	const op = "import"
	if err := (graph.Scope{Tenant: tenant}).Validate(op); err != nil {
		return graph.Imported{}, err
	}
	// Every item gets a new id (ids are unique across tenants, and an export
	// may be imported twice); references follow the new ids.
	ids := map[string]string{}
	newID := func(old string) string {
		if n, ok := ids[old]; ok {
			return n
		}
		n := graph.NewID()
		ids[old] = n
		return n
	}
	for _, it := range items {
		switch {
		case it.Memory != nil:
			newID(it.Memory.ID)
		case it.Entity != nil:
			newID(it.Entity.ID)
		case it.Relation != nil:
			newID(it.Relation.ID)
		}
	}
	remap := func(old string) string {
		if n, ok := ids[old]; ok {
			return n
		}
		return old
	}
	var mems, evs, ents, rels, mentions []map[string]any
	var bad []graph.FieldError
	for i, it := range items {
		path := fmt.Sprintf("line %d", i+1)
		switch {
		case it.Memory != nil:
			m := *it.Memory
			m.Scope.Tenant = tenant
			m.ID = remap(m.ID)
			if m.Kind == "" {
				m.Kind = graph.KindFact
			}
			m.Hash = graph.HashText(m.Text)
			row, fields := s.memoryRow(m, graph.Audit{}, m.CreatedAt, path) // the import writes no event of its own
			if len(fields) > 0 {
				bad = append(bad, fields...)
				continue
			}
			delete(row, "event")
			mems = append(mems, row)
			for _, eid := range it.Mentions {
				mentions = append(mentions, map[string]any{"memory_id": m.ID, "entity_id": remap(eid)})
			}
		case it.Event != nil:
			e := *it.Event
			e.Scope.Tenant = tenant
			if !graph.ValidID(e.ID) {
				bad = append(bad, graph.FieldError{Path: path + ".id", Message: "must be a UUID"})
				continue
			}
			// History may only be about what the import brings: an event of
			// anything else would plant history on another item.
			if _, ok := ids[e.TargetID]; !ok {
				bad = append(bad, graph.FieldError{Path: path + ".target_id", Message: "is not an item of the import"})
				continue
			}
			e.TargetID = remap(e.TargetID)
			e.ID = graph.NewID()
			// The importer is who wrote the events now; who wrote them
			// before is kept apart, never as an actor of this tenant.
			orig := e.Audit
			e.Audit = graph.Audit{ActorID: audit.ActorID, RequestID: audit.RequestID, Role: orig.Role}
			props := eventProps(e)
			props["imported_actor_id"], props["imported_request_id"] = nullable(orig.ActorID), nullable(orig.RequestID)
			evs = append(evs, props)
		case it.Entity != nil:
			e := *it.Entity
			e.Scope.Tenant = tenant
			e.ID = remap(e.ID)
			if !graph.ValidID(e.ID) || e.Key == "" || len(e.Embedding) != s.cfg.Dimensions {
				bad = append(bad, graph.FieldError{Path: path, Message: "an entity needs a UUID id, a key and an embedding of the configured dimension"})
				continue
			}
			labels := []string{}
			if e.Type != "" {
				if !validLabel(e.Type) {
					bad = append(bad, graph.FieldError{Path: path + ".type", Message: "is not a normalised label"})
					continue
				}
				labels = append(labels, e.Type)
			}
			props := scopeProps(e.Scope)
			props["id"], props["name"], props["key"], props["type"] = e.ID, e.Name, e.Key, nullable(e.Type)
			props["aliases"], props["is_user"], props["mentions"] = e.Aliases, e.IsUser, e.Mentions
			props["created_at"], props["updated_at"], props["search_tags"] = e.CreatedAt.UTC(), e.UpdatedAt.UTC(), searchTags(e.Scope)
			ents = append(ents, map[string]any{"props": props, "labels": labels, "embedding": vector64(e.Embedding)})
		case it.Relation != nil:
			r := *it.Relation
			if !graph.ValidID(r.ID) || !validRelationType(r.Type) {
				bad = append(bad, graph.FieldError{Path: path, Message: "a relation needs a UUID id and a normalised type"})
				continue
			}
			r.Scope.Tenant = tenant
			r.ID, r.SourceID, r.TargetID = remap(r.ID), remap(r.SourceID), remap(r.TargetID)
			for j, mid := range r.MemoryIDs {
				r.MemoryIDs[j] = remap(mid)
			}
			props := scopeProps(r.Scope)
			delete(props, "scope_key")
			props["id"], props["memory_ids"], props["mentions"] = r.ID, r.MemoryIDs, r.Mentions
			props["created_at"], props["updated_at"], props["valid_from"] = r.CreatedAt.UTC(), r.UpdatedAt.UTC(), r.ValidFrom.UTC()
			if r.InvalidAt != nil {
				props["invalid_at"] = r.InvalidAt.UTC()
			}
			rels = append(rels, map[string]any{"source_id": r.SourceID, "target_id": r.TargetID, "type": r.Type, "props": props})
		default:
			bad = append(bad, graph.FieldError{Path: path, Message: "is empty"})
		}
	}
	if len(bad) > 0 {
		return graph.Imported{}, graph.InvalidFields(op, bad...)
	}
	out := graph.Imported{Memories: len(mems), Events: len(evs), Entities: len(ents), Relations: len(rels)}
	if err := checkOnce(op, audit.Once); err != nil {
		return graph.Imported{}, err
	}
	_, err := s.write(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		if err := s.claim(ctx, tx, op, graph.Scope{Tenant: tenant}, audit.Once); err != nil {
			return nil, err
		}
		for _, st := range []struct {
			q    string
			rows []map[string]any
		}{{importMemories, mems}, {importEvents, evs}, {importEntities, ents}, {importRelations, rels}, {importMentions, mentions}} {
			if len(st.rows) == 0 {
				continue
			}
			recs, err := collect(ctx, tx, st.q, map[string]any{"rows": st.rows, "tenant": tenant})
			if err != nil {
				return nil, err
			}
			if n, _ := recs[0].Get("n"); n != int64(len(st.rows)) {
				return nil, graph.E(graph.Invalid, op, "%d of %d rows could be written (relations need both ends in the import)", n, len(st.rows))
			}
		}
		return nil, record(ctx, tx, tenant, audit.Once, out)
	})
	if err != nil {
		return graph.Imported{}, translate(op, err)
	}
	return out, nil
}
