package cypher_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/cypher"
	"github.com/neomem/neomem/testcontainers/neomem"
)

// TestConcurrentBootstrap: servers that start together on an empty
// database all bootstrap it; their schema commands deadlock on Neo4j's
// schema locks now and then, which the store retries. It needs an empty
// database, so it runs on a private Neo4j (the runtime script, its own home
// and ports).
func TestConcurrentBootstrap(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private Neo4j")
	}
	db := neomem.StartNeo4j(t, nil)
	conn := db.Conn()
	driver, err := neo4j.NewDriverWithContext(conn.URI, neo4j.BasicAuth(conn.Username, conn.Password, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer driver.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const servers = 6
	errs := make([]error, servers)
	var wg sync.WaitGroup
	for i := range servers {
		wg.Go(func() {
			s, err := cypher.New(driver, cypher.Config{Dimensions: dims})
			if err == nil {
				err = s.Bootstrap(ctx)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("bootstrap %d of %d: %v", i+1, servers, err)
		}
	}
}
