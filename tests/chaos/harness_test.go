// Package chaos holds real-process chaos tests of neomem's write path (issue
// #10): a private Neo4j started with the project's runtime script, neomem
// server processes built from ./cmd/server, and the fake model server from
// ./cmd/fakellm, all on 127.0.0.1 and free ports picked at run time. The
// tests SIGKILL Neo4j or a server in the middle of writes, then check what
// clients were told and what Neo4j holds, with Cypher over the Go driver.
//
// Every test starts its own processes and stops only those, by PID, when it
// ends; Neo4j's home is the test's temporary directory, so nothing touches a
// developer's or CI's database (nor ports 7687/7474, 7787/7574, 7697/7484).
// Without Java or the Neo4j jars (or Maven to fetch them) the tests skip
// with the reason, and fail instead when NEO4J_REQUIRED=1.
//
// `go test ./...` runs short versions. `make chaos` runs the long ones:
//
//	NEOMEM_CHAOS=long         5 Neo4j outages, 20 server kills
//	NEOMEM_CHAOS_OUTAGES=N    Neo4j kill/restart cycles (default 1)
//	NEOMEM_CHAOS_KILLS=N      server kills mid-add (default 1)
//
// The package has test files only: it is a harness, not part of the product.
package chaos

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/testcontainers/neomem"
)

// settings are the counts of one run, from the environment.
type settings struct {
	outages int // Neo4j SIGKILL/restart cycles
	kills   int // server SIGKILLs mid-add
}

func loadSettings(t *testing.T) settings {
	t.Helper()
	s := settings{outages: 1, kills: 1}
	if os.Getenv("NEOMEM_CHAOS") == "long" {
		s = settings{outages: 5, kills: 20}
	}
	for _, v := range []struct {
		name string
		dst  *int
	}{{"NEOMEM_CHAOS_OUTAGES", &s.outages}, {"NEOMEM_CHAOS_KILLS", &s.kills}} {
		if raw := os.Getenv(v.name); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < 1 || n > 1000 {
				t.Fatalf("%s=%q: want a count from 1 to 1000", v.name, raw)
			}
			*v.dst = n
		}
	}
	return s
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// db is a private Neo4j (neomem.Neo4j: the runtime script with its own
// home, free ports and password) and a driver to check what it holds.
type db struct {
	*neomem.Neo4j
	t      *testing.T
	driver neo4j.DriverWithContext
}

// startNeo4j starts a Neo4j for this test; it is SIGKILLed by the PID the
// script recorded when the test ends.
func startNeo4j(t *testing.T) *db {
	t.Helper()
	d := &db{Neo4j: neomem.NewNeo4j(t, nil), t: t}
	// Registered after NewNeo4j's clean-up, so it runs first.
	t.Cleanup(func() {
		if d.driver != nil {
			d.driver.Close(context.Background())
		}
	})
	took := d.up()
	t.Logf("neo4j: started in %v (bolt 127.0.0.1:%d, http %d, home %s)", took.Round(time.Millisecond), d.Bolt, d.HTTP, d.Home)
	drv, err := neo4j.NewDriverWithContext(d.uri(), neo4j.BasicAuth("neo4j", d.Password, ""))
	if err != nil {
		t.Fatal(err)
	}
	d.driver = drv
	return d
}

func (d *db) uri() string { return d.Conn().URI }

// up starts Neo4j (again, on the same data after a kill) and waits until it
// answers a query; it returns how long that took.
func (d *db) up() time.Duration {
	d.t.Helper()
	start := time.Now()
	if err := <-d.Start(); err != nil {
		d.t.Fatal(err)
	}
	return time.Since(start)
}

// kill SIGKILLs Neo4j and waits until the process is gone.
func (d *db) kill() { d.Kill() }

// query runs a read query and returns its records.
func (d *db) query(q string, params map[string]any) []*neo4j.Record {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := neo4j.ExecuteQuery(ctx, d.driver, q, params, neo4j.EagerResultTransformer)
	if err != nil {
		d.t.Fatalf("%s: %v", q, err)
	}
	return res.Records
}

// integrity is what the partial-write checks found in one tenant.
type integrity struct {
	memories, entities, relations int64
	// withoutAdd are memories with no ADD event; unmentioned entities no
	// MENTIONS from a memory; dangling relation memory_ids naming no memory.
	withoutAdd, unmentioned, dangling []string
}

func (i integrity) String() string {
	return fmt.Sprintf("%d memories, %d entities, %d relations; %d memories without an ADD event %v, "+
		"%d entities without a mention %v, %d dangling relation memory ids %v",
		i.memories, i.entities, i.relations, len(i.withoutAdd), i.withoutAdd, len(i.unmentioned), i.unmentioned,
		len(i.dangling), i.dangling)
}

