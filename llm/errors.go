package llm

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/neomem/neomem/graph"
)

// ProviderError is a failed call to a model provider, as every adapter
// returns it: the HTTP status when there was one, how long the provider asked
// to wait, and the graph error kind callers branch on.
type ProviderError struct {
	Provider string
	// Status is the HTTP status code, 0 when no response arrived.
	Status int
	// RetryAfter is the provider's Retry-After, 0 when absent.
	RetryAfter time.Duration
	Kind       graph.Kind
	// Msg is a short description (never the request or a key).
	Msg string
	Err error
}

// Error describes the failure.
func (e *ProviderError) Error() string {
	s := e.Provider + ": " + e.Kind.String()
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *ProviderError) Unwrap() error { return e.Err }

// ErrorKind is the graph kind of the failure (graph.KindOf reads it).
func (e *ProviderError) ErrorKind() graph.Kind { return e.Kind }

// RetryIn is the provider's Retry-After (graph.RetryAfterOf reads it).
func (e *ProviderError) RetryIn() time.Duration { return e.RetryAfter }

// Is makes errors.Is(err, graph.Unavailable) work.
func (e *ProviderError) Is(target error) bool {
	k, ok := target.(graph.Kind)
	return ok && k == e.Kind
}

// Retryable reports whether trying again may succeed: rate limits, server
// errors, and calls that got no response at all.
func (e *ProviderError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500 || e.Status == 0 && e.Kind == graph.Unavailable
}

// StatusError builds the ProviderError for an HTTP status: 429 and 5xx are
// Unavailable (retried), 401/403 are Other (a configuration problem no retry
// fixes), other 4xx are Invalid. retryAfter is the raw Retry-After header.
func StatusError(provider string, status int, retryAfter string, err error) *ProviderError {
	e := &ProviderError{Provider: provider, Status: status, RetryAfter: ParseRetryAfter(retryAfter, time.Now()), Err: err}
	switch {
	case status == http.StatusTooManyRequests:
		e.Kind, e.Msg = graph.Unavailable, "rate limited"
	case status >= 500:
		e.Kind, e.Msg = graph.Unavailable, "provider error"
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Kind, e.Msg = graph.Other, "authentication failed; check the API key"
	default:
		e.Kind, e.Msg = graph.Invalid, "request rejected"
	}
	return e
}

// TransportError builds the ProviderError for a call that got no HTTP
// response (network failure, time-out): Unavailable, retried.
func TransportError(provider string, err error) *ProviderError {
	return &ProviderError{Provider: provider, Kind: graph.Unavailable, Msg: "no response", Err: err}
}

// MalformedError builds the ProviderError for a reply that could not be
// understood: Other, not retried.
func MalformedError(provider string, err error) *ProviderError {
	return &ProviderError{Provider: provider, Kind: graph.Other, Msg: "malformed reply", Err: err}
}

// ParseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// AsProviderError returns the ProviderError in err's chain, if any.
func AsProviderError(err error) (*ProviderError, bool) {
	var pe *ProviderError
	ok := errors.As(err, &pe)
	return pe, ok
}
