package cypher_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/cypher"
	"github.com/neomem/neomem/graph"
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
	t.Run("text analyzer", func(t *testing.T) { testAnalyzerChange(t, ctx, driver) })
}

// testAnalyzerChange: a store configured with another analyzer rebuilds the
// memory full-text index with it at bootstrap (from the stored nodes), and
// the entity index keeps its own.
func testAnalyzerChange(t *testing.T, ctx context.Context, driver neo4j.DriverWithContext) {
	analyzers := func() map[string]string {
		res, err := neo4j.ExecuteQuery(ctx, driver, `SHOW FULLTEXT INDEXES YIELD name, options
			RETURN name, options.indexConfig['fulltext.analyzer'] AS a`, nil, neo4j.EagerResultTransformer)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, r := range res.Records {
			n, _ := r.Get("name")
			a, _ := r.Get("a")
			out[n.(string)], _ = a.(string)
		}
		return out
	}
	if a := analyzers(); a[cypher.MemoryFulltextIndex] != cypher.DefaultTextAnalyzer || a[cypher.EntityFulltextIndex] == cypher.DefaultTextAnalyzer {
		t.Fatalf("after the default bootstrap: %v", a)
	}
	storeWith := func(analyzer string) *cypher.Store {
		s, err := cypher.New(driver, cypher.Config{Dimensions: dims, TextAnalyzer: analyzer})
		if err == nil {
			err = s.Bootstrap(ctx)
		}
		if err != nil {
			t.Fatalf("bootstrap with %s: %v", analyzer, err)
		}
		return s
	}
	s := storeWith("standard-no-stop-words")
	if a := analyzers(); a[cypher.MemoryFulltextIndex] != "standard-no-stop-words" {
		t.Fatalf("after a bootstrap with standard-no-stop-words: %v", a)
	}
	scope := graph.Scope{Tenant: "analyzer", UserID: "u"}
	mustCreate(t, s, mem(scope, "Caroline paints landscapes at dawn"))
	if got := textHits(t, s, scope, "painting"); len(got) != 0 {
		t.Errorf("the standard analyzer stemmed: %q", got)
	}
	s = storeWith(cypher.DefaultTextAnalyzer)
	if got := textHits(t, s, scope, "painting"); len(got) != 1 {
		t.Errorf("after the rebuild with the English analyzer, painting found %q", got)
	}
}
