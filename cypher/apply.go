package cypher

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/vector"
)

// applyFault, when set (by tests only), is called after each statement of
// Apply's transaction with the name of the step just run ("lease",
// "new entities", "entities", "invalidate memories", "memories",
// "invalidate relations", "relations", "commit"); an error from it fails
// the transaction, which the driver then rolls back.
var applyFault func(step string) error

// maxEntityName bounds an entity's display name, in bytes.
const maxEntityName = 1024

// Apply writes an add's plan in ONE write transaction: all of it lands or
// none of it. The transaction first checks that lease still holds the lock of
// plan.Scope (its token matches and it has not expired, by Neo4j's clock)
// and keeps the lock's node write-locked until commit, so a holder that took
// the lock over after expiry waits for this transaction and then sees its
// result. Then, in order:
//
//   - entities: new ones are created with the labels __Entity__ and their
//     Type (a dynamic label), their name embedding and an ADD event;
//     existing ones (by id, in the scope) gain the aliases, a mention and the
//     Type label;
//   - memories: UPDATE and DELETE invalidate OldID (it must be current and in
//     the scope) with an UPDATE or DELETE event on it; ADD and UPDATE create
//     the new Memory as CreateMemories does (ADD event included), MENTIONS
//     edges to its entities, and for UPDATE (new)-[:SUPERSEDES]->(old);
//   - relations: UPDATE and DELETE invalidate OldID (current and in scope);
//     DELETE records an INVALIDATE event; ADD and UPDATE count a mention on
//     an identical current relation (same ends and type) or create the
//     relation (dynamic type) with an ADD event, UPDATE always recording an
//     UPDATE event on the old relation with the old and new
//     "source TYPE target" text and the new relation's supersedes = OldID.
//
// New entities, memories and relations take plan.Scope exactly (a memory may
// carry the same scope or none); existing items are matched with plan.Scope
// as a selector. plan.At (default now) is the time of every change, except
// that what the plan adds dates from plan.SaidAt when it is set. Labels
// and relationship types must be the normaliser's output (graph.Label,
// graph.RelationType); they travel as parameters (dynamic labels and types).
//
// Errors: Invalid (the plan; nothing is sent), Conflict (the lease is lost; an
// item to update, delete or link is missing, invalidated or out of scope; an
// id or entity key exists already; graph.IsDone: plan.Audit.Once was used,
// nothing was written), Unavailable. With plan.Audit.Once the key is
// recorded with Once.Result in the same transaction.
func (s *Store) Apply(ctx context.Context, plan graph.Plan, lease graph.Lease) error {
	const op = "apply plan"
	w, err := s.prepareApply(op, plan, lease)
	if err != nil {
		return err
	}
	if err := checkOnce(op, plan.Audit.Once); err != nil {
		return err
	}
	once := plan.Audit.Once
	_, err = s.write(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		if err := w.run(ctx, tx, func() error { return s.claim(ctx, tx, op, plan.Scope, once) }); err != nil {
			return nil, err
		}
		return nil, record(ctx, tx, plan.Scope.Tenant, once, nil)
	})
	return translate(op, err)
}

// applyWork is a validated plan turned into statement parameters.
type applyWork struct {
	scope graph.Scope
	at    time.Time
	token string

	newEntities   []map[string]any
	touchEntities []map[string]any

	invalidateMemories []map[string]any
	createMemories     []map[string]any

	invalidateRelations []map[string]any
	createRelations     []map[string]any
}

