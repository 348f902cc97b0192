package main

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	neo4jconfig "github.com/neo4j/neo4j-go-driver/v5/neo4j/config"
)

// neo runs the benchmarks' own Cypher: the floor queries, deleting earlier
// runs' tenants, counts, index waits. Sessions are opened as the
// store opens them (read access, the driver's shared bookmark manager), so
// the floor pays the same per-call overhead as the engine.
type neo struct {
	driver   neo4j.DriverWithContext
	database string
}

func (n *neo) session(ctx context.Context, mode neo4j.AccessMode) neo4j.SessionWithContext {
	return n.driver.NewSession(ctx, neo4j.SessionConfig{
		DatabaseName:    n.database,
		AccessMode:      mode,
		BookmarkManager: n.driver.ExecuteQueryBookmarkManager(),
	})
}

// read runs q in one managed read transaction and returns its records.
func (n *neo) read(ctx context.Context, q string, params map[string]any) ([]*neo4j.Record, error) {
	return n.run(ctx, neo4j.AccessModeRead, q, params)
}

// write runs q in one managed write transaction and returns its records.
func (n *neo) write(ctx context.Context, q string, params map[string]any) ([]*neo4j.Record, error) {
	return n.run(ctx, neo4j.AccessModeWrite, q, params)
}

func (n *neo) run(ctx context.Context, mode neo4j.AccessMode, q string, params map[string]any) ([]*neo4j.Record, error) {
	sess := n.session(ctx, mode)
	defer sess.Close(ctx)
	work := func(tx neo4j.ManagedTransaction) (any, error) {
		r, err := tx.Run(ctx, q, params)
		if err != nil {
			return nil, err
		}
		return r.Collect(ctx)
	}
	var res any
	var err error
	if mode == neo4j.AccessModeRead {
		res, err = sess.ExecuteRead(ctx, work)
	} else {
		res, err = sess.ExecuteWrite(ctx, work)
	}
	if err != nil {
		return nil, err
	}
	return res.([]*neo4j.Record), nil
}

// autocommit runs a schema or procedure call outside a transaction function.
func (n *neo) autocommit(ctx context.Context, q string, params map[string]any) error {
	sess := n.session(ctx, neo4j.AccessModeWrite)
	defer sess.Close(ctx)
	res, err := sess.Run(ctx, q, params)
	if err != nil {
		return err
	}
	_, err = res.Consume(ctx)
	return err
}

// floorANN is the bare vector index query: the $limit (10) nearest
// memories of all tenants, nothing else.
const floorANN = `CALL db.index.vector.queryNodes('memory_embedding', $limit, $v) YIELD node, score
RETURN node.id AS id, score`

// floorSearch is the bare in-index filtered query of Neo4j 2026.01+ for
// one tenant: the floor of the engine's "search" path with $limit 10, and
// the same query at the engine's breadth (vector.Policy.SearchLimit) with
// its best 10 kept.
const floorSearch = `CYPHER 25
MATCH (m:Memory)
  SEARCH m IN (VECTOR INDEX memory_embedding FOR $v WHERE m.tenant = $t LIMIT $limit) SCORE AS s
WITH m, s
ORDER BY s DESC
LIMIT 10
RETURN m.id AS id, s`

// floorExact is the bare exact scan of one tenant's user.
const floorExact = `MATCH (m:Memory)
WHERE m.tenant = $t AND m.user_id = $u
WITH m, vector.similarity.cosine(m.embedding, $v) AS s
ORDER BY s DESC
LIMIT 10
RETURN m.id AS id, s`

// floorKind maps the engine's strategy to its floor: "exact" for the exact
// scan ("exact", and "exact-fallback", where the index found too few
// candidates and the engine scanned instead), "ann" for the index-wide
// vector index query (5.26), "search" for Neo4j 2026's in-index filtered
// SEARCH (the bare query filtered by tenant).
func floorKind(strategy string) string {
	switch strategy {
	case "exact", "exact-fallback":
		return "exact"
	case "search":
		return "search"
	}
	return "ann"
}

