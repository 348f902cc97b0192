package cypher

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/graph"
)

// Index and constraint names neomem owns.
const (
	MemoryVectorIndex   = "memory_embedding"
	EntityVectorIndex   = "entity_embedding"
	MemoryFulltextIndex = "memory_text"
	EntityFulltextIndex = "entity_name"
)

// ServerInfo describes the connected Neo4j server.
type ServerInfo struct {
	Version string
	Edition string
	// FilteredVectorSearch is true on Neo4j 2026.01 and later, whose vector
	// indexes take filter properties and whose SEARCH clause filters inside
	// the index.
	FilteredVectorSearch bool
}

// IndexState is the state of one of neomem's indexes.
type IndexState struct {
	Name       string  `json:"name"`
	State      string  `json:"state"`
	Population float64 `json:"population_percent"`
}

// constraints are created first: MERGE keys must be backed by them.
var constraints = []string{
	`CREATE CONSTRAINT memory_id IF NOT EXISTS FOR (m:Memory) REQUIRE m.id IS UNIQUE`,
	`CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (e:__Entity__) REQUIRE e.id IS UNIQUE`,
	`CREATE CONSTRAINT entity_key IF NOT EXISTS FOR (e:__Entity__) REQUIRE (e.scope_key, e.key) IS UNIQUE`,
	`CREATE CONSTRAINT event_id IF NOT EXISTS FOR (e:Event) REQUIRE e.id IS UNIQUE`,
	`CREATE CONSTRAINT scope_lock IF NOT EXISTS FOR (l:ScopeLock) REQUIRE l.scope_key IS UNIQUE`,
	`CREATE CONSTRAINT api_key_id IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.id IS UNIQUE`,
	`CREATE CONSTRAINT idempotency_key IF NOT EXISTS FOR (k:IdempotencyKey) REQUIRE (k.tenant, k.key) IS UNIQUE`,
	`CREATE CONSTRAINT job_id IF NOT EXISTS FOR (j:Job) REQUIRE j.id IS UNIQUE`,
	`CREATE CONSTRAINT job_counter IF NOT EXISTS FOR (c:JobCounter) REQUIRE (c.tenant, c.scope_key) IS UNIQUE`,
}

// rangeIndexes serve the tenant and scope predicates of scopeWhere, history
// look-ups and ordered listings.
var rangeIndexes = []string{
	`CREATE INDEX memory_tenant IF NOT EXISTS FOR (m:Memory) ON (m.tenant)`,
	`CREATE INDEX memory_tenant_user IF NOT EXISTS FOR (m:Memory) ON (m.tenant, m.user_id)`,
	`CREATE INDEX memory_tenant_agent IF NOT EXISTS FOR (m:Memory) ON (m.tenant, m.agent_id)`,
	`CREATE INDEX memory_tenant_run IF NOT EXISTS FOR (m:Memory) ON (m.tenant, m.run_id)`,
	`CREATE INDEX memory_tenant_created IF NOT EXISTS FOR (m:Memory) ON (m.tenant, m.created_at)`,
	`CREATE INDEX memory_tenant_hash IF NOT EXISTS FOR (m:Memory) ON (m.tenant, m.hash)`,
	`CREATE INDEX entity_tenant IF NOT EXISTS FOR (e:__Entity__) ON (e.tenant)`,
	`CREATE INDEX entity_tenant_user IF NOT EXISTS FOR (e:__Entity__) ON (e.tenant, e.user_id)`,
	`CREATE INDEX entity_tenant_agent IF NOT EXISTS FOR (e:__Entity__) ON (e.tenant, e.agent_id)`,
	`CREATE INDEX entity_tenant_run IF NOT EXISTS FOR (e:__Entity__) ON (e.tenant, e.run_id)`,
	`CREATE INDEX event_tenant IF NOT EXISTS FOR (e:Event) ON (e.tenant)`,
	`CREATE INDEX event_tenant_target IF NOT EXISTS FOR (e:Event) ON (e.tenant, e.target_id)`,
	`CREATE INDEX scope_lock_tenant IF NOT EXISTS FOR (l:ScopeLock) ON (l.tenant)`,
	`CREATE INDEX api_key_tenant IF NOT EXISTS FOR (k:ApiKey) ON (k.tenant)`,
	`CREATE INDEX idempotency_tenant IF NOT EXISTS FOR (k:IdempotencyKey) ON (k.tenant)`,
	`CREATE INDEX idempotency_expires IF NOT EXISTS FOR (k:IdempotencyKey) ON (k.expires_at)`,
	`CREATE INDEX job_tenant IF NOT EXISTS FOR (j:Job) ON (j.tenant)`,
	`CREATE INDEX job_status IF NOT EXISTS FOR (j:Job) ON (j.status, j.created_at)`,
	`CREATE INDEX job_scope IF NOT EXISTS FOR (j:Job) ON (j.tenant, j.scope_key, j.seq)`,
	`CREATE INDEX idempotency_scope IF NOT EXISTS FOR (k:IdempotencyKey) ON (k.tenant, k.scope_key)`,
}