func (s *Store) prepareApply(op string, plan graph.Plan, lease graph.Lease) (*applyWork, error) {
	if err := plan.Scope.ValidateSelector(op); err != nil {
		return nil, err
	}
	var bad []graph.FieldError
	if lease.Token == "" {
		bad = append(bad, graph.FieldError{Path: "lease.token", Message: "is required"})
	}
	if lease.Scope.Key() != plan.Scope.Key() {
		bad = append(bad, graph.FieldError{Path: "lease.scope", Message: "is not the plan's scope"})
	}
	at := plan.At.UTC().Truncate(time.Microsecond)
	if plan.At.IsZero() {
		at = now()
	}
	// What the plan adds may date from when it was said (plan.SaidAt).
	said := at
	if !plan.SaidAt.IsZero() {
		said = plan.SaidAt.UTC().Truncate(time.Microsecond)
	}
	w := &applyWork{scope: plan.Scope, at: at, token: lease.Token}
	event := func(sc graph.Scope, id string, kind graph.TargetKind, o graph.Op, oldText, newText string) map[string]any {
		return eventProps(graph.Event{ID: graph.NewID(), Scope: sc, TargetID: id, TargetKind: kind,
			Op: o, Old: oldText, New: newText, At: at, Audit: plan.Audit})
	}

	ids := map[string]string{} // every id the plan creates or names, to its path
	claim := func(path, id string) {
		if prev, ok := ids[id]; ok {
			bad = append(bad, graph.FieldError{Path: path, Message: "repeats the id of " + prev})
			return
		}
		ids[id] = path
	}
	checkID := func(path, id string) bool {
		if !graph.ValidID(id) {
			bad = append(bad, graph.FieldError{Path: path, Message: "must be a UUID"})
			return false
		}
		return true
	}

	keys := map[string]string{}
	for i, e := range plan.Entities {
		path := fmt.Sprintf("entities[%d]", i)
		if checkID(path+".id", e.ID) {
			claim(path+".id", e.ID)
		}
		var labels []string
		if e.Type != "" {
			if validLabel(e.Type) {
				labels = []string{e.Type}
			} else {
				bad = append(bad, graph.FieldError{Path: path + ".type", Message: fmt.Sprintf("%q is not a normalised label (graph.Label)", e.Type)})
			}
		}
		aliases, aliasBad := cleanAliases(path, e.Aliases)
		bad = append(bad, aliasBad...)
		if !e.New {
			w.touchEntities = append(w.touchEntities, map[string]any{
				"id": e.ID, "aliases": aliases, "labels": labels, "type": nullable(e.Type),
			})
			continue
		}
		key := e.Key
		if key == "" {
			key = graph.EntityKey(e.Name)
		}
		switch {
		case strings.TrimSpace(e.Name) == "" || len(e.Name) > maxEntityName || !utf8.ValidString(e.Name):
			bad = append(bad, graph.FieldError{Path: path + ".name", Message: fmt.Sprintf("must be non-empty UTF-8 of at most %d bytes", maxEntityName)})
		case key == "" || len(key) > maxEntityKey || !utf8.ValidString(key):
			bad = append(bad, graph.FieldError{Path: path + ".key", Message: fmt.Sprintf("must be non-empty UTF-8 of at most %d bytes", maxEntityKey)})
		case keys[key] != "":
			bad = append(bad, graph.FieldError{Path: path + ".key", Message: "repeats the key of " + keys[key]})
		default:
			keys[key] = path
		}
		if fe := vector.CheckDims(path+".embedding", e.Embedding, s.cfg.Dimensions); fe != nil {
			bad = append(bad, *fe)
		}
		props := scopeProps(plan.Scope)
		props["id"] = e.ID
		props["search_tags"] = searchTags(plan.Scope)
		props["name"] = e.Name
		props["key"] = key
		props["type"] = nullable(e.Type)
		props["aliases"] = slices.DeleteFunc(aliases, func(a string) bool { return a == key })
		props["is_user"] = e.IsUser
		props["mentions"] = int64(1)
		props["created_at"] = at
		props["updated_at"] = at
		w.newEntities = append(w.newEntities, map[string]any{
			"props":     props,
			"labels":    labels,
			"embedding": vector64(e.Embedding),
			"event":     event(plan.Scope, e.ID, graph.TargetEntity, graph.OpAdd, "", e.Name),
		})
	}

	olds := map[string]string{}
	oldID := func(path, id string) bool {
		if !checkID(path, id) {
			return false
		}
		if prev, ok := olds[id]; ok {
			bad = append(bad, graph.FieldError{Path: path, Message: "is already changed by " + prev})
			return false
		}
		olds[id] = path
		return true
	}
	for i, mo := range plan.Memories {
		path := fmt.Sprintf("memories[%d]", i)
		switch mo.Op {
		case graph.OpAdd, graph.OpUpdate, graph.OpDelete:
		default:
			bad = append(bad, graph.FieldError{Path: path + ".op", Message: "must be ADD, UPDATE or DELETE"})
			continue
		}
		if mo.Op != graph.OpAdd {
			if !oldID(path+".old_id", mo.OldID) {
				continue
			}
			row := map[string]any{"old_id": mo.OldID}
			if mo.Op == graph.OpUpdate {
				row["event"] = event(plan.Scope, mo.OldID, graph.TargetMemory, graph.OpUpdate, "", mo.Memory.Text)
			} else {
				row["event"] = event(plan.Scope, mo.OldID, graph.TargetMemory, graph.OpDelete, "", "")
			}
			w.invalidateMemories = append(w.invalidateMemories, row)
			if mo.Op == graph.OpDelete {
				continue
			}
		}
		m := mo.Memory
		switch {
		case m.Scope == graph.Scope{}:
			m.Scope = plan.Scope
		case m.Scope != plan.Scope:
			bad = append(bad, graph.FieldError{Path: path + ".memory.scope", Message: "must be empty or the plan's scope"})
			continue
		}
		if m.ID == "" {
			m.ID = graph.NewID()
		}
		if m.Kind == "" {
			m.Kind = graph.KindFact
		}
		created := at
		if mo.Op == graph.OpAdd {
			created = said
		}
		m.CreatedAt, m.UpdatedAt, m.ValidFrom, m.InvalidAt = created, created, created, nil
		m.Hash = graph.HashText(m.Text)
		row, fields := s.memoryRow(m, plan.Audit, at, path+".memory")
		if len(fields) > 0 {
			bad = append(bad, fields...)
			continue
		}
		claim(path+".memory.id", m.ID)
		var mentions []string
		for j, id := range mo.Mentions {
			if checkID(fmt.Sprintf("%s.mentions[%d]", path, j), id) && !slices.Contains(mentions, id) {
				mentions = append(mentions, id)
			}
		}
		row["mentions"] = mentions
		row["supersedes"] = nil
		if mo.Op == graph.OpUpdate {
			row["supersedes"] = mo.OldID
		}
		row["path"] = path
		w.createMemories = append(w.createMemories, row)
	}

	for i, ro := range plan.Relations {
		path := fmt.Sprintf("relations[%d]", i)
		switch ro.Op {
		case graph.OpAdd, graph.OpUpdate, graph.OpDelete:
		default:
			bad = append(bad, graph.FieldError{Path: path + ".op", Message: "must be ADD, UPDATE or DELETE"})
			continue
		}
		if ro.Op != graph.OpAdd {
			if !oldID(path+".old_id", ro.OldID) {
				continue
			}
			row := map[string]any{"old_id": ro.OldID, "event": nil}
			if ro.Op == graph.OpDelete {
				row["event"] = event(plan.Scope, ro.OldID, graph.TargetRelation, graph.OpInvalidate, "", "")
			}
			w.invalidateRelations = append(w.invalidateRelations, row)
			if ro.Op == graph.OpDelete {
				continue
			}
		}
		r := ro.Relation
		if !validRelationType(r.Type) {
			bad = append(bad, graph.FieldError{Path: path + ".relation.type", Message: fmt.Sprintf("%q is not a normalised relationship type (graph.RelationType)", r.Type)})
		}
		checkID(path+".relation.source_id", r.SourceID)
		checkID(path+".relation.target_id", r.TargetID)
		if r.ID == "" {
			r.ID = graph.NewID()
		}
		if checkID(path+".relation.id", r.ID) {
			claim(path+".relation.id", r.ID)
		}
		memoryIDs := []string{}
		for j, id := range r.MemoryIDs {
			if checkID(fmt.Sprintf("%s.relation.memory_ids[%d]", path, j), id) && !slices.Contains(memoryIDs, id) {
				memoryIDs = append(memoryIDs, id)
			}
		}
		props := scopeProps(plan.Scope)
		delete(props, "scope_key")
		props["id"] = r.ID
		created := at
		if ro.Op == graph.OpAdd {
			created = said
		}
		props["valid_from"] = created
		props["created_at"] = created
		props["updated_at"] = created
		props["mentions"] = int64(1)
		props["memory_ids"] = memoryIDs
		row := map[string]any{
			"path":       path,
			"op":         string(ro.Op),
			"source_id":  r.SourceID,
			"target_id":  r.TargetID,
			"type":       r.Type,
			"memory_ids": memoryIDs,
			"props":      props,
		}
		if ro.Op == graph.OpUpdate {
			props["supersedes"] = ro.OldID
			row["old_id"] = ro.OldID
			// The old text and scope are filled in from the invalidation.
			row["event"] = event(plan.Scope, ro.OldID, graph.TargetRelation, graph.OpUpdate, "", "")
			// The new version has a history of its own, starting with ADD.
			row["add_event"] = event(plan.Scope, r.ID, graph.TargetRelation, graph.OpAdd, "", "")
		} else {
			row["event"] = event(plan.Scope, r.ID, graph.TargetRelation, graph.OpAdd, "", "")
		}
		w.createRelations = append(w.createRelations, row)
	}
	if len(bad) > 0 {
		return nil, graph.InvalidFields(op, bad...)
	}
	return w, nil
}

