package cypher

import (
	"context"
	"testing"
	"time"
)

// SetApplyFault installs f as Apply's fault hook for the rest of the test.
// Tests that use it must not run in parallel with other Apply tests.
func SetApplyFault(t testing.TB, f func(step string) error) {
	t.Helper()
	applyFault = f
	t.Cleanup(func() { applyFault = nil })
}

// EnsureTestVectorIndex runs Bootstrap's vector index step (settings
// migration, then creation) for one index on a test-only label, so a test
// can rebuild an index without touching the ones other packages use.
func EnsureTestVectorIndex(ctx context.Context, s *Store, name, label string) error {
	info, err := s.serverInfo(ctx)
	if err != nil {
		return err
	}
	return s.ensureVectorIndexes(ctx, info.FilteredVectorSearch, []vectorIndex{{name, label, "x"}})
}

// SetIndexSize makes s's searches on 5.26 take z as the index sizes, read
// at; a time older than indexSizeTTL makes the next search read them again.
func SetIndexSize(s *Store, z IndexSizes, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sizes, s.sizesAt = z, at
}

// IndexSizeTTL is indexSizeTTL.
const IndexSizeTTL = indexSizeTTL

// CachedIndexSize is the index sizes s's searches use now.
func CachedIndexSize(s *Store) IndexSizes {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sizes
}
