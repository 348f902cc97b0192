package client_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/neomem/neomem/client"
	"github.com/neomem/neomem/testcontainers"
	"github.com/neomem/neomem/testcontainers/neomem"
)

// shared is the real server of this test binary (nil without a Neo4j): the
// examples use its own tenant through NEOMEM_URL and NEOMEM_API_KEY, tests
// get tenants of their own on it.
var shared *neomem.MainServer

func TestMain(m *testing.M) {
	os.Exit(neomem.MainWithServer(m, nil, func(s *neomem.MainServer) {
		shared = s
		if s != nil {
			os.Setenv("NEOMEM_URL", s.URL)
			os.Setenv("NEOMEM_API_KEY", s.APIKey)
		}
	}))
}

// server returns the shared server; without one the test skips (or fails
// under NEO4J_REQUIRED=1), as testcontainers.Connection decides.
func server(t *testing.T) *neomem.MainServer {
	t.Helper()
	if shared == nil {
		testcontainers.Connection(t)
		t.Fatal("no neomem server although a Neo4j is available: see TestMain's output")
	}
	return shared
}

// tenantClient returns a client of a fresh tenant (deleted when the test
// ends) on the shared server.
func tenantClient(t *testing.T, opts ...client.Option) *client.Client {
	t.Helper()
	srv := server(t)
	return client.New(srv.URL, srv.Key(t, testcontainers.Tenant(t), false), opts...)
}

// testContext is a context that ends with the test (or after a minute).
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// turns are user turns with the given texts.
func turns(texts ...string) []client.Turn {
	out := make([]client.Turn, len(texts))
	for i, s := range texts {
		out[i] = client.Turn{Role: client.User, Content: s}
	}
	return out
}

// addRaw stores texts as they are (no model call) in user's scope and
// returns the memories' ids.
func addRaw(t *testing.T, c *client.Client, user string, texts ...string) []string {
	t.Helper()
	res, err := c.Add(testContext(t), client.AddRequest{UserID: user, Infer: client.Bool(false), Messages: turns(texts...)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != len(texts) {
		t.Fatalf("add of %d turns: %d results %+v", len(texts), len(res.Results), res.Results)
	}
	ids := make([]string, len(res.Results))
	for i, r := range res.Results {
		if r.Event != client.AddResultEventADD || r.Memory != texts[i] {
			t.Fatalf("result %d = %+v, want ADD %q", i, r, texts[i])
		}
		ids[i] = r.ID
	}
	return ids
}