// cleanAliases drops empty and repeated aliases and reports bad ones.
func cleanAliases(path string, in []string) ([]string, []graph.FieldError) {
	out := []string{}
	var bad []graph.FieldError
	for j, a := range in {
		switch {
		case a == "" || slices.Contains(out, a):
		case len(a) > maxEntityKey || !utf8.ValidString(a):
			bad = append(bad, graph.FieldError{Path: fmt.Sprintf("%s.aliases[%d]", path, j),
				Message: fmt.Sprintf("must be UTF-8 of at most %d bytes", maxEntityKey)})
		default:
			out = append(out, a)
		}
	}
	return out, bad
}

// checkLease verifies the fencing token and write-locks the lock node until
// commit.
const checkLease = `
MATCH (l:ScopeLock {scope_key: $scope_key})
WHERE {{scope l}}
  AND l.token = $token
  AND l.expires_at > datetime()
SET l.applied_at = datetime()
RETURN count(l) AS held`

// createEntities creates new entities; the final scope predicate counts only
// those that landed in the plan's scope, which must be all of them.
const createEntities = `
UNWIND $rows AS row
CREATE (e:__Entity__)
SET e = row.props
SET e:$(row.labels)
WITH e, row
CALL db.create.setNodeVectorProperty(e, 'embedding', row.embedding)
CREATE (ev:Event)
SET ev = row.event
WITH e
WHERE {{scope e}}
RETURN count(e) AS created`

