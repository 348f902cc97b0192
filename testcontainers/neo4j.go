// Package testcontainers hands tests a real Neo4j. It is test infrastructure:
// only _test.go files and the runtime scripts beside it use it.
//
// The Neo4j comes from, in order:
//  1. NEO4J_URI (with NEO4J_USERNAME, NEO4J_PASSWORD) when set — `make test`
//     sets it after starting the project's own runtime (runtime/neo4j.sh);
//  2. a container from testcontainers-go's Neo4j module when a Docker engine
//     answers;
//  3. nothing: the test is skipped with the reason, or fails when
//     NEO4J_REQUIRED=1 (CI), so integration tests never pass by not running.
//
// The database is shared by every test package running in parallel, so
// nothing here wipes it: each test gets its own tenant, and everything of
// that tenant is deleted when the test ends.
package testcontainers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	tc "github.com/testcontainers/testcontainers-go"
	tcneo4j "github.com/testcontainers/testcontainers-go/modules/neo4j"
)

// Image is the Docker image used when a Docker engine is available; the same
// release as the project's own runtime's default.
const Image = "neo4j:2026.08.1-community"

const containerPassword = "neomem-test-password"

// Conn says where the test Neo4j is.
type Conn struct {
	URI      string
	Username string
	Password string
	// Source is "env" or "docker".
	Source string
}

var shared struct {
	once   sync.Once
	conn   Conn
	driver neo4j.DriverWithContext
	skip   string // why there is no Neo4j, when there is none
	err    error  // a Neo4j was configured but could not be used
}

// Connection returns where the test Neo4j is, starting a container if that is
// the way to get one. It skips (or fails under NEO4J_REQUIRED=1) when there is
// no Neo4j.
func Connection(t testing.TB) Conn {
	t.Helper()
	setup()
	if shared.err != nil {
		t.Fatalf("test Neo4j: %v", shared.err)
	}
	if shared.skip != "" {
		if os.Getenv("NEO4J_REQUIRED") == "1" {
			t.Fatalf("NEO4J_REQUIRED=1 but no Neo4j is available: %s", shared.skip)
		}
		t.Skipf("no Neo4j: %s (run `make test`, or set NEO4J_URI)", shared.skip)
	}
	return shared.conn
}

// Driver returns a driver connected to the test Neo4j, shared by all tests of
// the package. See Connection for when it skips.
func Driver(t testing.TB) neo4j.DriverWithContext {
	t.Helper()
	Connection(t)
	return shared.driver
}

func setup() {
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		conn, skip, err := find(ctx)
		if err != nil || skip != "" {
			shared.skip, shared.err = skip, err
			return
		}
		d, err := neo4j.NewDriverWithContext(conn.URI, neo4j.BasicAuth(conn.Username, conn.Password, ""))
		if err != nil {
			shared.err = fmt.Errorf("driver for %s: %w", conn.URI, err)
			return
		}
		if err := waitReachable(ctx, d); err != nil {
			shared.err = fmt.Errorf("%s (from %s) is not reachable: %w", conn.URI, conn.Source, err)
			return
		}
		shared.conn, shared.driver = conn, d
	})
}

func find(ctx context.Context) (conn Conn, skip string, err error) {
	if uri := os.Getenv("NEO4J_URI"); uri != "" {
		user := os.Getenv("NEO4J_USERNAME")
		if user == "" {
			user = "neo4j"
		}
		return Conn{URI: uri, Username: user, Password: os.Getenv("NEO4J_PASSWORD"), Source: "env"}, "", nil
	}
	if why := dockerMissing(ctx); why != "" {
		return Conn{}, "NEO4J_URI is not set and " + why, nil
	}
	c, err := tcneo4j.Run(ctx, Image, tcneo4j.WithAdminPassword(containerPassword))
	if err != nil {
		return Conn{}, "", fmt.Errorf("start %s container: %w", Image, err)
	}
	uri, err := c.BoltUrl(ctx)
	if err != nil {
		return Conn{}, "", fmt.Errorf("bolt address of the container: %w", err)
	}
	// The container is removed by testcontainers' reaper when the test
	// process ends.
	return Conn{URI: uri, Username: "neo4j", Password: containerPassword, Source: "docker"}, "", nil
}

// dockerMissing says why no Docker engine can be used, or "" when one answers.
// testcontainers-go panics on some set-ups without an engine; that is a
// missing engine too, not a test failure.
func dockerMissing(ctx context.Context) (why string) {
	defer func() {
		if r := recover(); r != nil {
			why = fmt.Sprintf("no Docker engine answers (%v)", r)
		}
	}()
	p, err := tc.NewDockerProvider()
	if err != nil {
		return "no Docker engine answers (" + err.Error() + ")"
	}
	hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := p.Health(hctx); err != nil {
		return "no Docker engine answers (" + err.Error() + ")"
	}
	return ""
}

func waitReachable(ctx context.Context, d neo4j.DriverWithContext) error {
	var err error
	for {
		if err = d.VerifyConnectivity(ctx); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Tenant returns a tenant id no other test uses and deletes every node of it
// (memories, entities, events, locks) when the test ends.
func Tenant(t testing.TB) string {
	t.Helper()
	d := Driver(t)
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	tenant := "test-" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := DeleteTenant(ctx, d, tenant); err != nil {
			t.Errorf("clean up tenant %s: %v", tenant, err)
		}
	})
	return tenant
}

// TenantLabels are the labels of every node neomem writes; each carries a
// tenant property backed by an index, so a tenant is deleted without a scan of
// the whole database.
var TenantLabels = []string{"Memory", "__Entity__", "Event", "ScopeLock", "ApiKey", "IdempotencyKey", "Job", "JobCounter"}

// deleteTenantBatch has one variant per label (labels cannot be parameters);
// the labels come from the constant list above, never from input.
const deleteTenantBatch = `
MATCH (n:%s)
WHERE n.tenant = $tenant
WITH n LIMIT 5000
DETACH DELETE n
RETURN count(*) AS deleted`

// DeleteTenant removes every node of tenant, in batches.
func DeleteTenant(ctx context.Context, d neo4j.DriverWithContext, tenant string) error {
	for _, label := range TenantLabels {
		q := fmt.Sprintf(deleteTenantBatch, label)
		for {
			res, err := neo4j.ExecuteQuery(ctx, d, q, map[string]any{"tenant": tenant}, neo4j.EagerResultTransformer)
			if err != nil {
				return err
			}
			n, _, err := neo4j.GetRecordValue[int64](res.Records[0], "deleted")
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
		}
	}
	return nil
}
