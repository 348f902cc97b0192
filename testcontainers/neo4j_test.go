package testcontainers

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

func TestDockerProbeDoesNotPanic(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	why := dockerMissing(ctx)
	t.Logf("docker: %q (empty means an engine answers)", why)
}

func TestTenantIsCleanedUp(t *testing.T) {
	d := Driver(t)
	var tenant string
	t.Run("inner", func(t *testing.T) {
		tenant = Tenant(t)
		ctx := context.Background()
		sess := d.NewSession(ctx, sessionConfig())
		defer sess.Close(ctx)
		if _, err := sess.Run(ctx, "CREATE (:Memory {tenant: $t}), (:Event {tenant: $t})", map[string]any{"t": tenant}); err != nil {
			t.Fatal(err)
		}
	})
	ctx := context.Background()
	sess := d.NewSession(ctx, sessionConfig())
	defer sess.Close(ctx)
	res, err := sess.Run(ctx, "MATCH (n) WHERE n.tenant = $t RETURN count(n) AS n", map[string]any{"t": tenant})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := res.Single(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := rec.Get("n"); n != int64(0) {
		t.Fatalf("tenant %s has %v nodes after its test ended, want 0", tenant, n)
	}
}

func sessionConfig() neo4j.SessionConfig {
	return neo4j.SessionConfig{AccessMode: neo4j.AccessModeWrite}
}

// TestRequiredPolicy: with no Neo4j anywhere, a test skips with a reason —
// and fails under NEO4J_REQUIRED=1.
func TestRequiredPolicy(t *testing.T) {
	if os.Getenv("NEOMEM_HELPER_CHILD") == "1" {
		// The child: no Neo4j is reachable from here.
		Connection(t)
		return
	}
	for _, required := range []string{"", "1"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRequiredPolicy$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "NEOMEM_HELPER_CHILD=1", "NEO4J_URI=", "NEO4J_REQUIRED="+required,
			"DOCKER_HOST=unix:///nonexistent/docker.sock", "TESTCONTAINERS_RYUK_DISABLED=true")
		out, err := cmd.CombinedOutput()
		switch required {
		case "1":
			if err == nil || !strings.Contains(string(out), "NEO4J_REQUIRED=1 but no Neo4j is available") {
				t.Errorf("NEO4J_REQUIRED=1: err %v, output:\n%s", err, out)
			}
		default:
			if err != nil || !strings.Contains(string(out), "--- SKIP") || !strings.Contains(string(out), "no Neo4j") {
				t.Errorf("not required: err %v, output:\n%s", err, out)
			}
		}
	}
}
