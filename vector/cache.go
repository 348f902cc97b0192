package vector

import (
	"container/list"
	"sync"
)

// DefaultQueryCache is how many query vectors a search engine keeps by
// default (about 1.5 MB at 384 dimensions, 6 MB at 1,536).
const DefaultQueryCache = 1000

// Cache keeps the vectors one embedder gave for the most recently used
// keys, at most a fixed number of them (least recently used first out).
// A search keeps its query's vector under the tenant and the query, so a
// repeated query skips the embedder: with the local model that is about 6 ms of a search
// (docs/benchmarks.md), with a hosted one a network round trip. The
// vectors it returns are shared: callers must not change them. Safe for
// concurrent use.
type Cache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front: most recently used
	items map[string]*list.Element
}

type cached struct {
	key string
	v   []float32
}

// NewCache returns a cache of at most max vectors; max ≤ 0 returns nil, a
// cache that keeps nothing.
func NewCache(max int) *Cache {
	if max <= 0 {
		return nil
	}
	return &Cache{max: max, order: list.New(), items: map[string]*list.Element{}}
}

// Get returns the vector kept for key.
func (c *Cache) Get(key string) ([]float32, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cached).v, true
}

// Put keeps a copy of v for key, dropping the least recently used vector
// past the bound.
func (c *Cache) Put(key string, v []float32) {
	if c == nil {
		return
	}
	own := append([]float32(nil), v...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		el.Value.(*cached).v = own
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&cached{key: key, v: own})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*cached).key)
	}
}

// Len is the number of vectors kept.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