func (i integrity) ok() bool {
	return len(i.withoutAdd) == 0 && len(i.unmentioned) == 0 && len(i.dangling) == 0
}

const (
	countGraph = `
MATCH (m:Memory {tenant: $tenant})
WITH count(m) AS memories
OPTIONAL MATCH (x:__Entity__ {tenant: $tenant})
WITH memories, count(x) AS entities
OPTIONAL MATCH (:__Entity__ {tenant: $tenant})-[r]->(:__Entity__ {tenant: $tenant})
RETURN memories, entities, count(r) AS relations`

	// Every memory these tests write is added (never updated), so each must
	// have the ADD event written in its transaction.
	memoriesWithoutAdd = `
MATCH (m:Memory {tenant: $tenant})
WHERE NOT EXISTS { MATCH (e:Event {tenant: $tenant, target_id: m.id}) WHERE e.op = 'ADD' }
RETURN collect(m.id)[..10] AS ids`

	entitiesWithoutMention = `
MATCH (x:__Entity__ {tenant: $tenant})
WHERE NOT EXISTS { MATCH (m:Memory)-[:MENTIONS]->(x) WHERE m.tenant = $tenant }
RETURN collect(x.name)[..10] AS ids`

	danglingRelationMemories = `
MATCH (:__Entity__ {tenant: $tenant})-[r]->(:__Entity__ {tenant: $tenant})
UNWIND coalesce(r.memory_ids, []) AS id
WITH DISTINCT id
WHERE NOT EXISTS { MATCH (m:Memory {id: id}) WHERE m.tenant = $tenant }
RETURN collect(id)[..10] AS ids`
)

// check runs the partial-write checks on tenant.
func (d *db) check(tenant string) integrity {
	d.t.Helper()
	p := map[string]any{"tenant": tenant}
	var out integrity
	rec := d.query(countGraph, p)[0]
	out.memories, _, _ = neo4j.GetRecordValue[int64](rec, "memories")
	out.entities, _, _ = neo4j.GetRecordValue[int64](rec, "entities")
	out.relations, _, _ = neo4j.GetRecordValue[int64](rec, "relations")
	for _, c := range []struct {
		q   string
		dst *[]string
	}{{memoriesWithoutAdd, &out.withoutAdd}, {entitiesWithoutMention, &out.unmentioned}, {danglingRelationMemories, &out.dangling}} {
		ids, _, err := neo4j.GetRecordValue[[]any](d.query(c.q, p)[0], "ids")
		if err != nil {
			d.t.Fatal(err)
		}
		for _, id := range ids {
			*c.dst = append(*c.dst, fmt.Sprint(id))
		}
	}
	return out
}

// serverEnv configures a server on d with the fake model at llm, without
// authentication (every request acts in tenant), without a rate limit, with
// the default two workers.
func serverEnv(d *db, llm *neomem.FakeLLM, tenant string, extra map[string]string) []string {
	vars := map[string]string{
		"NEOMEM_AUTH":           "disabled",
		"NEOMEM_DEFAULT_TENANT": tenant,
		"NEOMEM_WORKERS":        "2",
	}
	for k, v := range extra {
		vars[k] = v
	}
	return neomem.Env(d.Conn(), llm.Base, vars)
}

// addBody is a POST /memories body.
func addBody(userID, content string, infer bool) map[string]any {
	return map[string]any{"user_id": userID, "infer": infer,
		"messages": []map[string]string{{"role": "user", "content": content}}}
}

// addResult is the part of an add's 200 body the tests read.
type addResult struct {
	Results []struct {
		ID     string `json:"id"`
		Memory string `json:"memory"`
		Event  string `json:"event"`
	} `json:"results"`
}

// response is one HTTP exchange as a client saw it.
type response struct {
	status  int // 0: no response (err)
	header  http.Header
	body    []byte
	err     error
	latency time.Duration
}

// post sends body as JSON to base+path with the headers.
func post(ctx context.Context, client *http.Client, url string, body any, headers map[string]string) response {
	b, err := json.Marshal(body)
	if err != nil {
		return response{err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return response{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return response{err: err, latency: time.Since(start)}
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: rb, err: err, latency: time.Since(start)}
}

// get sends a GET with a 10 s time-out.
func get(url string) response {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return response{err: err}
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{err: err, latency: time.Since(start)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b, err: err, latency: time.Since(start)}
}

// durations summarises latencies.
type durations []time.Duration

func (ds durations) median() time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func (ds durations) max() time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return slices.Max(ds)
}

func (ds durations) min() time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return slices.Min(ds)
}

func (ds durations) String() string {
	return fmt.Sprintf("n=%d min %v median %v max %v", len(ds), ds.min().Round(time.Millisecond),
		ds.median().Round(time.Millisecond), ds.max().Round(time.Millisecond))
}
