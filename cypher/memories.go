package cypher

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/vector"
)

// memoryMap projects the memory m without its embedding (vectors are large
// and no caller of these operations needs them back); memoryProjection
// returns it as column m.
const (
	memoryMap = `m {.id, .tenant, .user_id, .agent_id, .run_id, .actor_id, .role, .text, .hash,
  .kind, .metadata, .source, .created_at, .updated_at, .expires_at, .valid_from, .invalid_at, .version}`
	memoryProjection = memoryMap + ` AS m`
)

const createMemories = `
UNWIND $rows AS row
CREATE (m:Memory)
SET m = row.props
WITH m, row
CALL db.create.setNodeVectorProperty(m, 'embedding', row.embedding)
CREATE (e:Event)
SET e = row.event
RETURN count(m) AS created`

// CreateMemories stores memories and an ADD event for each, in one
// transaction: all land or none. Ids, hashes and timestamps left empty are
// filled in; the stored memories are returned. Every memory needs a scope with
// at least one id, a text, and an embedding of the configured dimension.
//
// Errors: Invalid (naming the bad field as memories[i].field), Conflict (an id
// that exists), Unavailable.
func (s *Store) CreateMemories(ctx context.Context, mems []graph.Memory, audit graph.Audit) ([]graph.Memory, error) {
	const op = "create memories"
	if len(mems) == 0 {
		return nil, nil
	}
	t := now()
	out := make([]graph.Memory, len(mems))
	rows := make([]map[string]any, len(mems))
	var bad []graph.FieldError
	for i, m := range mems {
		path := fmt.Sprintf("memories[%d]", i)
		if m.ID == "" {
			m.ID = graph.NewID()
		}
		if m.Kind == "" {
			m.Kind = graph.KindFact
		}
		if m.CreatedAt.IsZero() {
			m.CreatedAt = t
		}
		m.CreatedAt = m.CreatedAt.UTC()
		if m.UpdatedAt.IsZero() {
			m.UpdatedAt = m.CreatedAt
		}
		if m.ValidFrom.IsZero() {
			m.ValidFrom = m.CreatedAt
		}
		m.Hash = graph.HashText(m.Text)
		m.Version = 1
		if m.Metadata == nil {
			m.Metadata = map[string]any{}
		}
		row, fields := s.memoryRow(m, audit, t, path)
		if len(fields) > 0 {
			bad = append(bad, fields...)
			continue
		}
		out[i], rows[i] = m, row
	}
	// An idempotency key belongs to one tenant: a keyed write stays in it.
	tenant := mems[0].Scope.Tenant
	for i, m := range mems {
		if audit.Once != nil && m.Scope.Tenant != tenant {
			bad = append(bad, graph.FieldError{Path: fmt.Sprintf("memories[%d].scope.tenant", i), Message: "must be the tenant of memories[0]"})
		}
	}
	if err := checkOnce(op, audit.Once); err != nil {
		bad = append(bad, graph.FieldsOf(err)...)
	}
	if len(bad) > 0 {
		return nil, graph.InvalidFields(op, bad...)
	}
	_, err := s.write(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		if err := s.claim(ctx, tx, op, mems[0].Scope, audit.Once); err != nil {
			return nil, err
		}
		if _, err := collect(ctx, tx, createMemories, map[string]any{"rows": rows}); err != nil {
			return nil, err
		}
		return nil, record(ctx, tx, tenant, audit.Once, out)
	})
	if err != nil {
		return nil, translate(op, err)
	}
	return out, nil
}

