package graph

import (
	"sync"
	"testing"
)

// TestNewIDIncreases: ids of one process strictly increase, also many in
// one millisecond and from several goroutines, and keep the UUIDv7 shape.
func TestNewIDIncreases(t *testing.T) {
	prev := NewID()
	for range 20000 {
		id := NewID()
		if id <= prev {
			t.Fatalf("NewID() = %s after %s", id, prev)
		}
		if !ValidID(id) || id[14] != '7' || !(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') {
			t.Fatalf("NewID() = %s is not a UUIDv7", id)
		}
		prev = id
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5000 {
				id := NewID()
				mu.Lock()
				if seen[id] {
					t.Errorf("NewID() repeated %s", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