// fulltextIndexes index the text together with the scope tags (searchTags),
// so a full-text query can require the searcher's tenant and scope inside
// the index. The memory index takes the configured analyzer (a parameter of
// the index's options); entity names keep the standard one, so a name
// matches as it is written.
var fulltextIndexes = []string{
	`CREATE FULLTEXT INDEX memory_text IF NOT EXISTS FOR (m:Memory) ON EACH [m.text, m.search_tags]
	OPTIONS {indexConfig: {` + "`fulltext.analyzer`" + `: $analyzer}}`,
	`CREATE FULLTEXT INDEX entity_name IF NOT EXISTS FOR (e:__Entity__) ON EACH [e.name, e.search_tags]`,
}

// DefaultTextAnalyzer is the memory full-text index's analyzer by default:
// Lucene's English analyzer (possessives removed, stop words dropped, Porter
// stemming), so "painting" finds "paints" and "the" matches nothing. The
// scope tags (searchTags) and names are alphanumeric tokens it changes the
// same way in the index and in a query.
const DefaultTextAnalyzer = "english"

// ValidAnalyzerName reports whether name can be an analyzer's name (Neo4j
// refuses names it does not know when the index is created).
func ValidAnalyzerName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

// fulltextProperties are the properties each full-text index must cover; an
// older definition is dropped and recreated (full-text indexes are derived
// data, rebuilt from the nodes).
var fulltextProperties = map[string][]string{
	MemoryFulltextIndex: {"text", "search_tags"},
	EntityFulltextIndex: {"name", "search_tags"},
}

const showFulltextIndexes = `
SHOW FULLTEXT INDEXES
YIELD name, properties, options
WHERE name IN $names
RETURN name, properties, options.indexConfig['fulltext.analyzer'] AS analyzer`

// migrateFulltext drops full-text indexes whose properties or analyzer
// differ from the current definition, so Bootstrap recreates them.
func (s *Store) migrateFulltext(ctx context.Context) error {
	names := make([]string, 0, len(fulltextProperties))
	for n := range fulltextProperties {
		names = append(names, n)
	}
	return s.dropStale(ctx, showFulltextIndexes, names, func(name string, row map[string]any) bool {
		var have []string
		props, _ := row["properties"].([]any)
		for _, p := range props {
			if ps, ok := p.(string); ok {
				have = append(have, ps)
			}
		}
		if name == MemoryFulltextIndex {
			if a, _ := row["analyzer"].(string); a != s.cfg.TextAnalyzer {
				return true
			}
		}
		return !slices.Equal(have, fulltextProperties[name])
	})
}

// dropStale runs show (a SHOW … INDEXES query over $names that returns name
// and more columns) and drops every listed index for which stale is true,
// so Bootstrap recreates it (indexes are derived data, rebuilt from the
// nodes). names must be constants of this file: they end up in DROP INDEX.
func (s *Store) dropStale(ctx context.Context, show string, names []string, stale func(name string, row map[string]any) bool) error {
	res, err := neo4j.ExecuteQuery(ctx, s.driver, show, map[string]any{"names": names},
		neo4j.EagerResultTransformer, neo4j.ExecuteQueryWithDatabase(s.cfg.Database))
	if err != nil {
		return err
	}
	for _, rec := range res.Records {
		row := rec.AsMap()
		name, _ := row["name"].(string)
		if !slices.Contains(names, name) || !stale(name, row) {
			continue
		}
		if err := s.schemaStatement(ctx, "DROP INDEX "+name+" IF EXISTS", nil); err != nil {
			return err
		}
	}
	return nil
}

// vectorIndex describes one vector index neomem needs.
type vectorIndex struct {
	name, label, variable string
}

var vectorIndexes = []vectorIndex{
	{MemoryVectorIndex, "Memory", "m"},
	{EntityVectorIndex, "__Entity__", "e"},
}