// memoryRow validates m and returns its node properties, vector and ADD
// event, dated at (the write; a memory may date from earlier, when what it
// says was said).
func (s *Store) memoryRow(m graph.Memory, audit graph.Audit, at time.Time, path string) (map[string]any, []graph.FieldError) {
	var bad []graph.FieldError
	addErr := func(err error) {
		for _, f := range graph.FieldsOf(err) {
			f.Path = path + "." + f.Path
			bad = append(bad, f)
		}
	}
	if err := m.Scope.ValidateSelector(""); err != nil {
		addErr(err)
	}
	if !graph.ValidID(m.ID) {
		bad = append(bad, graph.FieldError{Path: path + ".id", Message: "must be a UUID"})
	}
	if err := graph.CheckText("", "text", m.Text); err != nil {
		addErr(err)
	}
	if !m.Kind.Valid() {
		bad = append(bad, graph.FieldError{Path: path + ".kind", Message: "must be fact, raw or procedural"})
	}
	if fe := vector.CheckDims(path+".embedding", m.Embedding, s.cfg.Dimensions); fe != nil {
		bad = append(bad, *fe)
	}
	mdText, flat, err := encodeMetadata("", m.Metadata)
	if err != nil {
		addErr(err)
	}
	if len(bad) > 0 {
		return nil, bad
	}
	props := scopeProps(m.Scope)
	delete(props, "scope_key")
	for k, v := range flat {
		props[k] = v
	}
	props["id"] = m.ID
	props["search_tags"] = searchTags(m.Scope)
	props["actor_id"] = nullable(m.ActorID)
	props["role"] = nullable(m.Role)
	props["text"] = m.Text
	props["hash"] = m.Hash
	props["kind"] = string(m.Kind)
	props["metadata"] = mdText
	props["source"] = m.Source
	props["created_at"] = m.CreatedAt
	props["updated_at"] = m.UpdatedAt.UTC()
	props["valid_from"] = m.ValidFrom.UTC()
	props["version"] = int64(1)
	if m.ExpiresAt != nil {
		props["expires_at"] = m.ExpiresAt.UTC()
	}
	if m.InvalidAt != nil {
		props["invalid_at"] = m.InvalidAt.UTC()
	}
	ev := eventProps(graph.Event{
		ID: graph.NewID(), Scope: m.Scope, TargetID: m.ID, TargetKind: graph.TargetMemory,
		Op: graph.OpAdd, New: m.Text, At: at, Audit: audit,
	})
	return map[string]any{"props": props, "embedding": vector64(m.Embedding), "event": ev}, nil
}

// vector64 converts a vector for the driver, which packs []float64 quickly
// (its []float32 path is slow); setNodeVectorProperty stores float32 anyway.
func vector64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func eventProps(e graph.Event) map[string]any {
	p := scopeProps(e.Scope)
	delete(p, "scope_key")
	p["id"] = e.ID
	p["target_id"] = e.TargetID
	p["target_kind"] = string(e.TargetKind)
	p["op"] = string(e.Op)
	p["old"] = nullable(e.Old)
	p["new"] = nullable(e.New)
	p["at"] = e.At.UTC()
	p["actor_id"] = nullable(e.ActorID)
	p["role"] = nullable(e.Role)
	p["request_id"] = nullable(e.RequestID)
	return p
}

const getMemory = `
MATCH (m:Memory {id: $id})
WHERE {{scope m}}
RETURN ` + memoryProjection

// GetMemory returns one memory of the scope (current or invalidated).
// Errors: Invalid (bad id or scope), NotFound (no such memory in this tenant
// and scope), Unavailable.
func (s *Store) GetMemory(ctx context.Context, scope graph.Scope, id string) (graph.Memory, error) {
	const op = "get memory"
	if err := checkScopeAndID(op, scope, id); err != nil {
		return graph.Memory{}, err
	}
	params := map[string]any{"id": id}
	q := scoped(getMemory, scope, params)
	recs, err := s.readRecords(ctx, q, params)
	if err != nil {
		return graph.Memory{}, translate(op, err)
	}
	if len(recs) == 0 {
		return graph.Memory{}, graph.E(graph.NotFound, op, "memory %s not found", id)
	}
	return memoryFromRecord(recs[0])
}

func checkScopeAndID(op string, scope graph.Scope, id string) error {
	if err := scope.Validate(op); err != nil {
		return err
	}
	return graph.CheckID(op, "id", id)
}

// Page sizes.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// listMemories orders by creation time then id. Memories that exist when a
// listing starts keep their position, so paging through never repeats or
// skips one of them, whatever is inserted meanwhile.
const listMemories = `
MATCH (m:Memory)
WHERE {{scope m}}
  AND ($include_invalid OR m.invalid_at IS NULL)
  AND (m.expires_at IS NULL OR m.expires_at > $now)
  AND ($after_at IS NULL OR m.created_at > $after_at OR (m.created_at = $after_at AND m.id > $after_id)){{filter}}
WITH m
ORDER BY m.created_at, m.id
LIMIT $limit
RETURN ` + memoryProjection