const touchEntities = `
UNWIND $rows AS row
MATCH (e:__Entity__ {id: row.id})
WHERE {{scope e}}
SET e.aliases = coalesce(e.aliases, []) + [a IN row.aliases WHERE a <> e.key AND NOT a IN coalesce(e.aliases, [])],
  e.mentions = coalesce(e.mentions, 0) + 1,
  e.updated_at = $at,
  e.type = coalesce(e.type, row.type)
SET e:$(row.labels)
RETURN collect(e.id) AS done`

// invalidateMemories closes the validity of the memories an UPDATE or
// DELETE replaces and records its event on the old memory, with the old
// memory's text and scope ids (so the old memory's history shows it). The
// first SET takes the memory's write lock before its validity, version and
// text are read, so two adds (of overlapping scopes) never both invalidate
// it, and the event records the last committed text. A memory left out
// (invalidated meanwhile) is a Conflict of the whole plan.
const invalidateMemories = `
UNWIND $rows AS row
MATCH (m:Memory {id: row.old_id})
WHERE {{scope m}}
SET m.updated_at = $at
WITH row, m
WHERE m.invalid_at IS NULL
  AND (m.expires_at IS NULL OR m.expires_at > $now)
SET m.invalid_at = $at
SET m.version = coalesce(m.version, 1) + 1
CREATE (ev:Event)
SET ev = row.event, ev.old = m.text, ev.user_id = m.user_id, ev.agent_id = m.agent_id, ev.run_id = m.run_id
RETURN collect(m.id) AS done`

