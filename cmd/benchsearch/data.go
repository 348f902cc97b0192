package main

import (
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"

	"github.com/neomem/neomem/graph"
)

// Tenant classes.
const (
	classLarge  = "large"
	classMedium = "medium"
	classSmall  = "small"
)

// classes is the order classes are measured and reported in; each request
// of the HTTP benchmark picks one of them with equal odds.
var classes = []string{classLarge, classMedium, classSmall}

// Tenant id prefixes: each benchmark writes only tenants whose id starts
// with its prefix, and deleting an earlier run removes exactly those and
// nothing else. Neither is a prefix of the other. The HTTP benchmark's
// -prefix may lengthen its own (a test's tenants), never shorten it.
const (
	searchPrefix = "bench-"
	httpPrefix   = "benchhttp-"
)

// benchUser owns every loaded memory (one user per tenant); searches ask
// for it. writeUser gets the adds of the HTTP benchmark's mixed load, so
// searches never see them and the next -reuse finds the layout as loaded.
const (
	benchUser = "user"
	writeUser = "writer"
)

// group is a set of tenants of one class and one size.
type group struct {
	Class string `json:"class"`
	Count int    `json:"tenants"`
	Size  int    `json:"memories_each"`
}

// layoutFor returns the tenants of a search benchmark size: one large
// tenant, some medium ones and many small ones in one vector index. 100,000
// is also the recall scenario of the issue (a 50,000-memory tenant next to
// 1,000 tenants of 20) and the HTTP benchmark's layout.
func layoutFor(size int) ([]group, error) {
	l100k := []group{{classLarge, 1, 50000}, {classMedium, 10, 3000}, {classSmall, 1000, 20}}
	switch size {
	case 10000:
		return []group{{classLarge, 1, 5000}, {classMedium, 5, 600}, {classSmall, 100, 20}}, nil
	case 100000:
		return l100k, nil
	case 1000000:
		return append(l100k, group{classMedium, 90, 10000}), nil
	}
	return nil, fmt.Errorf("no layout for %d memories (sizes are 10000, 100000 and 1000000)", size)
}

// minScaled is the smallest scaled layout: every class needs a tenant.
const minScaled = 100

// scaledLayout spreads n memories like layoutFor(100000): half in one large
// tenant, 30% in ten medium tenants, 20% in tenants of 20. 100,000 is that
// layout itself; other sizes scale it (the HTTP benchmark's -memories, for
// tests and pipeline checks), the rounding rest going to the large tenant.
func scaledLayout(n int) ([]group, error) {
	if n < minScaled {
		return nil, fmt.Errorf("-memories %d: at least %d", n, minScaled)
	}
	medium := n * 3 / 100 // each of ten
	small := n / 100      // tenants of 20
	large := n - 10*medium - 20*small
	return []group{{classLarge, 1, large}, {classMedium, 10, medium}, {classSmall, small, 20}}, nil
}

// layoutTotal is the number of memories of a layout.
func layoutTotal(groups []group) int {
	n := 0
	for _, g := range groups {
		n += g.Count * g.Size
	}
	return n
}

// tenant is one benchmark tenant of a layout.
type tenant struct {
	Class string
	Scope graph.Scope
	Size  int
}

// tenants lists the tenants of a layout in load order, named
// <prefix><class>-<index within the class>, each with benchUser.
func tenants(prefix string, groups []group) []tenant {
	var out []tenant
	next := map[string]int{}
	for _, g := range groups {
		for range g.Count {
			i := next[g.Class]
			next[g.Class]++
			out = append(out, tenant{
				Class: g.Class,
				Scope: graph.Scope{Tenant: fmt.Sprintf("%s%s-%04d", prefix, g.Class, i), UserID: benchUser},
				Size:  g.Size,
			})
		}
	}
	return out
}

// sampleIndexes picks up to k of n items, evenly spaced, first one included.
func sampleIndexes(n, k int) []int {
	k = min(k, n)
	out := make([]int, 0, k)
	for j := range k {
		out = append(out, j*n/k)
	}
	return out
}

// sampleLimit is how many tenants of a class the benchmark keeps in memory
// (vectors for exact search in Go) and queries: about 100,000 vectors per
// class at most, never more than 100 tenants.
func sampleLimit(tenantSize, tenantCount int) int {
	return min(tenantCount, 100, max(1, 100000/tenantSize))
}

// corpus makes deterministic synthetic sentences: words of a fixed
// vocabulary of pseudo-words, drawn with a Zipf distribution (a few common
// words, a long tail), so texts share words the way real notes do and the
// hashing embedder and BM25 both have something to rank.
type corpus struct {
	words []string
	r     *rand.Rand
	zipf  *rand.Zipf
}

// vocabularySize is the number of distinct words.
const vocabularySize = 5000

// vocab is built once: the vocabulary depends on nothing, and every stream
// draws from the same words.
var vocab = vocabulary()

// newCorpus returns the sentence stream named stream for a seed; streams
// are independent of one another.
func newCorpus(seed uint64, stream string) *corpus {
	r := rand.New(rand.NewPCG(seed, streamID(stream)))
	return &corpus{words: vocab, r: r, zipf: rand.NewZipf(r, 1.07, 2, vocabularySize-1)}
}

func streamID(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

var (
	syllableOnsets = []string{"b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br", "ch", "cl", "dr", "fl", "gr", "pl", "sh", "st", "tr"}
	syllableVowels = []string{"a", "e", "i", "o", "u", "ai", "ea", "io", "ou"}
	syllableCodas  = []string{"", "", "", "n", "r", "s", "l", "m", "t", "nd", "st"}
)

// vocabulary returns vocabularySize distinct pseudo-words of two or three
// syllables, always the same ones.
func vocabulary() []string {
	r := rand.New(rand.NewPCG(20261121, 1))
	seen := map[string]bool{}
	out := make([]string, 0, vocabularySize)
	for len(out) < vocabularySize {
		var b strings.Builder
		for range 2 + r.IntN(2) {
			b.WriteString(syllableOnsets[r.IntN(len(syllableOnsets))])
			b.WriteString(syllableVowels[r.IntN(len(syllableVowels))])
			b.WriteString(syllableCodas[r.IntN(len(syllableCodas))])
		}
		w := b.String()
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// sentence returns minWords to maxWords words ending with a period.
func (c *corpus) sentence(minWords, maxWords int) string {
	n := minWords + c.r.IntN(maxWords-minWords+1)
	w := make([]string, n)
	for i := range w {
		w[i] = c.words[c.zipf.Uint64()]
	}
	return strings.Join(w, " ") + "."
}

// memoryText is the text of one stored memory (or one added message).
func (c *corpus) memoryText() string { return c.sentence(6, 14) }

// query is the text of one search: 3–7 words.
func (c *corpus) query() string { return c.sentence(3, 7) }

// queries returns n queries.
func (c *corpus) queries(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = c.query()
	}
	return out
}

// uuid returns a random (version 4) UUID from c's generator, so a run's ids
// are reproducible.
func (c *corpus) uuid() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		x := c.r.Uint64()
		for j := range 8 {
			b[i+j] = byte(x >> (8 * j))
		}
	}
	b[6] = 0x40 | b[6]&0x0f
	b[8] = 0x80 | b[8]&0x3f
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
