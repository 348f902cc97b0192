package cypher

import (
	"context"
	"fmt"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/graph"
)

// This file holds the reads of the entity–relationship graph, the delete of
// one entity, and the record mapping of entities and relations shared by
// Candidates and Apply.

// entityMap projects the entity e without its embedding.
const entityMap = `e {.id, .tenant, .user_id, .agent_id, .run_id, .name, .key, .type, .aliases,
  .is_user, .mentions, .created_at, .updated_at}`

// relationMap projects the relationship r between two entities with the
// ids and names of its ends.
const relationMap = `r {.id, .tenant, .user_id, .agent_id, .run_id, .memory_ids, .mentions,
  .created_at, .updated_at, .valid_from, .invalid_at, type: type(r),
  source_id: startNode(r).id, source: startNode(r).name,
  target_id: endNode(r).id, target: endNode(r).name}`

func entityFromMap(p map[string]any) graph.Entity {
	e := graph.Entity{
		ID:        str(p, "id"),
		Scope:     scopeFrom(p),
		Name:      str(p, "name"),
		Key:       str(p, "key"),
		Type:      str(p, "type"),
		Aliases:   strs(p, "aliases"),
		Mentions:  integer(p, "mentions"),
		CreatedAt: timeOf(p, "created_at"),
		UpdatedAt: timeOf(p, "updated_at"),
	}
	e.IsUser, _ = p["is_user"].(bool)
	return e
}

func relationFromMap(p map[string]any) graph.Relation {
	return graph.Relation{
		ID:        str(p, "id"),
		Scope:     scopeFrom(p),
		SourceID:  str(p, "source_id"),
		Source:    str(p, "source"),
		Type:      str(p, "type"),
		TargetID:  str(p, "target_id"),
		Target:    str(p, "target"),
		MemoryIDs: strs(p, "memory_ids"),
		Mentions:  integer(p, "mentions"),
		CreatedAt: timeOf(p, "created_at"),
		UpdatedAt: timeOf(p, "updated_at"),
		Validity:  graph.Validity{ValidFrom: timeOf(p, "valid_from"), InvalidAt: timePtr(p, "invalid_at")},
	}
}

