package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/neomem/neomem/graph"
)

// Idempotent writes. A write route called with an Idempotency-Key header
// writes at most once per key and tenant: the store records the key with the
// write's result in the write's own transaction, and a retry with the same
// key and the same request gets that result again (with the header
// Idempotent-Replayed: true) and writes nothing. The same key with another
// request is a 422. Keys are kept for a retention window (24h by default).

// Header names of idempotent writes.
const (
	headerIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotent-Replayed"
)

// idempotent runs one write route: do performs the write with audit (whose
// Once carries the request's key, if any) and returns what render answers
// with. A key already recorded is answered from the record instead.
func idempotent[T any](s *server, c echo.Context, do func(audit graph.Audit) (T, error), render func(T) error) error {
	a := audit(c)
	key := c.Request().Header.Get(headerIdempotencyKey)
	if key == "" {
		v, err := do(a)
		if err != nil {
			return err
		}
		return render(v)
	}
	if len(key) > graph.MaxOnceKey || strings.TrimFunc(key, func(r rune) bool { return r > ' ' && r < 0x7f }) != "" {
		return echo.NewHTTPError(http.StatusBadRequest, "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good key)")
	}
	if strings.HasPrefix(key, graph.JobKeyPrefix) {
		return echo.NewHTTPError(http.StatusBadRequest, "Idempotency-Key must not start with "+graph.JobKeyPrefix+" (reserved for asynchronous adds)")
	}
	fp, err := fingerprint(c)
	if err != nil {
		return err
	}
	tenant := principal(c).Tenant
	if done, err := replay(s, c, tenant, key, fp, render); done || err != nil {
		return err
	}
	a.Once = &graph.Once{Key: key, Fingerprint: fp}
	v, err := do(a)
	if graph.IsDone(err) {
		// Another request with this key committed first.
		if done, err := replay(s, c, tenant, key, fp, render); done || err != nil {
			return err
		}
		return echo.NewHTTPError(http.StatusConflict, "a request with this Idempotency-Key is still in progress; retry later")
	}
	if err != nil {
		return err
	}
	return render(v)
}

// replay answers from the record of key, if it holds a result; done says
// whether it did (or failed trying).
func replay[T any](s *server, c echo.Context, tenant, key, fp string, render func(T) error) (done bool, err error) {
	rec, ok, err := s.opt.Store.Recall(c.Request().Context(), tenant, key)
	if err != nil {
		return true, err
	}
	if !ok {
		return false, nil
	}
	if rec.Fingerprint != fp {
		return true, echo.NewHTTPError(http.StatusUnprocessableEntity,
			"this Idempotency-Key was already used with another request (method, path or body differ); use a new key for a new request")
	}
	if len(rec.Result) == 0 {
		// A write of several transactions that has not finished: this
		// request resumes it.
		return false, nil
	}
	var v T
	dec := json.NewDecoder(bytes.NewReader(rec.Result))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return true, fmt.Errorf("decode the recorded result of an idempotency key: %w", err)
	}
	c.Response().Header().Set(headerReplayed, "true")
	return true, render(v)
}

// fingerprint hashes what makes a request this request: method, path, query
// and body (JSON bodies canonically: key order and spacing do not matter).
// It reads the body and puts it back for the handler.
func fingerprint(c echo.Context) (string, error) {
	req := c.Request()
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			if tooLarge(err) {
				return "", echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the body is too large")
			}
			return "", graph.Wrap(graph.Invalid, "read body", err)
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil && !dec.More() {
		if canon, err := json.Marshal(v); err == nil {
			body = canon
		}
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", req.Method, req.URL.Path, req.URL.Query().Encode())
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// noKey refuses an Idempotency-Key on a route whose answer neomem must not
// keep (a new API key's secret is shown once and never stored).
func noKey(c echo.Context) error {
	if c.Request().Header.Get(headerIdempotencyKey) != "" {
		return echo.NewHTTPError(http.StatusBadRequest, "this route does not take an Idempotency-Key: its answer holds a secret that neomem does not keep")
	}
	return nil
}
