package client

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Error is an answer of the server that is not a success: its problem
// details (RFC 9457; Problem.Status is the HTTP status, Problem.Errors the
// invalid fields with their paths, such as "messages[0].role"), the wait the
// server asks for, and the call it answered.
//
// Test it with errors.Is against the sentinel errors (ErrNotFound, …), which
// map HTTP statuses, or read it with errors.As:
//
//	var e *client.Error
//	if errors.As(err, &e) {
//		for _, f := range e.Errors {
//			log.Printf("%s: %s", f.Path, f.Message)
//		}
//	}
type Error struct {
	Problem
	// RetryAfter is the wait the server asked for in its Retry-After header
	// (503 and 429 answers), zero when it did not.
	RetryAfter time.Duration
	// Method and Path are the request's (without its query).
	Method string
	Path   string
}

// Error describes the answer: "neomem: GET /memories/…: 404 Not Found: …
// (request …)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("neomem: ")
	if e.Method != "" {
		b.WriteString(e.Method + " " + e.Path + ": ")
	}
	b.WriteString(strconv.Itoa(e.Status))
	if e.Title != "" {
		b.WriteString(" " + e.Title)
	}
	switch {
	case e.Detail != "":
		b.WriteString(": " + e.Detail)
	case len(e.Errors) > 0:
		fields := make([]string, len(e.Errors))
		for i, f := range e.Errors {
			fields[i] = f.Path + ": " + f.Message
		}
		b.WriteString(": " + strings.Join(fields, "; "))
	}
	if e.RequestID != "" {
		b.WriteString(" (request " + e.RequestID + ")")
	}
	return b.String()
}

// Is reports whether target is the sentinel error of e's status, so that
// errors.Is(err, client.ErrNotFound) holds for a 404.
func (e *Error) Is(target error) bool {
	s := sentinelOf(e.Status)
	return s != nil && target == s
}

// The sentinel errors: errors.Is(err, ErrX) holds when err is an *Error with
// one of ErrX's HTTP statuses.
var (
	// ErrInvalid: the request is wrong and is refused as sent: 400 (the
	// invalid fields are in Error.Errors), 413 (too large), 415, and 422 (an
	// Idempotency-Key used before for another request).
	ErrInvalid = errors.New("neomem: invalid request")
	// ErrUnauthorized: 401, no API key, or one that is invalid or revoked.
	ErrUnauthorized = errors.New("neomem: unauthorized")
	// ErrForbidden: 403, the key may not do this (an admin key is needed).
	ErrForbidden = errors.New("neomem: forbidden")
	// ErrNotFound: 404, no such memory, entity or event in the key's tenant.
	ErrNotFound = errors.New("neomem: not found")
	// ErrConflict: 409, such as a write with an Idempotency-Key whose first
	// request is still running (retry later).
	ErrConflict = errors.New("neomem: conflict")
	// ErrPrecondition: 412, the memory is no longer at the version given
	// with IfMatch; read it again and decide.
	ErrPrecondition = errors.New("neomem: precondition failed")
	// ErrRateLimited: 429, too many requests; wait Error.RetryAfter.
	ErrRateLimited = errors.New("neomem: rate limited")
	// ErrUnavailable: 502, 503 or 504, the server or what it depends on
	// (Neo4j, a model provider) cannot serve now; wait Error.RetryAfter.
	ErrUnavailable = errors.New("neomem: unavailable")
)

// sentinelOf is the sentinel error of an HTTP status, nil if none.
func sentinelOf(status int) error {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
		return ErrInvalid
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	case http.StatusPreconditionFailed:
		return ErrPrecondition
	case http.StatusTooManyRequests:
		return ErrRateLimited
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return ErrUnavailable
	}
	return nil
}

// maxErrorBody bounds how much of an error's body is read.
const maxErrorBody = 1 << 16

// errorOf reads a failed answer into an *Error: the problem details when the
// body has them, else the status and the body's beginning (a proxy's page).
func errorOf(resp *http.Response, method, path string) *Error {
	e := &Error{Method: method, Path: path}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err := json.Unmarshal(body, &e.Problem); err != nil || e.Title == "" && e.Detail == "" && len(e.Errors) == 0 {
		// Not problem details: keep the body's beginning as the detail.
		e.Problem = Problem{Detail: truncate(strings.TrimSpace(string(body)), 512)}
	}
	e.Status = resp.StatusCode
	if e.Title == "" {
		e.Title = http.StatusText(resp.StatusCode)
	}
	if e.Type == "" {
		e.Type = "about:blank"
	}
	if e.RequestID == "" {
		e.RequestID = resp.Header.Get("X-Request-Id")
	}
	e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	return e
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		return time.Duration(max(s, 0)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
