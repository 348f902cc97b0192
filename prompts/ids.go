package prompts

import "strconv"

// Short ids name what a decision prompt shows the model: F1… the new facts,
// M1… the existing memories, R1… the existing relations. They are formatted
// and parsed here only.
const (
	factPrefix     = "F"
	memoryPrefix   = "M"
	relationPrefix = "R"
)

// FactID, MemoryID and RelationID name the i-th (from 0) item of their kind.
func FactID(i int) string     { return factPrefix + strconv.Itoa(i+1) }
func MemoryID(i int) string   { return memoryPrefix + strconv.Itoa(i+1) }
func RelationID(i int) string { return relationPrefix + strconv.Itoa(i+1) }

// FactIndex, MemoryIndex and RelationIndex return the index (from 0) an id
// names among n items of its kind; ok is false for another kind, a
// malformed id or one out of range.
func FactIndex(id string, n int) (int, bool)     { return index(id, factPrefix, n) }
func MemoryIndex(id string, n int) (int, bool)   { return index(id, memoryPrefix, n) }
func RelationIndex(id string, n int) (int, bool) { return index(id, relationPrefix, n) }

func index(id, prefix string, n int) (int, bool) {
	if len(id) <= len(prefix) || id[:len(prefix)] != prefix {
		return 0, false
	}
	k, err := strconv.Atoi(id[len(prefix):])
	if err != nil || k < 1 || k > n || strconv.Itoa(k) != id[len(prefix):] {
		return 0, false
	}
	return k - 1, true
}

// KnownIDs lists the ids of facts new facts, memories existing memories and
// relations existing relations, as the decision prompt shows them.
func KnownIDs(facts, memories, relations int) Known {
	var k Known
	for i := range facts {
		k.Facts = append(k.Facts, FactID(i))
	}
	for i := range memories {
		k.Memories = append(k.Memories, MemoryID(i))
	}
	for i := range relations {
		k.Relations = append(k.Relations, RelationID(i))
	}
	return k
}