// createPlanMemories is createMemories plus MENTIONS and SUPERSEDES; it
// returns the mentioned entities that are not in the scope.
const createPlanMemories = `
UNWIND $rows AS row
CREATE (m:Memory)
SET m = row.props
WITH m, row
CALL db.create.setNodeVectorProperty(m, 'embedding', row.embedding)
CREATE (ev:Event)
SET ev = row.event
WITH m, row
CALL (m, row) {
  UNWIND row.mentions AS eid
  OPTIONAL MATCH (x:__Entity__ {id: eid})
  WHERE {{scope x}}
  FOREACH (_ IN CASE WHEN x IS NULL THEN [] ELSE [1] END | CREATE (m)-[:MENTIONS]->(x))
  RETURN collect(CASE WHEN x IS NULL THEN row.path + ' mentions ' + eid END) AS missing
}
CALL (m, row) {
  MATCH (old:Memory {id: row.supersedes})
  WHERE {{scope old}}
  CREATE (m)-[:SUPERSEDES]->(old)
  WITH m, old
  MATCH (old)-[:MENTIONS]->(x:__Entity__)
  MERGE (m)-[:MENTIONS]->(x)
}
RETURN reduce(acc = [], x IN collect(missing) | acc + x) AS missing`

// invalidateRelations closes the validity of the relations an UPDATE or
// DELETE replaces (DELETE records its INVALIDATE event here) and returns
// their "source TYPE target" text and scope ids for the UPDATE events.
const invalidateRelations = `
UNWIND $rows AS row
MATCH (s:__Entity__)-[r]->(t:__Entity__)
WHERE {{scope s}}
  AND r.id = row.old_id
  AND {{scope r}}
  AND r.invalid_at IS NULL
SET r.invalid_at = $at, r.updated_at = $at
WITH row, r, s.name + ' ' + type(r) + ' ' + t.name AS text
FOREACH (ev IN CASE WHEN row.event IS NULL THEN [] ELSE [row.event] END |
  CREATE (e:Event)
  SET e = ev, e.old = text, e.user_id = r.user_id, e.agent_id = r.agent_id, e.run_id = r.run_id)
RETURN collect({id: r.id, text: text, user_id: r.user_id, agent_id: r.agent_id, run_id: r.run_id}) AS done`

// createRelations applies ADD and UPDATE relation rows one after the other
// (a CALL subquery sees the writes of the rows before it, so two equal
// relations in one plan become one with two mentions). It returns the rows
// whose ends are not entities of the scope.
const createRelations = `
UNWIND $rows AS row
OPTIONAL MATCH (s:__Entity__ {id: row.source_id})
WHERE {{scope s}}
OPTIONAL MATCH (t:__Entity__ {id: row.target_id})
WHERE {{scope t}}
CALL (s, t, row) {
  WITH s, t, row
  WHERE s IS NOT NULL AND t IS NOT NULL
  OPTIONAL MATCH (s)-[same]->(t)
  WHERE type(same) = row.type
    AND same.invalid_at IS NULL
    AND {{scope same}}
  WITH s, t, row, head(collect(same)) AS same
  CALL (s, t, row, same) {
    WITH s, t, row, same
    WHERE same IS NOT NULL
    SET same.mentions = coalesce(same.mentions, 0) + 1,
      same.memory_ids = coalesce(same.memory_ids, []) + [x IN row.memory_ids WHERE NOT x IN coalesce(same.memory_ids, [])],
      same.updated_at = $at
    RETURN false AS created
  UNION
    WITH s, t, row, same
    WHERE same IS NULL
    CREATE (s)-[r:$(row.type)]->(t)
    SET r = row.props
    RETURN true AS created
  }
  WITH row, created, s.name + ' ' + row.type + ' ' + t.name AS text
  FOREACH (ev IN CASE WHEN created OR row.op = 'UPDATE' THEN [row.event] ELSE [] END |
    CREATE (e:Event)
    SET e = ev, e.new = text)
  FOREACH (ev IN CASE WHEN created AND row.op = 'UPDATE' THEN [row.add_event] ELSE [] END |
    CREATE (e:Event)
    SET e = ev, e.new = text)
  RETURN count(*) AS applied
}
RETURN collect(CASE WHEN applied = 0 THEN row.path END) AS missing`

