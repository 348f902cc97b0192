package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	xrate "golang.org/x/time/rate"

	"github.com/neomem/neomem/graph"
)

const principalKey = "neomem.principal"

// keyOf reads an API key from X-API-Key, "Authorization: Bearer <key>" or
// "Authorization: Token <key>" (Mem0's client).
func keyOf(r *http.Request) string {
	if k := r.Header.Get("X-API-Key"); k != "" {
		return strings.TrimSpace(k)
	}
	auth := r.Header.Get("Authorization")
	for _, scheme := range []string{"Bearer ", "Token "} {
		if len(auth) > len(scheme) && strings.EqualFold(auth[:len(scheme)], scheme) {
			return strings.TrimSpace(auth[len(scheme):])
		}
	}
	return ""
}

// authenticate binds every non-public request to the tenant of its API key.
func authenticate(opt Options) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			// Public routes, and paths no route matches (the router answers
			// 404; the routes are public in /openapi.json anyway).
			if publicPaths[c.Request().URL.Path] || c.Path() == "" || strings.HasPrefix(c.Request().URL.Path, "/docs") {
				return next(c)
			}
			if opt.AuthDisabled {
				c.Set(principalKey, Principal{Tenant: opt.DefaultTenant, KeyID: "auth-disabled", Admin: true})
				return next(c)
			}
			key := keyOf(c.Request())
			if key == "" {
				return echo.NewHTTPError(http.StatusUnauthorized, "an API key is required: X-API-Key, Authorization: Bearer or Authorization: Token")
			}
			p, err := opt.Auth.Authenticate(c.Request().Context(), key)
			switch {
			case errors.Is(err, graph.NotFound):
				return echo.NewHTTPError(http.StatusUnauthorized, "invalid or revoked API key")
			case err != nil:
				return err
			}
			c.Set(principalKey, p)
			return next(c)
		}
	}
}

func principal(c echo.Context) Principal {
	p, _ := c.Get(principalKey).(Principal)
	return p
}

// audit says who made a change, for history events.
func audit(c echo.Context) graph.Audit {
	return graph.Audit{ActorID: "key:" + principal(c).KeyID, RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
}

// rateLimit allows each API key rate requests per second with bursts of
// burst; past it, 429 with Retry-After.
func rateLimit(rate float64, burst int) echo.MiddlewareFunc {
	store := middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate: xrate.Limit(rate), Burst: burst, ExpiresIn: 3 * time.Minute})
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Skipper: func(c echo.Context) bool { return principal(c).KeyID == "" },
		Store:   store,
		IdentifierExtractor: func(c echo.Context) (string, error) {
			return principal(c).Tenant + "/" + principal(c).KeyID, nil
		},
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			c.Response().Header().Set("Retry-After", "1")
			return echo.NewHTTPError(http.StatusTooManyRequests, "rate limit exceeded for this API key; retry later")
		},
	})
}