// ListMemories returns one page of the scope's memories, oldest first;
// expired memories are left out. The scope needs at least one id, or a set
// of scopes (Any).
// Errors: Invalid (scope, limit, cursor), Unavailable.
func (s *Store) ListMemories(ctx context.Context, scope graph.Scope, opt graph.ListQuery) (graph.Page[graph.Memory], error) {
	const op = "list memories"
	if err := scope.ValidateSet(op); err != nil {
		return graph.Page[graph.Memory]{}, err
	}
	limit := opt.Limit
	switch {
	case limit == 0:
		limit = DefaultPageSize
	case limit < 0 || limit > MaxPageSize:
		return graph.Page[graph.Memory]{}, graph.InvalidFields(op, graph.FieldError{Path: "limit", Message: fmt.Sprintf("must be between 1 and %d", MaxPageSize)})
	}
	cur, err := decodeCursor(opt.Cursor)
	if err != nil {
		return graph.Page[graph.Memory]{}, graph.InvalidFields(op, graph.FieldError{Path: "cursor", Message: err.Error()})
	}
	params := map[string]any{
		"include_invalid": opt.IncludeInvalid,
		"now":             now(),
		"after_at":        nil,
		"after_id":        nil,
		"limit":           int64(limit + 1),
	}
	if cur != nil {
		params["after_at"], params["after_id"] = cur.At, cur.ID
	}
	filter, err := filterClause(opt.Filter, "m", params)
	if err != nil {
		return graph.Page[graph.Memory]{}, err
	}
	q := scoped(strings.Replace(listMemories, "{{filter}}", filter, 1), scope, params)
	recs, err := s.readRecords(ctx, q, params)
	if err != nil {
		return graph.Page[graph.Memory]{}, translate(op, err)
	}
	page := graph.Page[graph.Memory]{Items: make([]graph.Memory, 0, min(len(recs), limit))}
	for i, rec := range recs {
		if i == limit {
			last := page.Items[limit-1]
			page.Next = encodeCursor(cursor{At: last.CreatedAt, ID: last.ID})
			break
		}
		m, err := memoryFromRecord(rec)
		if err != nil {
			return graph.Page[graph.Memory]{}, err
		}
		page.Items = append(page.Items, m)
	}
	return page, nil
}