// run executes the prepared statements inside one transaction; claim runs
// right after the lease check (the idempotency key, if any).
func (w *applyWork) run(ctx context.Context, tx neo4j.ManagedTransaction, claim func() error) error {
	step := func(name, q string, params map[string]any) (*neo4j.Record, error) {
		params["at"] = w.at
		params["now"] = now()
		recs, err := collect(ctx, tx, scoped(q, w.scope, params), params)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if applyFault != nil {
			if err := applyFault(name); err != nil {
				return nil, err
			}
		}
		if len(recs) != 1 {
			return nil, graph.E(graph.Other, "", "%s: %d rows, want 1", name, len(recs))
		}
		return recs[0], nil
	}
	list := func(rec *neo4j.Record, k string) []any {
		v, _ := rec.Get(k)
		xs, _ := v.([]any)
		return xs
	}

	rec, err := step("lease", checkLease, map[string]any{"scope_key": w.scope.Key(), "token": w.token})
	if err != nil {
		return err
	}
	if held, _ := rec.Get("held"); held != int64(1) {
		return graph.E(graph.Conflict, "", "lease lost: the lock of scope %s is no longer held by this lease", describeScope(w.scope))
	}
	if err := claim(); err != nil {
		return err
	}

	if len(w.newEntities) > 0 {
		rec, err := step("new entities", createEntities, map[string]any{"rows": w.newEntities})
		if err != nil {
			return err
		}
		if n, _ := rec.Get("created"); n != int64(len(w.newEntities)) {
			return graph.E(graph.Other, "", "created %v of %d entities in the plan's scope", n, len(w.newEntities))
		}
	}
	if len(w.touchEntities) > 0 {
		rec, err := step("entities", touchEntities, map[string]any{"rows": w.touchEntities})
		if err != nil {
			return err
		}
		if missing := missingIDs(w.touchEntities, "id", list(rec, "done")); len(missing) > 0 {
			return graph.E(graph.Conflict, "", "entities not found in scope: %s", strings.Join(missing, ", "))
		}
	}

	if len(w.invalidateMemories) > 0 {
		rec, err := step("invalidate memories", invalidateMemories, map[string]any{"rows": w.invalidateMemories})
		if err != nil {
			return err
		}
		if missing := missingIDs(w.invalidateMemories, "old_id", list(rec, "done")); len(missing) > 0 {
			return graph.E(graph.Conflict, "", "memories to update or delete are not current memories of the scope: %s", strings.Join(missing, ", "))
		}
	}
	if len(w.createMemories) > 0 {
		rec, err := step("memories", createPlanMemories, map[string]any{"rows": w.createMemories})
		if err != nil {
			return err
		}
		if missing := list(rec, "missing"); len(missing) > 0 {
			return graph.E(graph.Conflict, "", "mentioned entities not found in scope: %v", missing)
		}
	}

	if len(w.invalidateRelations) > 0 {
		rec, err := step("invalidate relations", invalidateRelations, map[string]any{"rows": w.invalidateRelations})
		if err != nil {
			return err
		}
		done := list(rec, "done")
		old := map[string]map[string]any{}
		var doneIDs []any
		for _, d := range done {
			m, _ := d.(map[string]any)
			old[str(m, "id")] = m
			doneIDs = append(doneIDs, m["id"])
		}
		if missing := missingIDs(w.invalidateRelations, "old_id", doneIDs); len(missing) > 0 {
			return graph.E(graph.Conflict, "", "relations to update or delete are not current relations of the scope: %s", strings.Join(missing, ", "))
		}
		// The UPDATE events belong to the old relation: its text and scope.
		for _, row := range w.createRelations {
			if row["op"] != string(graph.OpUpdate) {
				continue
			}
			o := old[row["old_id"].(string)]
			ev := row["event"].(map[string]any)
			ev["old"] = o["text"]
			ev["user_id"], ev["agent_id"], ev["run_id"] = o["user_id"], o["agent_id"], o["run_id"]
		}
	}
	if len(w.createRelations) > 0 {
		rec, err := step("relations", createRelations, map[string]any{"rows": w.createRelations})
		if err != nil {
			return err
		}
		if missing := list(rec, "missing"); len(missing) > 0 {
			return graph.E(graph.Conflict, "", "relation ends are not entities of the scope: %v", missing)
		}
	}
	if applyFault != nil {
		return applyFault("commit")
	}
	return nil
}

// missingIDs returns the values of rows[i][key] that are not in done.
func missingIDs(rows []map[string]any, key string, done []any) []string {
	var out []string
	for _, row := range rows {
		id, _ := row[key].(string)
		if !slices.Contains(done, any(id)) {
			out = append(out, id)
		}
	}
	return out
}
