package cypher

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/graph"
)

// keyPrefix starts every neomem key: "nm_<id>_<secret>".
const keyPrefix = "nm_"

// Key lookups are by the key's id across tenants: authentication is what
// finds the tenant, so these queries are the only ones not scoped by one.
const (
	createKey = `
CREATE (k:ApiKey {id: $id, tenant: $tenant, name: $name, hash: $hash, admin: $admin, created_at: $now})`
	findKey = `
MATCH (k:ApiKey {id: $id})
RETURN k.hash AS hash, k {.id, .tenant, .name, .admin, .created_at, .revoked_at} AS key`
	listKeys = `
MATCH (k:ApiKey)
WHERE {{scope k}}
RETURN k {.id, .tenant, .name, .admin, .created_at, .revoked_at} AS key
ORDER BY k.created_at, k.id`
	revokeKey = `
MATCH (k:ApiKey {id: $id})
WHERE {{scope k}} AND k.revoked_at IS NULL
SET k.revoked_at = $now
RETURN k.id AS id`
)

// CreateAPIKey makes a key bound to tenant and returns its secret text —
// shown once; only its hash is stored. Errors: Invalid, Unavailable.
func (s *Store) CreateAPIKey(ctx context.Context, tenant, name string, admin bool) (string, graph.APIKey, error) {
	const op = "create api key"
	if err := (graph.Scope{Tenant: tenant}).Validate(op); err != nil {
		return "", graph.APIKey{}, err
	}
	if len(name) > 200 {
		return "", graph.APIKey{}, graph.InvalidFields(op, graph.FieldError{Path: "name", Message: "is longer than 200 bytes"})
	}
	var idb [8]byte
	var secret [32]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return "", graph.APIKey{}, graph.Wrap(graph.Other, op, err)
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return "", graph.APIKey{}, graph.Wrap(graph.Other, op, err)
	}
	id := hex.EncodeToString(idb[:])
	sec := base64.RawURLEncoding.EncodeToString(secret[:])
	t := now()
	_, err := neo4j.ExecuteQuery(ctx, s.driver, createKey, map[string]any{
		"id": id, "tenant": tenant, "name": name, "hash": hashSecret(sec), "admin": admin, "now": t,
	}, neo4j.EagerResultTransformer, neo4j.ExecuteQueryWithDatabase(s.cfg.Database))
	if err != nil {
		return "", graph.APIKey{}, translate(op, err)
	}
	return keyPrefix + id + "_" + sec, graph.APIKey{ID: id, Tenant: tenant, Name: name, Admin: admin, CreatedAt: t}, nil
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// errBadKey is the one answer to every failed authentication, so a caller
// learns nothing about which part was wrong.
var errBadKey = graph.E(graph.NotFound, "authenticate", "invalid or revoked API key")

// Authenticate returns the key a secret text belongs to. The comparison of
// hashes takes constant time. Errors: NotFound (unknown, malformed or
// revoked key), Unavailable.
func (s *Store) Authenticate(ctx context.Context, key string) (graph.APIKey, error) {
	rest, ok := strings.CutPrefix(key, keyPrefix)
	id, secret, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 || len(id) != 16 || secret == "" || len(key) > 200 {
		return graph.APIKey{}, errBadKey
	}
	res, err := neo4j.ExecuteQuery(ctx, s.driver, findKey, map[string]any{"id": id},
		neo4j.EagerResultTransformer, neo4j.ExecuteQueryWithDatabase(s.cfg.Database), neo4j.ExecuteQueryWithReadersRouting())
	if err != nil {
		return graph.APIKey{}, translate("authenticate", err)
	}
	want := hashSecret(secret)
	if len(res.Records) != 1 {
		// Compare anyway, so an unknown id costs the same as a wrong secret.
		subtle.ConstantTimeCompare([]byte(want), []byte(want))
		return graph.APIKey{}, errBadKey
	}
	rec := res.Records[0].AsMap()
	stored, _ := rec["hash"].(string)
	if subtle.ConstantTimeCompare([]byte(want), []byte(stored)) != 1 {
		return graph.APIKey{}, errBadKey
	}
	k := apiKeyFromMap(rec["key"])
	if k.RevokedAt != nil {
		return graph.APIKey{}, errBadKey
	}
	return k, nil
}

// APIKeys lists a tenant's keys (revoked ones included). Errors: Invalid,
// Unavailable.
func (s *Store) APIKeys(ctx context.Context, tenant string) ([]graph.APIKey, error) {
	const op = "list api keys"
	scope := graph.Scope{Tenant: tenant}
	if err := scope.Validate(op); err != nil {
		return nil, err
	}
	params := map[string]any{}
	q := scoped(listKeys, scope, params)
	res, err := s.readRecords(ctx, q, params)
	if err != nil {
		return nil, translate(op, err)
	}
	var out []graph.APIKey
	for _, rec := range res {
		v, _ := rec.Get("key")
		out = append(out, apiKeyFromMap(v))
	}
	return out, nil
}

// RevokeAPIKey revokes one of a tenant's keys. Errors: Invalid, NotFound
// (no such live key in the tenant), Unavailable.
func (s *Store) RevokeAPIKey(ctx context.Context, tenant, id string) error {
	const op = "revoke api key"
	scope := graph.Scope{Tenant: tenant}
	if err := scope.Validate(op); err != nil {
		return err
	}
	params := map[string]any{"id": id, "now": now()}
	q := scoped(revokeKey, scope, params)
	res, err := s.writeRecords(ctx, q, params)
	if err != nil {
		return translate(op, err)
	}
	if len(res) == 0 {
		return graph.E(graph.NotFound, op, "api key %s not found", id)
	}
	return nil
}

func apiKeyFromMap(v any) graph.APIKey {
	p, _ := v.(map[string]any)
	k := graph.APIKey{ID: str(p, "id"), Tenant: str(p, "tenant"), Name: str(p, "name"), CreatedAt: timeOf(p, "created_at"), RevokedAt: timePtr(p, "revoked_at")}
	k.Admin, _ = p["admin"].(bool)
	return k
}