// floor runs the floor query that matches strategy, asking the index for
// limit neighbours (the exact scan takes none), and returns its time and
// the ids of its top 10.
func (n *neo) floor(ctx context.Context, strategy, tenant, user string, v []float64, limit int) ([]string, time.Duration, error) {
	q, params := floorExact, map[string]any{"t": tenant, "u": user, "v": v}
	switch floorKind(strategy) {
	case "ann":
		q, params = floorANN, map[string]any{"v": v, "limit": int64(limit)}
	case "search":
		q, params = floorSearch, map[string]any{"t": tenant, "v": v, "limit": int64(limit)}
	}
	start := time.Now()
	recs, err := n.read(ctx, q, params)
	d := time.Since(start)
	if err != nil {
		return nil, 0, fmt.Errorf("floor (%s): %w", strategy, err)
	}
	if len(recs) == 0 {
		return nil, 0, fmt.Errorf("floor (%s) for tenant %s returned nothing", strategy, tenant)
	}
	ids := make([]string, 0, min(len(recs), topK))
	for _, r := range recs[:min(len(recs), topK)] {
		id, _ := r.Get("id")
		s, _ := id.(string)
		ids = append(ids, s)
	}
	return ids, d, nil
}

// tenantLabels are the labels of every node neomem writes for a tenant
// (testcontainers.TenantLabels); each has a tenant property with a range
// index, which serves STARTS WITH.
var tenantLabels = []string{"Memory", "__Entity__", "Event", "ScopeLock", "ApiKey", "IdempotencyKey", "Job", "JobCounter"}

// defaultDeleteBatch is how many nodes one delete transaction removes
// unless -delete-batch says otherwise.
const defaultDeleteBatch = 5000

// countNodes and deleteBatch select nodes by label and condition: the
// first %s is one of tenantLabels, the second underPrefix or
// underPrefixForUser, never input.
const (
	countNodes = `MATCH (n:%s)
WHERE %s
RETURN count(n) AS n`
	deleteBatch = `MATCH (n:%s)
WHERE %s
WITH n LIMIT $batch
DETACH DELETE n
RETURN count(*) AS deleted`
	underPrefix        = `n.tenant STARTS WITH $prefix`
	underPrefixForUser = `n.tenant STARTS WITH $prefix AND n.user_id = $user`
)

// deleteNodes removes the nodes of label that match where (one of the
// constants above, over n, with params), batch nodes per transaction, and
// returns how many went. The loop is bounded by the count taken first (plus
// slack for writers that should not exist).
func (n *neo) deleteNodes(ctx context.Context, label, where string, params map[string]any, batch int, logf func(string, ...any)) (int, error) {
	recs, err := n.read(ctx, fmt.Sprintf(countNodes, label, where), params)
	if err != nil {
		return 0, fmt.Errorf("count %s nodes: %w", label, err)
	}
	have, _, _ := neo4j.GetRecordValue[int64](recs[0], "n")
	if have == 0 {
		return 0, nil
	}
	logf("deleting %d %s nodes of earlier runs", have, label)
	q := fmt.Sprintf(deleteBatch, label, where)
	p := maps.Clone(params)
	p["batch"] = int64(batch)
	total := 0
	for range int(have)/batch + 5 {
		recs, err := n.write(ctx, q, p)
		if err != nil {
			return total, fmt.Errorf("delete %s nodes: %w", label, err)
		}
		d, _, _ := neo4j.GetRecordValue[int64](recs[0], "deleted")
		total += int(d)
		if int(d) < batch {
			break
		}
	}
	return total, nil
}