// createVector526 and createVector2026 create a cosine vector index. On
// 2026.01+ (Cypher 25) the tenant and scope ids are filter properties, so
// SEARCH … WHERE filters inside the index instead of after it.
const (
	vectorOptions = `OPTIONS {indexConfig: {` + "`vector.dimensions`" + `: $dims, ` +
		"`vector.similarity_function`" + `: 'cosine', ` + "`vector.quantization.enabled`" + `: $quantization, ` +
		"`vector.hnsw.m`" + `: $hnsw_m, ` + "`vector.hnsw.ef_construction`" + `: $hnsw_ef_construction}}`
	createVector526 = `CREATE VECTOR INDEX %s IF NOT EXISTS FOR (%s:%s) ON (%s.embedding)
` + vectorOptions
	createVector2026 = `CYPHER 25 CREATE VECTOR INDEX %s IF NOT EXISTS FOR (%s:%s) ON %s.embedding
WITH [%[4]s.tenant, %[4]s.user_id, %[4]s.agent_id, %[4]s.run_id]
` + vectorOptions
)

const showVectorIndexes = `
SHOW VECTOR INDEXES
YIELD name, labelsOrTypes, properties, options
WHERE name IN $names
RETURN name, labelsOrTypes, properties, options.indexConfig AS config`

const serverComponents = `
CALL dbms.components()
YIELD name, versions, edition
WHERE name = 'Neo4j Kernel'
RETURN versions[0] AS version, edition`

// Bootstrap creates neomem's constraints and indexes if they do not exist
// (idempotent; safe to run from several servers at once) and waits for them
// to come online. An existing vector index with another dimension than the
// configured one is a Conflict error that says how to resolve it; nothing is
// changed in that case.
func (s *Store) Bootstrap(ctx context.Context) error {
	const op = "bootstrap schema"
	info, err := s.serverInfo(ctx)
	if err != nil {
		return err
	}
	// Check dimensions before creating anything, so a mismatch changes nothing.
	if err := s.checkVectorDimensions(ctx); err != nil {
		return err
	}
	if err := s.migrateFulltext(ctx); err != nil {
		return translate(op, fmt.Errorf("full-text index definitions: %w", err))
	}
	stmts := append(append([]string{}, constraints...), rangeIndexes...)
	stmts = append(stmts, fulltextIndexes...)
	for _, q := range stmts {
		var params map[string]any
		if strings.Contains(q, "$analyzer") {
			params = map[string]any{"analyzer": s.cfg.TextAnalyzer}
		}
		if err := s.schemaStatement(ctx, q, params); err != nil {
			return translate(op, fmt.Errorf("%s: %w", firstLine(q), err))
		}
	}
	if err := s.ensureVectorIndexes(ctx, info.FilteredVectorSearch, vectorIndexes); err != nil {
		return translate(op, err)
	}
	// A concurrent bootstrap with another dimension may have won the race.
	if err := s.checkVectorDimensions(ctx); err != nil {
		return err
	}
	return s.awaitIndexes(ctx)
}

