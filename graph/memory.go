package graph

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MemoryKind says where a memory came from.
type MemoryKind string

// The kinds of memory.
const (
	// KindFact is a durable fact extracted by the model (infer=true).
	KindFact MemoryKind = "fact"
	// KindRaw is one message stored as given (infer=false).
	KindRaw MemoryKind = "raw"
	// KindProcedural is an agent's procedural summary.
	KindProcedural MemoryKind = "procedural"
)

// Valid reports whether k is one of the known kinds.
func (k MemoryKind) Valid() bool {
	return k == KindFact || k == KindRaw || k == KindProcedural
}

// MaxMemoryText is the longest memory text accepted, in bytes.
const MaxMemoryText = 64 << 10

// Memory is one durable fact, raw message or procedural summary.
type Memory struct {
	ID    string
	Scope Scope
	// ActorID and Role say who said it (a participant name, "user", "assistant").
	ActorID string
	Role    string
	Text    string
	// Hash is HashText(Text); it lets callers detect exact repeats cheaply.
	Hash string
	// Embedding is the vector of Text; its length is the configured dimension.
	Embedding []float32
	Kind      MemoryKind
	// Metadata is the caller's JSON object, kept as given.
	Metadata map[string]any
	// Source lists ids of the messages the memory was derived from.
	Source    []string
	CreatedAt time.Time
	UpdatedAt time.Time
	// ExpiresAt, when set, hides the memory from reads after that time.
	ExpiresAt *time.Time
	// Version counts the changes of the memory: 1 when created, one more on
	// every update or invalidation. Clients see it as the ETag.
	Version int64
	Validity
}

// Validity is the time during which a fact or relation holds. InvalidAt is
// nil while it is current; update and delete set it instead of destroying the
// old version.
type Validity struct {
	ValidFrom time.Time
	InvalidAt *time.Time
}

// CurrentAt reports whether the item held at time t.
func (v Validity) CurrentAt(t time.Time) bool {
	if !v.ValidFrom.IsZero() && t.Before(v.ValidFrom) {
		return false
	}
	return v.InvalidAt == nil || t.Before(*v.InvalidAt)
}

// Current reports whether the item has not been invalidated.
func (v Validity) Current() bool { return v.InvalidAt == nil }

// HashText returns the MD5 hex digest of text after trimming and collapsing
// white space, as Mem0 does (its hash field is an MD5 of the memory text).
func HashText(text string) string {
	sum := md5.Sum([]byte(strings.Join(strings.Fields(text), " ")))
	return hex.EncodeToString(sum[:])
}

// CheckText returns an Invalid error naming field when text is empty, not
// UTF-8, or longer than MaxMemoryText.
func CheckText(op, field, text string) error {
	switch {
	case strings.TrimSpace(text) == "":
		return InvalidFields(op, FieldError{Path: field, Message: "must not be empty"})
	case len(text) > MaxMemoryText:
		return InvalidFields(op, FieldError{Path: field, Message: "is longer than 65536 bytes"})
	case !utf8.ValidString(text):
		return InvalidFields(op, FieldError{Path: field, Message: "is not valid UTF-8"})
	}
	return nil
}

// Audit says who caused a change; it is copied onto history events. Once,
// when set, makes the change idempotent (the request's Idempotency-Key).
type Audit struct {
	ActorID   string
	Role      string
	RequestID string
	Once      *Once
}

// MemoryPatch is an update of a memory's text and/or metadata. A nil field
// is left as it is. A new Text needs its new Embedding.
type MemoryPatch struct {
	Text      *string
	Embedding []float32
	Metadata  map[string]any
	// ReplaceMetadata replaces the whole metadata object instead of merging
	// the given keys into it (a key mapped to nil is removed when merging).
	ReplaceMetadata bool
	// IfVersion, when not 0, makes the update happen only while the memory's
	// Version is still IfVersion (else Stale).
	IfVersion int64
}

// MemoryChange is one change of a batch: the memory's ID and its patch (a
// delete uses only Patch.IfVersion).
type MemoryChange struct {
	ID    string
	Patch MemoryPatch
}

// Page is one page of a cursor-paginated listing.
type Page[T any] struct {
	Items []T
	// Next is the cursor of the following page; empty on the last page.
	Next string
}

// MaxMetadataKey is the longest metadata key, in bytes.
const MaxMetadataKey = 128

// MetadataKeyProblem says what is wrong with a metadata key, or "".
func MetadataKeyProblem(k string) string {
	switch {
	case k == "":
		return "key must not be empty"
	case len(k) > MaxMetadataKey:
		return "key is longer than 128 bytes"
	case !utf8.ValidString(k):
		return "key is not valid UTF-8"
	}
	for _, r := range k {
		if unicode.IsControl(r) {
			return "key contains a control character"
		}
	}
	return ""
}

// CheckMetadata returns an Invalid error listing every bad metadata key, so
// callers can refuse bad input before any model call.
func CheckMetadata(op string, md map[string]any) error {
	var bad []FieldError
	for k := range md {
		if msg := MetadataKeyProblem(k); msg != "" {
			bad = append(bad, FieldError{Path: "metadata." + k, Message: msg})
		}
	}
	if len(bad) > 0 {
		return InvalidFields(op, bad...)
	}
	return nil
}

// NormalizeNumbers turns the json.Numbers of JSON decoded with UseNumber
// into int64 (whole numbers that fit) or float64, in place, so metadata keeps
// integers exact wherever it was decoded (a request, a stored job).
func NormalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = NormalizeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = NormalizeNumbers(e)
		}
	}
	return v
}