// deleteTenants removes the nodes of labels of every tenant whose id starts
// with prefix and returns how many went.
func (n *neo) deleteTenants(ctx context.Context, prefix string, labels []string, batch int, logf func(string, ...any)) (int, error) {
	total := 0
	for _, label := range labels {
		d, err := n.deleteNodes(ctx, label, underPrefix, map[string]any{"prefix": prefix}, batch, logf)
		total += d
		if err != nil {
			return total, fmt.Errorf("tenants under %s: %w", prefix, err)
		}
	}
	return total, nil
}

// deleteWrites removes what the HTTP benchmark's mixed load of an earlier
// run added under prefix: the memories of writeUser and their events.
func (n *neo) deleteWrites(ctx context.Context, prefix string, batch int, logf func(string, ...any)) (int, error) {
	total := 0
	for _, label := range []string{"Memory", "Event"} {
		d, err := n.deleteNodes(ctx, label, underPrefixForUser, map[string]any{"prefix": prefix, "user": writeUser}, batch, logf)
		total += d
		if err != nil {
			return total, fmt.Errorf("earlier adds: %w", err)
		}
	}
	return total, nil
}

// countLoaded returns the memories of benchUser under prefix and the
// tenants holding them.
func (n *neo) countLoaded(ctx context.Context, prefix string) (memories, tenants int, err error) {
	recs, err := n.read(ctx, `MATCH (m:Memory)
WHERE m.tenant STARTS WITH $prefix AND m.user_id = $user
RETURN count(m) AS n, count(DISTINCT m.tenant) AS t`, map[string]any{"prefix": prefix, "user": benchUser})
	if err != nil {
		return 0, 0, err
	}
	m, _, _ := neo4j.GetRecordValue[int64](recs[0], "n")
	t, _, _ := neo4j.GetRecordValue[int64](recs[0], "t")
	return int(m), int(t), nil
}

// tenantsOf returns the tenant of each of ids that names a memory.
func (n *neo) tenantsOf(ctx context.Context, ids []string) (map[string]string, error) {
	recs, err := n.read(ctx, `MATCH (m:Memory) WHERE m.id IN $ids RETURN m.id AS id, m.tenant AS tenant`, map[string]any{"ids": ids})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, r := range recs {
		id, _, _ := neo4j.GetRecordValue[string](r, "id")
		t, _, _ := neo4j.GetRecordValue[string](r, "tenant")
		out[id] = t
	}
	return out, nil
}

// holdsLayout reports whether the database holds exactly the layout ts
// under prefix: as many memories of benchUser and tenants, and the layout's
// first and last memory (ids come from the seeded generator, so they name
// the seed) in their tenants. A change to the text generator or the
// embedder that keeps the number of random draws is not detected: do not
// reuse across such changes.
func (n *neo) holdsLayout(ctx context.Context, prefix string, ts []tenant, first, last string, logf func(string, ...any)) (bool, error) {
	memories, tenantCount, err := n.countLoaded(ctx, prefix)
	if err != nil {
		return false, err
	}
	at, err := n.tenantsOf(ctx, []string{first, last})
	if err != nil {
		return false, err
	}
	want := 0
	for _, t := range ts {
		want += t.Size
	}
	if memories != want || tenantCount != len(ts) || at[first] != ts[0].Scope.Tenant || at[last] != ts[len(ts)-1].Scope.Tenant {
		logf("-reuse: the database holds %s memories in %s tenants under %s, not this layout: loading it",
			thousands(memories), thousands(tenantCount), prefix)
		return false, nil
	}
	return true, nil
}

// awaitIndexes waits until every index is online (at most timeout).
func (n *neo) awaitIndexes(ctx context.Context, timeout time.Duration) error {
	return n.autocommit(ctx, `CALL db.awaitIndexes($t)`, map[string]any{"t": int64(timeout / time.Second)})
}

// neo4jConn is the Neo4j a run talks to, as NEO4J_* give it.
type neo4jConn struct {
	URI, User, Password, Database string
}

