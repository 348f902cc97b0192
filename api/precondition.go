package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/neomem/neomem/graph"
)

// Optimistic concurrency: a memory's ETag is its version, a strong entity
// tag such as "7". A client that sends it back in If-Match changes or
// deletes the memory only if nobody changed it meanwhile, and gets 412
// otherwise; without If-Match a change applies to whatever is current
// (atomically, under the memory's write lock).

// etag renders a memory version as a strong entity tag.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// setETag sets the ETag header of a memory response.
func setETag(c echo.Context, m graph.Memory) {
	if m.Version > 0 {
		c.Response().Header().Set("ETag", etag(m.Version))
	}
}

// ifMatch returns the version the request's If-Match header names: 0 when
// the header is absent or "*" (any current version). An entity tag neomem
// never issued (a weak one, or one that is not a version) can match no
// version, so it is a version that cannot exist (-1): the store answers Stale
// (412), as HTTP prescribes for a failed precondition.
func ifMatch(c echo.Context) (int64, error) {
	h := strings.TrimSpace(c.Request().Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	if strings.Contains(h, ",") {
		return 0, echo.NewHTTPError(http.StatusBadRequest, "If-Match: give one entity tag, the ETag of the memory")
	}
	tag, ok := strings.CutPrefix(h, `"`)
	tag, closed := strings.CutSuffix(tag, `"`)
	if !ok || !closed {
		if strings.HasPrefix(h, `W/"`) {
			return -1, nil // weak tags never match (strong comparison)
		}
		return 0, echo.NewHTTPError(http.StatusBadRequest, `If-Match must be an entity tag such as "3" (the memory's ETag)`)
	}
	v, err := strconv.ParseInt(tag, 10, 64)
	if err != nil || v < 1 {
		return -1, nil
	}
	return v, nil
}
