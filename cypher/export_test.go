package cypher

import "testing"

// SetApplyFault installs f as Apply's fault hook for the rest of the test.
// Tests that use it must not run in parallel with other Apply tests.
func SetApplyFault(t testing.TB, f func(step string) error) {
	t.Helper()
	applyFault = f
	t.Cleanup(func() { applyFault = nil })
}