// vars are the settings that point a child process (the server, `neomem
// keys create`) at the same Neo4j.
func (c neo4jConn) vars() map[string]string {
	return map[string]string{"NEO4J_URI": c.URI, "NEO4J_USERNAME": c.User, "NEO4J_PASSWORD": c.Password, "NEO4J_DATABASE": c.Database}
}

// connect opens a driver to the Neo4j of NEO4J_URI (defaultURI when unset),
// which must be on this machine, and waits until it answers.
func connect(ctx context.Context, getenv func(string) string, defaultURI string) (neo4j.DriverWithContext, neo4jConn, error) {
	c := neo4jConn{URI: getenv("NEO4J_URI"), User: getenv("NEO4J_USERNAME"), Password: getenv("NEO4J_PASSWORD"), Database: getenv("NEO4J_DATABASE")}
	if c.URI == "" {
		c.URI = defaultURI
	}
	if err := checkLocal(c.URI); err != nil {
		return nil, c, err
	}
	if c.User == "" {
		c.User = "neo4j"
	}
	auth := neo4j.NoAuth()
	if c.Password != "" {
		auth = neo4j.BasicAuth(c.User, c.Password, "")
	}
	driver, err := neo4j.NewDriverWithContext(c.URI, auth, func(cfg *neo4jconfig.Config) {
		cfg.ConnectionAcquisitionTimeout = 30 * time.Second
	})
	if err != nil {
		return nil, c, fmt.Errorf("neo4j driver for %s: %w", c.URI, err)
	}
	vctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := driver.VerifyConnectivity(vctx); err != nil {
		driver.Close(context.Background())
		return nil, c, fmt.Errorf("neo4j at %s: %w", c.URI, err)
	}
	return driver, c, nil
}

// checkLocal refuses a Neo4j that is not on this machine: the benchmarks
// delete tenants (and the HTTP one reads the Neo4j process's CPU time).
func checkLocal(uri string) error {
	u, err := url.Parse(uri)
	if err != nil {
		return fmt.Errorf("NEO4J_URI %q: %w", uri, err)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("NEO4J_URI %s is not on this machine; the benchmark deletes and writes tenants, so it only runs against localhost", uri)
}

// localIndexDir is the database's schema/index directory when Neo4j runs
// from a local home (NEO4J_RUNTIME_HOME), else "".
func localIndexDir(getenv func(string) string, database string) string {
	home := getenv("NEO4J_RUNTIME_HOME")
	if home == "" {
		return ""
	}
	if database == "" {
		database = "neo4j"
	}
	dir := filepath.Join(home, "data", "databases", database, "schema", "index")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return ""
	}
	return dir
}

// Settling: after a load, Lucene keeps merging index segments in the
// background for minutes, and queries run meanwhile are slower and see
// another segment layout than a steady server. When the index directory is
// local, a run waits until its files stop changing.
const (
	settleQuiet = 45 * time.Second
	settleMax   = 20 * time.Minute
	settlePoll  = 5 * time.Second
)

// settle waits until the files under dir (names and sizes) have not
// changed for quiet, at most settleMax.
func settle(ctx context.Context, dir string, quiet time.Duration, logf func(string, ...any)) error {
	start := time.Now()
	last, quietSince := indexFiles(dir), time.Now()
	for time.Since(quietSince) < quiet {
		if time.Since(start) > settleMax {
			logf("index files still changing after %s; measuring anyway", settleMax)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(settlePoll):
		}
		if now := indexFiles(dir); now != last {
			last, quietSince = now, time.Now()
		}
	}
	logf("index files settled after %.0f s", time.Since(start).Seconds())
	return nil
}

// indexFiles summarises a directory tree as its file names and sizes.
func indexFiles(dir string) string {
	var sb strings.Builder
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			fmt.Fprintf(&sb, "%s:%d;", path, info.Size())
		}
		return nil
	})
	return sb.String()
}
