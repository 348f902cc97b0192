package neomem_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/testcontainers"
	"github.com/neomem/neomem/testcontainers/neomem"
)

// TestStartMain: a server started without a test answers with its key;
// Stop ends its processes and deletes its tenant.
func TestStartMain(t *testing.T) {
	d := testcontainers.Driver(t)
	srv, skip, err := neomem.StartMain(nil)
	if err != nil || srv == nil {
		t.Fatalf("StartMain: %v (skip %q)", err, skip)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = srv.Stop()
		}
	})
	if !strings.HasPrefix(srv.APIKey, "nm_") || !strings.HasPrefix(srv.Tenant, "test-") {
		t.Fatalf("key %.12s…, tenant %q", srv.APIKey, srv.Tenant)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/memories?user_id=u", nil)
	req.Header.Set("X-API-Key", srv.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /memories with the key = %d", resp.StatusCode)
	}

	stopped = true
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if !srv.Exited() || !srv.LLM.Exited() {
		t.Fatalf("after Stop: server exited %v, fake models exited %v", srv.Exited(), srv.LLM.Exited())
	}
	res, err := neo4j.ExecuteQuery(context.Background(), d, "MATCH (n) WHERE n.tenant = $tenant RETURN count(n) AS n",
		map[string]any{"tenant": srv.Tenant}, neo4j.EagerResultTransformer)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.Records[0].Get("n"); n != int64(0) {
		t.Fatalf("tenant %s has %v nodes after Stop", srv.Tenant, n)
	}
}

// TestStartMainPolicy: with no Neo4j anywhere, StartMain gives no server and
// the reason — and an error under NEO4J_REQUIRED=1.
func TestStartMainPolicy(t *testing.T) {
	if os.Getenv("NEOMEM_HELPER_CHILD") == "1" {
		// The child: no Neo4j is reachable from here.
		srv, skip, err := neomem.StartMain(nil)
		fmt.Printf("server=%v skip=%q err=%v\n", srv != nil, skip, err)
		return
	}
	for _, required := range []string{"", "1"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStartMainPolicy$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "NEOMEM_HELPER_CHILD=1", "NEO4J_URI=", "NEO4J_REQUIRED="+required,
			"DOCKER_HOST=unix:///nonexistent/docker.sock", "TESTCONTAINERS_RYUK_DISABLED=true")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		switch required {
		case "1":
			if !strings.Contains(string(out), "server=false skip=\"\" err=start a neomem server: NEO4J_REQUIRED=1 but no Neo4j is available") {
				t.Errorf("NEO4J_REQUIRED=1: output:\n%s", out)
			}
		default:
			if !strings.Contains(string(out), "server=false skip=\"no Neo4j:") || !strings.Contains(string(out), "err=<nil>") {
				t.Errorf("not required: output:\n%s", out)
			}
		}
	}
}