func strs(p map[string]any, k string) []string {
	xs, _ := p[k].([]any)
	var out []string
	for _, x := range xs {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func integer(p map[string]any, k string) int64 {
	n, _ := p[k].(int64)
	return n
}

// validLabel reports whether t may be sent as a dynamic node label: it must
// be what graph.Label makes of it (so it came out of the one normaliser, or
// could have), and have the shape graph.SafeName checks.
func validLabel(t string) bool {
	if !graph.SafeName(t) {
		return false
	}
	out, err := graph.Label(t)
	return err == nil && out == t
}

// validRelationType is validLabel for relationship types (graph.RelationType).
func validRelationType(t string) bool {
	if !graph.SafeName(t) {
		return false
	}
	out, err := graph.RelationType(t)
	return err == nil && out == t
}

// relationValidity is the validity filter of listRelations and
// entityRelations.
const relationValidity = `
  AND ($as_of IS NULL OR (r.valid_from <= $as_of AND (r.invalid_at IS NULL OR r.invalid_at > $as_of)))
  AND ($as_of IS NOT NULL OR $include_invalid OR r.invalid_at IS NULL)`

const listRelations = `
MATCH (s:__Entity__)-[r]->(t:__Entity__)
WHERE {{scope s}}
  AND {{scope r}}
  AND {{scope t}}` + relationValidity + `
WITH r
ORDER BY r.updated_at DESC, r.id DESC
LIMIT $limit
RETURN ` + relationMap + ` AS r`

// entityRelations expands from the one entity; the horizon before the far
// end's scope check keeps the planner from starting at every entity of the
// scope instead.
const entityRelations = `
MATCH (e:__Entity__ {id: $entity_id})
WHERE {{scope e}}
MATCH (e)-[r]-(o)
WHERE {{scope r}}` + relationValidity + `
WITH DISTINCT r, o
WHERE o:__Entity__
  AND {{scope o}}
WITH DISTINCT r
ORDER BY r.updated_at DESC, r.id DESC
LIMIT $limit
RETURN ` + relationMap + ` AS r`

// Relations returns relations between entities of the scope (which needs at
// least one id), most recently updated first, with the names of their ends.
// Errors: Invalid (scope, entity id, limit), Unavailable.
func (s *Store) Relations(ctx context.Context, scope graph.Scope, q graph.RelationQuery) ([]graph.Relation, error) {
	const op = "list relations"
	if err := scope.ValidateSelector(op); err != nil {
		return nil, err
	}
	limit, err := pageLimit(op, q.Limit)
	if err != nil {
		return nil, err
	}
	params := map[string]any{
		"as_of":           nil,
		"include_invalid": q.IncludeInvalid,
		"limit":           int64(limit),
	}
	if q.AsOf != nil {
		params["as_of"] = q.AsOf.UTC()
	}
	text := listRelations
	if q.EntityID != "" {
		if err := graph.CheckID(op, "entity_id", q.EntityID); err != nil {
			return nil, err
		}
		params["entity_id"] = q.EntityID
		text = entityRelations
	}
	cq := scoped(text, scope, params)
	recs, err := s.readRecords(ctx, cq, params)
	if err != nil {
		return nil, translate(op, err)
	}
	out := make([]graph.Relation, 0, len(recs))
	for _, rec := range recs {
		v, _ := rec.Get("r")
		p, _ := v.(map[string]any)
		out = append(out, relationFromMap(p))
	}
	return out, nil
}

func pageLimit(op string, limit int) (int, error) {
	switch {
	case limit == 0:
		return DefaultPageSize, nil
	case limit < 0 || limit > MaxPageSize:
		return 0, graph.InvalidFields(op, graph.FieldError{Path: "limit", Message: fmt.Sprintf("must be between 1 and %d", MaxPageSize)})
	}
	return limit, nil
}

const listEntities = `
MATCH (e:__Entity__)
WHERE {{scope e}}
WITH e
ORDER BY e.created_at, e.id
LIMIT $limit
RETURN ` + entityMap + ` AS e`

// Entities returns up to limit entities of the scope (which needs at least
// one id), oldest first, without their embeddings. A limit of 0 means
// DefaultPageSize. Errors: Invalid (scope, limit), Unavailable.
func (s *Store) Entities(ctx context.Context, scope graph.Scope, limit int) ([]graph.Entity, error) {
	const op = "list entities"
	if err := scope.ValidateSelector(op); err != nil {
		return nil, err
	}
	limit, err := pageLimit(op, limit)
	if err != nil {
		return nil, err
	}
	params := map[string]any{"limit": int64(limit)}
	q := scoped(listEntities, scope, params)
	recs, err := s.readRecords(ctx, q, params)
	if err != nil {
		return nil, translate(op, err)
	}
	out := make([]graph.Entity, 0, len(recs))
	for _, rec := range recs {
		v, _ := rec.Get("e")
		p, _ := v.(map[string]any)
		out = append(out, entityFromMap(p))
	}
	return out, nil
}

const getEntity = `
MATCH (e:__Entity__ {id: $id})
WHERE {{scope e}}
RETURN ` + entityMap + ` AS e`

// GetEntity returns one entity of the scope, without its embedding.
// Errors: Invalid (bad id or scope), NotFound (no such entity in this tenant
// and scope), Unavailable.
func (s *Store) GetEntity(ctx context.Context, scope graph.Scope, id string) (graph.Entity, error) {
	const op = "get entity"
	if err := checkScopeAndID(op, scope, id); err != nil {
		return graph.Entity{}, err
	}
	params := map[string]any{"id": id}
	q := scoped(getEntity, scope, params)
	recs, err := s.readRecords(ctx, q, params)
	if err != nil {
		return graph.Entity{}, translate(op, err)
	}
	if len(recs) == 0 {
		return graph.Entity{}, graph.E(graph.NotFound, op, "entity %s not found", id)
	}
	v, _ := recs[0].Get("e")
	p, _ := v.(map[string]any)
	return entityFromMap(p), nil
}

// deleteEntity locks the entity, records a DELETE event for it and for each
// relation it takes with it (the relations' history stays), and deletes it;
// memories that mentioned it stay.
const deleteEntity = `
MATCH (e:__Entity__ {id: $id})
WHERE {{scope e}}
SET e.updated_at = $now
WITH e
OPTIONAL MATCH (e)-[r]-(o:__Entity__)
WHERE type(r) <> 'MENTIONS'
WITH e, collect(DISTINCT {id: r.id, old: CASE WHEN startNode(r) = e THEN e.name + ' ' + type(r) + ' ' + o.name
  ELSE o.name + ' ' + type(r) + ' ' + e.name END}) AS rels
CREATE (ev:Event)
SET ev = $event, ev.target_id = e.id, ev.user_id = e.user_id, ev.agent_id = e.agent_id, ev.run_id = e.run_id, ev.old = e.name
WITH e, [x IN rels WHERE x.id IS NOT NULL] AS rels
FOREACH (x IN rels |
  CREATE (re:Event)
  SET re = $rel_event, re.id = randomUUID(), re.target_id = x.id, re.old = x.old,
      re.user_id = e.user_id, re.agent_id = e.agent_id, re.run_id = e.run_id)
DETACH DELETE e
RETURN size(rels) AS relations`

// DeleteEntity deletes one entity of the scope with its relations (each
// gets a DELETE event; the memories that mentioned it stay). It returns how
// many relations went with it. Errors: Invalid, NotFound, Conflict
// (audit.Once was used: graph.IsDone), Unavailable.
func (s *Store) DeleteEntity(ctx context.Context, scope graph.Scope, id string, audit graph.Audit) (int, error) {
	const op = "delete entity"
	if err := checkScopeAndID(op, scope, id); err != nil {
		return 0, err
	}
	if err := checkOnce(op, audit.Once); err != nil {
		return 0, err
	}
	res, err := s.write(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		if err := s.claim(ctx, tx, op, scope, audit.Once); err != nil {
			return nil, err
		}
		t := now()
		ev := func(kind graph.TargetKind) map[string]any {
			p := eventProps(graph.Event{ID: graph.NewID(), Scope: graph.Scope{Tenant: scope.Tenant}, TargetID: id,
				TargetKind: kind, Op: graph.OpDelete, At: t, Audit: audit})
			delete(p, "user_id")
			delete(p, "agent_id")
			delete(p, "run_id")
			return p
		}
		params := map[string]any{"id": id, "now": t, "event": ev(graph.TargetEntity), "rel_event": ev(graph.TargetRelation)}
		recs, err := collect(ctx, tx, scoped(deleteEntity, scope, params), params)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			return nil, graph.E(graph.NotFound, op, "entity %s not found", id)
		}
		n, _ := recs[0].Get("relations")
		count, _ := n.(int64)
		return int(count), record(ctx, tx, scope.Tenant, audit.Once, int(count))
	})
	if err != nil {
		return 0, translate(op, err)
	}
	return res.(int), nil
}
