package main

import (
	"context"
	"fmt"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// neo runs the benchmark's own Cypher: the floor queries, deleting earlier
// benchmark tenants, counts, index waits. Sessions are opened as the
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

// floorANN is the bare vector index query: the 10 nearest memories of all
// tenants, nothing else.
const floorANN = `CALL db.index.vector.queryNodes('memory_embedding', 10, $v) YIELD node, score
RETURN node.id, score`

// floorExact is the bare exact scan of one tenant's user.
const floorExact = `MATCH (m:Memory)
WHERE m.tenant = $t AND m.user_id = $u
WITH m, vector.similarity.cosine(m.embedding, $v) AS s
ORDER BY s DESC
LIMIT 10
RETURN m.id, s`

// floorKind maps the engine's strategy to its floor: "exact" for the exact
// scan ("exact", and "exact-fallback", where the index found too few
// candidates and the engine scanned instead), "ann" for the vector index
// ("ann", and Neo4j 2026's "search").
func floorKind(strategy string) string {
	if strategy == "exact" || strategy == "exact-fallback" {
		return "exact"
	}
	return "ann"
}

// floor runs the floor query that matches strategy and returns its time.
func (n *neo) floor(ctx context.Context, strategy, tenant, user string, v []float64) (time.Duration, error) {
	q, params := floorExact, map[string]any{"t": tenant, "u": user, "v": v}
	if floorKind(strategy) == "ann" {
		q, params = floorANN, map[string]any{"v": v}
	}
	start := time.Now()
	recs, err := n.read(ctx, q, params)
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("floor (%s): %w", strategy, err)
	}
	if len(recs) == 0 {
		return 0, fmt.Errorf("floor (%s) for tenant %s returned nothing", strategy, tenant)
	}
	return d, nil
}

// benchLabels are the labels of every node neomem writes for a tenant.
var benchLabels = []string{"Memory", "Event", "__Entity__", "ScopeLock"}

// countBenchNodes and deleteBenchNodes select benchmark tenants by prefix
// (the tenant range indexes serve STARTS WITH); %s is one of benchLabels.
const (
	countBenchNodes = `MATCH (n:%s)
WHERE n.tenant STARTS WITH $prefix
RETURN count(n) AS n`
	deleteBenchNodes = `MATCH (n:%s)
WHERE n.tenant STARTS WITH $prefix
WITH n LIMIT $batch
DETACH DELETE n
RETURN count(*) AS deleted`
)

// deleteBench removes every node of every tenant whose id starts with
// tenantPrefix, batch nodes per transaction, and returns how many went.
// The loop is bounded by the count taken first (plus slack for writers
// that should not exist).
func (n *neo) deleteBench(ctx context.Context, batch int, logf func(string, ...any)) (int, error) {
	total := 0
	for _, label := range benchLabels {
		recs, err := n.read(ctx, fmt.Sprintf(countBenchNodes, label), map[string]any{"prefix": tenantPrefix})
		if err != nil {
			return total, fmt.Errorf("count %s nodes: %w", label, err)
		}
		have, _, _ := neo4j.GetRecordValue[int64](recs[0], "n")
		if have == 0 {
			continue
		}
		logf("deleting %d %s nodes of earlier benchmark tenants", have, label)
		rounds := int(have)/batch + 5
		for range rounds {
			recs, err := n.write(ctx, fmt.Sprintf(deleteBenchNodes, label), map[string]any{"prefix": tenantPrefix, "batch": int64(batch)})
			if err != nil {
				return total, fmt.Errorf("delete %s nodes: %w", label, err)
			}
			d, _, _ := neo4j.GetRecordValue[int64](recs[0], "deleted")
			total += int(d)
			if int(d) < batch {
				break
			}
		}
	}
	return total, nil
}

// countMemories returns the memories of benchmark tenants and of the whole
// database (the vector index holds all of them).
func (n *neo) countMemories(ctx context.Context) (bench, all int, err error) {
	recs, err := n.read(ctx, fmt.Sprintf(countBenchNodes, "Memory"), map[string]any{"prefix": tenantPrefix})
	if err != nil {
		return 0, 0, err
	}
	b, _, _ := neo4j.GetRecordValue[int64](recs[0], "n")
	recs, err = n.read(ctx, `MATCH (m:Memory) RETURN count(m) AS n`, nil)
	if err != nil {
		return 0, 0, err
	}
	a, _, _ := neo4j.GetRecordValue[int64](recs[0], "n")
	return int(b), int(a), nil
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

// countBenchTenants returns how many benchmark tenants hold memories.
func (n *neo) countBenchTenants(ctx context.Context) (int, error) {
	recs, err := n.read(ctx, `MATCH (m:Memory) WHERE m.tenant STARTS WITH $prefix RETURN count(DISTINCT m.tenant) AS n`,
		map[string]any{"prefix": tenantPrefix})
	if err != nil {
		return 0, err
	}
	c, _, _ := neo4j.GetRecordValue[int64](recs[0], "n")
	return int(c), nil
}

// awaitIndexes waits until every index is online (at most timeout).
func (n *neo) awaitIndexes(ctx context.Context, timeout time.Duration) error {
	return n.autocommit(ctx, `CALL db.awaitIndexes($t)`, map[string]any{"t": int64(timeout / time.Second)})
}
