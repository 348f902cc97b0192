package graph

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind classifies an error so callers can branch on it with errors.Is without
// reading message text. The set is closed on purpose: add a kind only when a
// caller must react differently to it.
type Kind uint8

const (
	// Other is an unexpected failure (a bug or an unclassified library error).
	Other Kind = iota
	// NotFound means the addressed item does not exist in the caller's tenant
	// and scope. Items of other tenants are reported as NotFound too.
	NotFound
	// Conflict means the request clashes with existing state (a uniqueness
	// constraint, an index with another vector dimension).
	Conflict
	// Invalid means the caller's input is wrong; Fields says where.
	Invalid
	// Unavailable means a dependency (Neo4j, a model provider) cannot serve the
	// request now; retrying later may succeed.
	Unavailable
	// Stale means the caller named a version of an item (HTTP If-Match) that
	// is no longer its current version: re-read it, then decide again.
	Stale
)

var kindNames = [...]string{
	Other:       "internal error",
	NotFound:    "not found",
	Conflict:    "conflict",
	Invalid:     "invalid input",
	Unavailable: "unavailable",
	Stale:       "stale version",
}

// String returns a short human name of the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Error makes a Kind usable as an errors.Is target: errors.Is(err, graph.NotFound).
func (k Kind) Error() string { return k.String() }

// FieldError names one bad part of the input, by a path such as
// "filters.AND[1].user_id" or "scope.user_id".
type FieldError struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// Error is neomem's error value: a kind, the operation that failed, a
// message for humans, the bad fields (for Invalid), and the underlying cause.
type Error struct {
	Kind   Kind
	Op     string
	Msg    string
	Fields []FieldError
	Err    error
}

// Error renders "op: message: cause" with the field details.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	switch {
	case e.Msg != "":
		b.WriteString(e.Msg)
	default:
		b.WriteString(e.Kind.String())
	}
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.Path)
		b.WriteString(": ")
		b.WriteString(f.Message)
		if i == len(e.Fields)-1 {
			b.WriteString(")")
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is this error's kind.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.Kind
}

// E builds an *Error of kind k with a formatted message.
func E(k Kind, op, format string, args ...any) *Error {
	return &Error{Kind: k, Op: op, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error of kind k for op around cause err.
func Wrap(k Kind, op string, err error) *Error {
	return &Error{Kind: k, Op: op, Err: err}
}

// InvalidFields returns an Invalid error listing every bad field.
func InvalidFields(op string, fields ...FieldError) *Error {
	msg := "invalid input"
	if len(fields) == 1 {
		msg = "invalid " + fields[0].Path
	}
	return &Error{Kind: Invalid, Op: op, Msg: msg, Fields: fields}
}

// KindOf returns the kind of the first *Error in err's chain, or a bare Kind
// in the chain, or the kind of a Classified error in it, or Other.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var k Kind
	if errors.As(err, &k) {
		return k
	}
	var c Classified
	if errors.As(err, &c) {
		return c.ErrorKind()
	}
	return Other
}

// Classified is an error of another package (a model provider's, say) that
// knows its kind.
type Classified interface {
	error
	ErrorKind() Kind
}

// RetryHint is an error that knows how long the caller should wait before
// trying again (a provider's Retry-After).
type RetryHint interface {
	error
	RetryIn() time.Duration
}

// RetryAfterOf returns the wait an error in err's chain asks for, 0 when
// none does.
func RetryAfterOf(err error) time.Duration {
	var h RetryHint
	if errors.As(err, &h) {
		return h.RetryIn()
	}
	return 0
}

// FieldsOf returns the field details of the first *Error in err's chain.
func FieldsOf(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}