// awaitIndexes waits until every index is online. A vector index rebuilt
// after a settings change can populate for longer than one awaitIndexes
// call allows, so it waits in rounds while one of neomem's indexes is still
// populating and ctx lasts.
func (s *Store) awaitIndexes(ctx context.Context) error {
	const op = "bootstrap schema"
	for {
		err := s.schemaStatement(ctx, `CALL db.awaitIndexes(300)`, nil)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return translate(op, fmt.Errorf("wait for indexes: %w", ctx.Err()))
		}
		states, serr := s.IndexStates(ctx)
		if serr != nil {
			return serr
		}
		populating, online := false, true
		for _, st := range states {
			switch st.State {
			case "FAILED":
				return graph.E(graph.Other, op, "index %s failed to populate; see the Neo4j log", st.Name)
			case "POPULATING":
				populating = true
			}
			online = online && st.State == "ONLINE"
		}
		switch {
		case online:
			// neomem's indexes came online after the wait gave up.
			return nil
		case !populating:
			return translate(op, fmt.Errorf("wait for indexes: %w", err))
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// schemaStatement runs one schema command. Schema commands run in
// auto-commit transactions, which the driver does not retry, so it retries
// them itself: servers that bootstrap one database at the same time take
// schema locks in different orders and deadlock now and then
// (Neo.TransientError.Transaction.DeadlockDetected), which a retry
// resolves. It gives up after 10 attempts (waits of 50 ms doubling up to
// 2 s, plus as much jitter: at most about 18 s in all) or when ctx ends.
func (s *Store) schemaStatement(ctx context.Context, q string, params map[string]any) error {
	delay := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := s.schemaOnce(ctx, q, params)
		if err != nil && strings.Contains(q, "IF NOT EXISTS") && alreadyExists(err) {
			// Two servers created the same index at once: IF NOT EXISTS
			// does not cover the race, the loser gets this error.
			return nil
		}
		if err == nil || !neo4j.IsRetryable(err) || attempt == 10 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay + time.Duration(mrand.Int64N(int64(delay)))):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// alreadyExists reports Neo4j's answer to creating an index or constraint
// that another transaction created meanwhile.
func alreadyExists(err error) bool {
	var ne *neo4j.Neo4jError
	return errors.As(err, &ne) && strings.HasPrefix(ne.Code, "Neo.ClientError.Schema.") && strings.HasSuffix(ne.Code, "AlreadyExists")
}

func (s *Store) schemaOnce(ctx context.Context, q string, params map[string]any) error {
	sess := s.session(ctx, neo4j.AccessModeWrite)
	defer sess.Close(ctx)
	res, err := sess.Run(ctx, q, params)
	if err != nil {
		return err
	}
	_, err = res.Consume(ctx)
	return err
}

func firstLine(q string) string {
	q = strings.TrimSpace(q)
	if i := strings.IndexByte(q, '\n'); i >= 0 {
		return q[:i]
	}
	return q
}

// checkVectorDimensions compares existing vector indexes with the configured
// dimension.
func (s *Store) checkVectorDimensions(ctx context.Context) error {
	const op = "check vector indexes"
	names := make([]string, len(vectorIndexes))
	for i, vi := range vectorIndexes {
		names[i] = vi.name
	}
	res, err := neo4j.ExecuteQuery(ctx, s.driver, showVectorIndexes, map[string]any{"names": names},
		neo4j.EagerResultTransformer, neo4j.ExecuteQueryWithDatabase(s.cfg.Database), neo4j.ExecuteQueryWithReadersRouting())
	if err != nil {
		return translate(op, err)
	}
	var names2, drops []string
	var have int64
	for _, rec := range res.Records {
		m := rec.AsMap()
		name, _ := m["name"].(string)
		config, _ := m["config"].(map[string]any)
		dims, ok := config["vector.dimensions"].(int64)
		if !ok || int(dims) == s.cfg.Dimensions {
			continue
		}
		have = dims
		names2 = append(names2, fmt.Sprintf("%q (%d dimensions)", name, dims))
		drops = append(drops, "DROP INDEX "+name)
	}
	if len(drops) == 0 {
		return nil
	}
	return &graph.Error{Kind: graph.Conflict, Op: op, Msg: fmt.Sprintf(
		"existing vector index %s does not match the configured embedder, which produces %d dimensions; "+
			"either configure an embedder with %d dimensions (NEOMEM_EMBEDDING_DIMS), "+
			"or drop the index (%s) and re-embed the stored memories and entities with the new embedder",
		strings.Join(names2, " and "), s.cfg.Dimensions, have, strings.Join(drops, "; "))}
}

// Server returns the connected server's version and edition.
func (s *Store) Server(ctx context.Context) (ServerInfo, error) {
	res, err := neo4j.ExecuteQuery(ctx, s.driver, serverComponents, nil, neo4j.EagerResultTransformer,
		neo4j.ExecuteQueryWithDatabase(s.cfg.Database), neo4j.ExecuteQueryWithReadersRouting())
	if err != nil {
		return ServerInfo{}, translate("server version", err)
	}
	if len(res.Records) == 0 {
		return ServerInfo{}, graph.E(graph.Other, "server version", "dbms.components() returned no kernel")
	}
	m := res.Records[0].AsMap()
	info := ServerInfo{}
	info.Version, _ = m["version"].(string)
	info.Edition, _ = m["edition"].(string)
	info.FilteredVectorSearch = atLeast(info.Version, 2026, 1)
	return info, nil
}

// atLeast reports whether a Neo4j version ("5.26.30", "2026.08.1") is at
// least major.minor.
func atLeast(version string, major, minor int) bool {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

const showIndexStates = `
SHOW INDEXES
YIELD name, state, populationPercent
WHERE name IN $names
RETURN name, state, populationPercent
ORDER BY name`

// IndexStates returns the state of neomem's vector and full-text indexes
// (ONLINE, POPULATING, FAILED). A missing index is reported as MISSING.
func (s *Store) IndexStates(ctx context.Context) ([]IndexState, error) {
	names := []string{MemoryVectorIndex, EntityVectorIndex, MemoryFulltextIndex, EntityFulltextIndex}
	res, err := neo4j.ExecuteQuery(ctx, s.driver, showIndexStates, map[string]any{"names": names},
		neo4j.EagerResultTransformer, neo4j.ExecuteQueryWithDatabase(s.cfg.Database), neo4j.ExecuteQueryWithReadersRouting())
	if err != nil {
		return nil, translate("index states", err)
	}
	found := map[string]IndexState{}
	for _, rec := range res.Records {
		m := rec.AsMap()
		st := IndexState{}
		st.Name, _ = m["name"].(string)
		st.State, _ = m["state"].(string)
		st.Population, _ = m["populationPercent"].(float64)
		found[st.Name] = st
	}
	out := make([]IndexState, 0, len(names))
	for _, n := range names {
		st, ok := found[n]
		if !ok {
			st = IndexState{Name: n, State: "MISSING"}
		}
		out = append(out, st)
	}
	return out, nil
}

// Ping checks that Neo4j answers within the context's deadline.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.driver.VerifyConnectivity(ctx); err != nil {
		return translate("ping neo4j", err)
	}
	return nil
}

// now is the store's clock, in UTC and truncated to microseconds so values
// survive a round trip through every client unchanged.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// ensureVectorIndexes creates the vector indexes, first dropping any that was
// built with other settings (migrateVectorIndexes).
func (s *Store) ensureVectorIndexes(ctx context.Context, filtered bool, indexes []vectorIndex) error {
	// An index made before an upgrade to 2026.01+ lacks the filter
	// properties SEARCH … WHERE needs, or one built with other HNSW settings
	// than configured: rebuild it (derived data).
	if err := s.migrateVectorIndexes(ctx, filtered, indexes); err != nil {
		return fmt.Errorf("vector index settings: %w", err)
	}
	tmpl := createVector526
	if filtered {
		tmpl = createVector2026
	}
	params := map[string]any{"dims": s.cfg.Dimensions, "quantization": s.cfg.Vector.Quantization,
		"hnsw_m": s.cfg.Vector.M, "hnsw_ef_construction": s.cfg.Vector.EfConstruction}
	for _, vi := range indexes {
		// Names and labels are constants of this file, never input.
		q := fmt.Sprintf(tmpl, vi.name, vi.variable, vi.label, vi.variable)
		if err := s.schemaStatement(ctx, q, params); err != nil {
			return fmt.Errorf("%s: %w", firstLine(q), err)
		}
	}
	return nil
}

// migrateVectorIndexes drops neomem's vector indexes that were built with
// other settings than configured (quantisation, HNSW M and ef_construction)
// or, on 2026.01+ (filtered), without the tenant as a filter property, so
// Bootstrap recreates them.
func (s *Store) migrateVectorIndexes(ctx context.Context, filtered bool, indexes []vectorIndex) error {
	names := make([]string, len(indexes))
	for i, vi := range indexes {
		names[i] = vi.name
	}
	return s.dropStale(ctx, showVectorIndexes, names, func(_ string, row map[string]any) bool {
		props, _ := row["properties"].([]any)
		config, _ := row["config"].(map[string]any)
		return filtered && !slices.Contains(props, any("tenant")) || !s.vectorConfigMatches(config)
	})
}

// Quantized reads whether a vector index's configuration (SHOW VECTOR
// INDEXES' options.indexConfig) quantises: 5.x reports
// vector.quantization.enabled (int8 when on), 2026.x
// vector.quantization.type (NONE when off; the enabled flag given at
// creation selects BINARY). ok is false when
// the server reports neither.
func Quantized(config map[string]any) (quantized, ok bool) {
	if q, ok := config["vector.quantization.enabled"].(bool); ok {
		return q, true
	}
	if t, ok := config["vector.quantization.type"].(string); ok {
		return !strings.EqualFold(t, "NONE"), true
	}
	return false, false
}

// vectorConfigMatches reports whether an index's configuration (SHOW
// VECTOR INDEXES' options.indexConfig) has the configured HNSW settings.
// A setting the server does not report is taken as matching.
func (s *Store) vectorConfigMatches(config map[string]any) bool {
	if q, ok := Quantized(config); ok && q != s.cfg.Vector.Quantization {
		return false
	}
	if m, ok := config["vector.hnsw.m"].(int64); ok && int(m) != s.cfg.Vector.M {
		return false
	}
	if ef, ok := config["vector.hnsw.ef_construction"].(int64); ok && int(ef) != s.cfg.Vector.EfConstruction {
		return false
	}
	return true
}