type cursor struct {
	At time.Time `json:"t"`
	ID string    `json:"id"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (*cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("is not a cursor returned by a listing")
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.At.IsZero() || !graph.ValidID(c.ID) {
		return nil, fmt.Errorf("is not a cursor returned by a listing")
	}
	// Stored times are UTC; a time in another zone would neither compare
	// equal to them nor travel well through the driver.
	c.At = c.At.UTC()
	return &c, nil
}

// lockForUpdate takes the memory's write lock (the SET) before it reads
// anything, so the read sees the last committed update and no other update
// of this memory can commit until this transaction ends: read, merge and
// write are one atomic step. Memories written before versions existed count
// as version 1.
const lockForUpdate = `
MATCH (m:Memory {id: $id})
WHERE {{scope m}}
SET m.updated_at = $now
WITH m
RETURN m.text AS text, m.metadata AS metadata, coalesce(m.version, 1) AS version,
  [k IN keys(m) WHERE k STARTS WITH 'meta_'] AS meta_keys`

const applyUpdate = `
MATCH (m:Memory {id: $id})
WHERE {{scope m}}
SET m += $props
CREATE (e:Event)
SET e = $event, e.user_id = m.user_id, e.agent_id = m.agent_id, e.run_id = m.run_id
RETURN ` + memoryProjection

const setEmbedding = `
MATCH (m:Memory {id: $id})
WHERE {{scope m}}
CALL db.create.setNodeVectorProperty(m, 'embedding', $embedding)`

// lockedMemory is what lockForUpdate read under the memory's write lock.
type lockedMemory struct {
	text, metadata string
	version        int64
	metaKeys       []any
}

// lockMemory write-locks one memory of the scope inside tx and returns its
// current state. Errors: NotFound; Stale when ifVersion is not 0 and not the
// memory's version.
func lockMemory(ctx context.Context, tx neo4j.ManagedTransaction, op string, scope graph.Scope, id string, ifVersion int64, t time.Time) (lockedMemory, error) {
	params := map[string]any{"id": id, "now": t}
	recs, err := collect(ctx, tx, scoped(lockForUpdate, scope, params), params)
	if err != nil {
		return lockedMemory{}, err
	}
	if len(recs) == 0 {
		return lockedMemory{}, graph.E(graph.NotFound, op, "memory %s not found", id)
	}
	cur := recs[0].AsMap()
	var l lockedMemory
	l.text, _ = cur["text"].(string)
	l.metadata, _ = cur["metadata"].(string)
	l.version, _ = cur["version"].(int64)
	l.metaKeys, _ = cur["meta_keys"].([]any)
	if ifVersion != 0 && ifVersion != l.version {
		return lockedMemory{}, graph.E(graph.Stale, op, "memory %s is at version %d, not %d", id, l.version, ifVersion)
	}
	return l, nil
}

// UpdateMemory changes a memory's text and/or metadata in place and records
// an UPDATE event with the old and new text. A new text needs its new
// embedding (computed by the caller before this call). The read of the
// current text and metadata, the merge and the write happen in one
// transaction under the memory's write lock, so concurrent updates never
// drop one another: each UPDATE event's old text is the text it replaced,
// and the meta_* properties always equal the metadata map.
// Errors: Invalid, NotFound, Stale (p.IfVersion), Conflict (audit.Once was
// used: graph.IsDone), Unavailable.
func (s *Store) UpdateMemory(ctx context.Context, scope graph.Scope, id string, p graph.MemoryPatch, audit graph.Audit) (graph.Memory, error) {
	ms, err := s.updateMemories(ctx, scope, []graph.MemoryChange{{ID: id, Patch: p}}, audit, true)
	if err != nil {
		return graph.Memory{}, err
	}
	return ms[0], nil
}

// UpdateMemories applies several updates in one transaction, each as
// UpdateMemory does: all land or none. Bad changes are reported as
// changes[i].field (or without the prefix for a single change).
// With audit.Once, the number of updated memories is recorded as the
// result.
func (s *Store) UpdateMemories(ctx context.Context, scope graph.Scope, changes []graph.MemoryChange, audit graph.Audit) ([]graph.Memory, error) {
	return s.updateMemories(ctx, scope, changes, audit, false)
}

// updateMemories is UpdateMemories; single records the one memory rather
// than a list (UpdateMemory's result).
func (s *Store) updateMemories(ctx context.Context, scope graph.Scope, changes []graph.MemoryChange, audit graph.Audit, single bool) ([]graph.Memory, error) {
	const op = "update memory"
	if err := scope.Validate(op); err != nil {
		return nil, err
	}
	var bad []graph.FieldError
	for i, c := range changes {
		prefix := ""
		if len(changes) > 1 {
			prefix = fmt.Sprintf("changes[%d].", i)
		}
		bad = append(bad, s.checkPatch(op, prefix, c)...)
	}
	if err := checkOnce(op, audit.Once); err != nil {
		bad = append(bad, graph.FieldsOf(err)...)
	}
	if len(changes) == 0 {
		bad = append(bad, graph.FieldError{Path: "changes", Message: "at least one change is required"})
	}
	if len(bad) > 0 {
		return nil, graph.InvalidFields(op, bad...)
	}
	res, err := s.write(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		if err := s.claim(ctx, tx, op, scope, audit.Once); err != nil {
			return nil, err
		}
		// Locks are taken in id order, so two batches with the same
		// memories never deadlock; the answer keeps the request's order.
		out := make([]graph.Memory, len(changes))
		for _, i := range byID(changes) {
			m, err := s.updateInTx(ctx, tx, op, scope, changes[i], audit)
			if err != nil {
				return nil, err
			}
			out[i] = m
		}
		// One update records the memory (its answer); a batch, the count
		// (its answer, and small however large the batch).
		var v any = len(out)
		if single {
			v = out[0]
		}
		return out, record(ctx, tx, scope.Tenant, audit.Once, v)
	})
	if err != nil {
		return nil, translate(op, err)
	}
	return res.([]graph.Memory), nil
}

// byID returns the indexes of changes in the order of their ids: the order
// in which a batch takes its locks.
func byID(changes []graph.MemoryChange) []int {
	idx := make([]int, len(changes))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(changes[a].ID, changes[b].ID) })
	return idx
}

// checkPatch validates one change before any transaction: its errors are
// the caller's.
func (s *Store) checkPatch(op, prefix string, c graph.MemoryChange) []graph.FieldError {
	var bad []graph.FieldError
	p := c.Patch
	bad = append(bad, graph.FieldsOf(graph.CheckID(op, prefix+"id", c.ID))...)
	if p.Text == nil && p.Metadata == nil && !p.ReplaceMetadata {
		bad = append(bad, graph.FieldError{Path: prefix + "text", Message: "text or metadata is required"})
	}
	if p.Text != nil {
		bad = append(bad, graph.FieldsOf(graph.CheckText(op, prefix+"text", *p.Text))...)
		if fe := vector.CheckDims(prefix+"embedding", p.Embedding, s.cfg.Dimensions); fe != nil {
			bad = append(bad, *fe)
		}
	}
	if _, _, err := encodeMetadata(op, p.Metadata); err != nil {
		for _, f := range graph.FieldsOf(err) {
			f.Path = prefix + f.Path
			bad = append(bad, f)
		}
	}
	return bad
}

// updateInTx applies one change inside tx under the memory's write lock.
func (s *Store) updateInTx(ctx context.Context, tx neo4j.ManagedTransaction, op string, scope graph.Scope, c graph.MemoryChange, audit graph.Audit) (graph.Memory, error) {
	id, p := c.ID, c.Patch
	cur, err := lockMemory(ctx, tx, op, scope, id, p.IfVersion, now())
	if err != nil {
		return graph.Memory{}, err
	}
	// Taken under the lock, so the events of one memory are in the order of
	// its chain.
	t := now()
	md := mergeMetadata(decodeMetadata(cur.metadata), p.Metadata, p.ReplaceMetadata)
	mdText, flat, err := encodeMetadata(op, md)
	if err != nil {
		return graph.Memory{}, err
	}
	props := map[string]any{"updated_at": t, "metadata": mdText, "version": cur.version + 1}
	// Remove flattened keys that are gone, then set the current ones.
	for _, k := range cur.metaKeys {
		props[k.(string)] = nil
	}
	for k, v := range flat {
		props[k] = v
	}
	newText := cur.text
	if p.Text != nil {
		newText = *p.Text
		props["text"] = newText
		props["hash"] = graph.HashText(newText)
	}
	ev := eventProps(graph.Event{ID: graph.NewID(), Scope: graph.Scope{Tenant: scope.Tenant}, TargetID: id,
		TargetKind: graph.TargetMemory, Op: graph.OpUpdate, Old: cur.text, New: newText, At: t, Audit: audit})
	params := map[string]any{"id": id, "props": props, "event": ev}
	recs, err := collect(ctx, tx, scoped(applyUpdate, scope, params), params)
	if err != nil {
		return graph.Memory{}, err
	}
	if p.Text != nil {
		params := map[string]any{"id": id, "embedding": vector64(p.Embedding)}
		if _, err := collect(ctx, tx, scoped(setEmbedding, scope, params), params); err != nil {
			return graph.Memory{}, err
		}
	}
	return memoryFromRecord(recs[0])
}

// mergeMetadata applies a patch to old metadata: replace, or merge with nil
// values removing keys.
func mergeMetadata(old, patch map[string]any, replace bool) map[string]any {
	if replace {
		out := map[string]any{}
		for k, v := range patch {
			if v != nil {
				out[k] = v
			}
		}
		return out
	}
	for k, v := range patch {
		if v == nil {
			delete(old, k)
			continue
		}
		old[k] = v
	}
	return old
}

const deleteMemory = `
MATCH (m:Memory {id: $id})
WHERE {{scope m}}
CREATE (e:Event)
SET e = $event, e.user_id = m.user_id, e.agent_id = m.agent_id, e.run_id = m.run_id, e.old = m.text
DETACH DELETE m
RETURN e.id AS event`

// DeleteMemory removes a memory for good; its history stays, with a DELETE
// event added. With ifVersion not 0 it deletes only while the memory is at
// that version. Errors: Invalid, NotFound, Stale, Conflict (audit.Once was
// used: graph.IsDone), Unavailable.
func (s *Store) DeleteMemory(ctx context.Context, scope graph.Scope, id string, ifVersion int64, audit graph.Audit) error {
	return s.DeleteMemories(ctx, scope, []graph.MemoryChange{{ID: id, Patch: graph.MemoryPatch{IfVersion: ifVersion}}}, audit)
}

// DeleteMemories deletes several memories (each change's ID, at its
// Patch.IfVersion when not 0) in one transaction: all or none.
func (s *Store) DeleteMemories(ctx context.Context, scope graph.Scope, changes []graph.MemoryChange, audit graph.Audit) error {
	const op = "delete memory"
	if err := scope.Validate(op); err != nil {
		return err
	}
	var bad []graph.FieldError
	for i, c := range changes {
		path := "id"
		if len(changes) > 1 {
			path = fmt.Sprintf("changes[%d].id", i)
		}
		bad = append(bad, graph.FieldsOf(graph.CheckID(op, path, c.ID))...)
	}
	if err := checkOnce(op, audit.Once); err != nil {
		bad = append(bad, graph.FieldsOf(err)...)
	}
	if len(bad) > 0 {
		return graph.InvalidFields(op, bad...)
	}
	_, err := s.write(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		if err := s.claim(ctx, tx, op, scope, audit.Once); err != nil {
			return nil, err
		}
		for _, i := range byID(changes) {
			c := changes[i]
			// Locked first, so the DELETE event's old text is the last
			// committed one.
			if _, err := lockMemory(ctx, tx, op, scope, c.ID, c.Patch.IfVersion, now()); err != nil {
				return nil, err
			}
			t := now()
			ev := eventProps(graph.Event{ID: graph.NewID(), Scope: graph.Scope{Tenant: scope.Tenant}, TargetID: c.ID,
				TargetKind: graph.TargetMemory, Op: graph.OpDelete, At: t, Audit: audit})
			params := map[string]any{"id": c.ID, "event": ev}
			recs, err := collect(ctx, tx, scoped(deleteMemory, scope, params), params)
			if err != nil {
				return nil, err
			}
			if len(recs) == 0 {
				return nil, graph.E(graph.NotFound, op, "memory %s not found", c.ID)
			}
		}
		return nil, record(ctx, tx, scope.Tenant, audit.Once, nil)
	})
	return translate(op, err)
}

// deleteScopeBatch deletes one batch of memories or entities of a scope and
// records a DELETE event for each; entities take their relations with them.
const deleteScopeBatch = `
MATCH (m:%s)
WHERE {{scope m}}
WITH m LIMIT $batch
CREATE (e:Event)
SET e = $event, e.id = randomUUID(), e.target_id = m.id,
    e.user_id = m.user_id, e.agent_id = m.agent_id, e.run_id = m.run_id,
    e.old = coalesce(m.text, m.name)
DETACH DELETE m
RETURN count(*) AS deleted`

// purgeScopeBatch is deleteScopeBatch for erasure: the items' history goes too.
const purgeScopeBatch = `
MATCH (m:%s)
WHERE {{scope m}}
WITH m LIMIT $batch
CALL (m) {
  OPTIONAL MATCH (old:Event {tenant: m.tenant, target_id: m.id})
  DETACH DELETE old
}
DETACH DELETE m
RETURN count(*) AS deleted`

// deleteScopeJobs and purgeScopeKeys delete a batch of a scope's jobs and
// idempotency keys.
const (
	deleteScopeJobs = `
MATCH (j:Job)
WHERE {{scope j}}
WITH j LIMIT $batch
DETACH DELETE j
RETURN count(*) AS deleted`
	purgeScopeKeys = `
MATCH (k:IdempotencyKey)
WHERE {{scope k}}
WITH k LIMIT $batch
DETACH DELETE k
RETURN count(*) AS deleted`
)

// DeleteAll removes every memory and entity of the scope (which needs at
// least one id), and its asynchronous adds (jobs, pending ones too), in
// batches of Config.DeleteBatch so a large scope never needs one huge
// transaction; Purge also removes their history and the scope's recorded
// idempotency answers. It returns how many memories and entities were
// removed. Errors: Invalid, Unavailable (a partial delete may have happened;
// calling again finishes it).
func (s *Store) DeleteAll(ctx context.Context, scope graph.Scope, opt graph.DeleteOptions, audit graph.Audit) (int, error) {
	const op = "delete all memories"
	if err := scope.ValidateSet(op); err != nil {
		return 0, err
	}
	if err := checkOnce(op, audit.Once); err != nil {
		return 0, err
	}
	// The scope's asynchronous adds go first: a queued add would otherwise
	// write into the scope after its deletion, and its job keeps the raw
	// messages. A job running meanwhile cannot commit (its fence is gone).
	// Erasure (purge) also removes the recorded answers of the scope's
	// idempotency keys.
	cleanup := []string{deleteScopeJobs}
	if opt.Purge {
		cleanup = append(cleanup, purgeScopeKeys)
	}
	for _, q := range cleanup {
		if _, err := s.deleteInBatches(ctx, q, scope, nil, nil, false, 0); err != nil {
			return 0, translate(op, err)
		}
	}
	total := 0
	for _, kind := range []struct {
		label  string
		target graph.TargetKind
	}{{"Memory", graph.TargetMemory}, {"__Entity__", graph.TargetEntity}} {
		ev := eventProps(graph.Event{Scope: graph.Scope{Tenant: scope.Tenant}, TargetKind: kind.target,
			Op: graph.OpDelete, At: now(), Audit: audit})
		// Each event gets randomUUID() in the query; an id here would be
		// set first and collide with the batch's other events.
		delete(ev, "id")
		delete(ev, "target_id")
		tmpl := deleteScopeBatch
		if opt.Purge {
			tmpl = purgeScopeBatch
		}
		// The label is one of the two constants above.
		tmpl = fmt.Sprintf(tmpl, kind.label)
		n, err := s.deleteInBatches(ctx, tmpl, scope, map[string]any{"event": ev}, audit.Once, kind.label == "__Entity__", total)
		total += n
		if err != nil {
			return total, translate(op, err)
		}
	}
	return total, nil
}

// deleteInBatches runs a batch-delete query (returning "deleted") in one
// transaction per batch until a batch comes back short. With once, every
// batch first claims its key (a finished delete is not run again), and the
// short batch of the last query (final) records before+deleted as the
// result, in its own transaction.
func (s *Store) deleteInBatches(ctx context.Context, tmpl string, scope graph.Scope, extra map[string]any, once *graph.Once, final bool, before int) (int, error) {
	total := 0
	for {
		params := map[string]any{"batch": int64(s.cfg.DeleteBatch)}
		for k, v := range extra {
			params[k] = v
		}
		q := scoped(tmpl, scope, params)
		res, err := s.write(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
			if err := s.claim(ctx, tx, "delete", scope, once); err != nil {
				return nil, err
			}
			recs, err := collect(ctx, tx, q, params)
			if err != nil {
				return nil, err
			}
			n, _, err := neo4j.GetRecordValue[int64](recs[0], "deleted")
			if err != nil {
				return nil, err
			}
			if final && int(n) < s.cfg.DeleteBatch {
				return n, record(ctx, tx, scope.Tenant, once, before+total+int(n))
			}
			return n, nil
		})
		if err != nil {
			return total, err
		}
		n := int(res.(int64))
		total += n
		if n < s.cfg.DeleteBatch {
			return total, nil
		}
	}
}

// resetBatch deletes one batch of a tenant's nodes of one label.
const resetBatch = `
MATCH (n:%s)
WHERE {{scope n}}
WITH n LIMIT $batch
DETACH DELETE n
RETURN count(*) AS deleted`

// tenantLabels are the labels of every node neomem writes. A reset's own
// idempotency key is recorded by the last batch, so IdempotencyKey is not
// last (its batches would delete the key being recorded).
var tenantLabels = []string{"Memory", "__Entity__", "Event", "ScopeLock", "IdempotencyKey", "Job", "JobCounter"}

// Reset removes everything of one tenant — memories, entities, relations,
// history and locks — in batches. Other tenants are untouched. It returns the
// number of nodes removed. With audit.Once the last batch records the count
// (the reset's own key survives it). Errors: Invalid, Unavailable.
func (s *Store) Reset(ctx context.Context, tenant string, audit graph.Audit) (int, error) {
	const op = "reset tenant"
	scope := graph.Scope{Tenant: tenant}
	if err := scope.Validate(op); err != nil {
		return 0, err
	}
	if err := checkOnce(op, audit.Once); err != nil {
		return 0, err
	}
	total := 0
	for i, label := range tenantLabels {
		n, err := s.deleteInBatches(ctx, fmt.Sprintf(resetBatch, label), scope, nil, audit.Once, i == len(tenantLabels)-1, total)
		total += n
		if err != nil {
			return total, translate(op, err)
		}
	}
	return total, nil
}

const history = `
MATCH (e:Event)
WHERE {{scope e}} AND e.target_id = $id
RETURN e {.*} AS e
ORDER BY e.at, e.id`

// History returns the events of one memory, relation or entity, oldest
// first. It outlives a hard delete. Errors: Invalid, NotFound (no event for
// that id in this tenant and scope), Unavailable.
func (s *Store) History(ctx context.Context, scope graph.Scope, id string) ([]graph.Event, error) {
	const op = "history"
	if err := checkScopeAndID(op, scope, id); err != nil {
		return nil, err
	}
	params := map[string]any{"id": id}
	q := scoped(history, scope, params)
	recs, err := s.readRecords(ctx, q, params)
	if err != nil {
		return nil, translate(op, err)
	}
	if len(recs) == 0 {
		return nil, graph.E(graph.NotFound, op, "no history for %s", id)
	}
	out := make([]graph.Event, 0, len(recs))
	for _, rec := range recs {
		v, _ := rec.Get("e")
		p, _ := v.(map[string]any)
		out = append(out, graph.Event{
			ID:         str(p, "id"),
			Scope:      scopeFrom(p),
			TargetID:   str(p, "target_id"),
			TargetKind: graph.TargetKind(str(p, "target_kind")),
			Op:         graph.Op(str(p, "op")),
			Old:        str(p, "old"),
			New:        str(p, "new"),
			At:         timeOf(p, "at"),
			Audit:      graph.Audit{ActorID: str(p, "actor_id"), Role: str(p, "role"), RequestID: str(p, "request_id")},
		})
	}
	return out, nil
}

func memoryFromRecord(rec *neo4j.Record) (graph.Memory, error) {
	v, ok := rec.Get("m")
	p, isMap := v.(map[string]any)
	if !ok || !isMap {
		return graph.Memory{}, graph.E(graph.Other, "read memory", "unexpected record %v", rec.Keys)
	}
	return memoryFromMap(p), nil
}

// memoryFromMap maps a memoryMap projection to a Memory.
func memoryFromMap(p map[string]any) graph.Memory {
	m := graph.Memory{
		ID:        str(p, "id"),
		Scope:     scopeFrom(p),
		ActorID:   str(p, "actor_id"),
		Role:      str(p, "role"),
		Text:      str(p, "text"),
		Hash:      str(p, "hash"),
		Kind:      graph.MemoryKind(str(p, "kind")),
		Metadata:  decodeMetadata(str(p, "metadata")),
		CreatedAt: timeOf(p, "created_at"),
		UpdatedAt: timeOf(p, "updated_at"),
		ExpiresAt: timePtr(p, "expires_at"),
		Version:   1,
		Validity:  graph.Validity{ValidFrom: timeOf(p, "valid_from"), InvalidAt: timePtr(p, "invalid_at")},
	}
	if v, ok := p["version"].(int64); ok {
		m.Version = v
	}
	if src, ok := p["source"].([]any); ok {
		for _, x := range src {
			if s, ok := x.(string); ok {
				m.Source = append(m.Source, s)
			}
		}
	}
	return m
}

func scopeFrom(p map[string]any) graph.Scope {
	return graph.Scope{Tenant: str(p, "tenant"), UserID: str(p, "user_id"), AgentID: str(p, "agent_id"), RunID: str(p, "run_id")}
}

func str(p map[string]any, k string) string {
	s, _ := p[k].(string)
	return s
}

func timeOf(p map[string]any, k string) time.Time {
	t, _ := p[k].(time.Time)
	return t.UTC()
}

func timePtr(p map[string]any, k string) *time.Time {
	t, ok := p[k].(time.Time)
	if !ok {
		return nil
	}
	t = t.UTC()
	return &t
}
