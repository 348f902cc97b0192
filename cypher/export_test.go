package cypher

import (
	"context"
	"testing"
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
