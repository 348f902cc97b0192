package cypher_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/testcontainers"
)

func TestAPIKeys(t *testing.T) {
	s, tenant := newStore(t)
	other := testcontainers.Tenant(t)
	ctx := context.Background()
	secret, key, err := s.CreateAPIKey(ctx, tenant, "ci", true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "nm_"+key.ID+"_") || !key.Admin || key.Tenant != tenant {
		t.Fatalf("created %q %+v", secret, key)
	}
	// Only the hash is stored.
	if n := count(t, "MATCH (k:ApiKey {id: $id}) WHERE k.hash <> $secret AND size(k.hash) = 64 RETURN count(k) AS n",
		map[string]any{"id": key.ID, "secret": secret}); n != 1 {
		t.Fatal("the key is not stored as a hash")
	}
	got, err := s.Authenticate(ctx, secret)
	if err != nil || got.ID != key.ID || got.Tenant != tenant || !got.Admin {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "nm_", secret + "x", strings.Replace(secret, "nm_", "xx_", 1), "nm_" + key.ID + "_", "nm_0123456789abcdef_" + strings.Repeat("a", 43), strings.Repeat("x", 500)} {
		if _, err := s.Authenticate(ctx, bad); !errors.Is(err, graph.NotFound) {
			t.Errorf("Authenticate(%q) = %v, want NotFound", bad, err)
		}
	}
	// Another tenant can neither list nor revoke it.
	if keys, err := s.APIKeys(ctx, other); err != nil || len(keys) != 0 {
		t.Fatalf("other tenant lists %+v, %v", keys, err)
	}
	if err := s.RevokeAPIKey(ctx, other, key.ID); !errors.Is(err, graph.NotFound) {
		t.Fatalf("other tenant revokes: %v", err)
	}
	if keys, err := s.APIKeys(ctx, tenant); err != nil || len(keys) != 1 {
		t.Fatalf("APIKeys = %+v, %v", keys, err)
	}
	if err := s.RevokeAPIKey(ctx, tenant, key.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, secret); !errors.Is(err, graph.NotFound) {
		t.Fatalf("revoked key authenticates: %v", err)
	}
	// Reset of the tenant's data keeps its keys (an admin must not lock
	// itself out).
	if _, err := s.Reset(ctx, tenant, graph.Audit{}); err != nil {
		t.Fatal(err)
	}
	if keys, _ := s.APIKeys(ctx, tenant); len(keys) != 1 {
		t.Fatal("reset deleted the tenant's keys")
	}
}
