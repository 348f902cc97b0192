package api

import (
	"crypto/sha256"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
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

// Failed authentication is rate limited per client address (the
// connection's, not a header a client can forge): failureRate failures per
// second with bursts of failureBurst; past it, the address gets 429 for any
// key it has not used successfully in the last goodKeyTTL (so a client
// behind the same address with a working key keeps working, and guesses cost
// no lookups). A key found bad is remembered for badKeyTTL, so guessing does
// not cost a Neo4j lookup per attempt either.
const (
	failureRate    = 1.0 / 6 // ten a minute
	failureBurst   = 20
	badKeyTTL      = 30 * time.Second
	goodKeyTTL     = 5 * time.Minute
	guardMaxTrack  = 10000 // addresses and bad keys remembered at most
	guardIdleAfter = 10 * time.Minute
)

// authGuard holds the per-address failure budgets and the bad-key cache.
// Safe for concurrent use.
type authGuard struct {
	mu       sync.Mutex
	failures map[string]*failureBudget
	badKeys  map[[32]byte]time.Time
	goodKeys map[[32]byte]goodKey
}

// goodKey is a key that authenticated recently, consulted only for an
// address over its failure budget.
type goodKey struct {
	p     graph.APIKey
	until time.Time
}

type failureBudget struct {
	limiter *xrate.Limiter
	seen    time.Time
}

func newAuthGuard() *authGuard {
	return &authGuard{failures: map[string]*failureBudget{}, badKeys: map[[32]byte]time.Time{}, goodKeys: map[[32]byte]goodKey{}}
}

// blocked reports whether addr has no failure budget left.
func (g *authGuard) blocked(addr string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	b := g.failures[addr]
	return b != nil && b.limiter.TokensAt(now) < 1
}

// failed spends one of addr's failures and remembers key as bad.
func (g *authGuard) failed(addr, key string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.failures) >= guardMaxTrack || len(g.badKeys) >= guardMaxTrack {
		g.sweep(now)
	}
	b := g.failures[addr]
	if b == nil {
		b = &failureBudget{limiter: xrate.NewLimiter(xrate.Limit(failureRate), failureBurst)}
		g.failures[addr] = b
	}
	b.seen = now
	b.limiter.AllowN(now, 1)
	if len(g.badKeys) < guardMaxTrack {
		g.badKeys[sha256.Sum256([]byte(key))] = now.Add(badKeyTTL)
	}
}

// succeeded remembers that key authenticated as p.
func (g *authGuard) succeeded(key string, p graph.APIKey, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.goodKeys) >= guardMaxTrack {
		g.sweep(now)
	}
	if len(g.goodKeys) < guardMaxTrack {
		g.goodKeys[sha256.Sum256([]byte(key))] = goodKey{p: p, until: now.Add(goodKeyTTL)}
	}
}

// knownGood returns the principal of a key that authenticated less than
// goodKeyTTL ago.
func (g *authGuard) knownGood(key string, now time.Time) (graph.APIKey, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	k, ok := g.goodKeys[sha256.Sum256([]byte(key))]
	return k.p, ok && now.Before(k.until)
}

// knownBad reports whether key was found bad less than badKeyTTL ago.
func (g *authGuard) knownBad(key string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.badKeys[sha256.Sum256([]byte(key))]
	return ok && now.Before(until)
}

// sweep forgets expired bad keys and idle addresses.
func (g *authGuard) sweep(now time.Time) {
	for k, until := range g.badKeys {
		if !now.Before(until) {
			delete(g.badKeys, k)
		}
	}
	for a, b := range g.failures {
		if now.Sub(b.seen) > guardIdleAfter {
			delete(g.failures, a)
		}
	}
	for k, good := range g.goodKeys {
		if !now.Before(good.until) {
			delete(g.goodKeys, k)
		}
	}
}

// clientAddr is the connection's address without the port.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authenticate binds every non-public request to the tenant of its API key.
func authenticate(opt Options) echo.MiddlewareFunc {
	guard := newAuthGuard()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			// Public routes, and paths no route matches (the router answers
			// 404; the routes are public in /openapi.json anyway).
			path := c.Request().URL.Path
			if publicPaths[path] || c.Path() == "" || strings.HasPrefix(path, "/docs") || strings.HasPrefix(path, "/browser/") {
				return next(c)
			}
			if opt.AuthDisabled {
				actAs(c, graph.APIKey{Tenant: opt.DefaultTenant, ID: "auth-disabled", Admin: true})
				return next(c)
			}
			key := keyOf(c.Request())
			if key == "" {
				return echo.NewHTTPError(http.StatusUnauthorized, "an API key is required: X-API-Key, Authorization: Bearer or Authorization: Token")
			}
			addr, now := clientAddr(c.Request()), time.Now()
			if guard.blocked(addr, now) {
				p, ok := guard.knownGood(key, now)
				if !ok {
					c.Response().Header().Set("Retry-After", strconv.Itoa(int(1/failureRate)))
					return echo.NewHTTPError(http.StatusTooManyRequests, "too many failed authentications from this address; retry later")
				}
				actAs(c, p)
				return next(c)
			}
			if guard.knownBad(key, now) {
				guard.failed(addr, key, now)
				return echo.NewHTTPError(http.StatusUnauthorized, "invalid or revoked API key")
			}
			p, err := opt.Auth.Authenticate(c.Request().Context(), key)
			switch {
			case errors.Is(err, graph.NotFound):
				guard.failed(addr, key, now)
				return echo.NewHTTPError(http.StatusUnauthorized, "invalid or revoked API key")
			case err != nil:
				return err
			}
			guard.succeeded(key, p, now)
			actAs(c, p)
			return next(c)
		}
	}
}

// actAs binds the request to key: in echo's context for the handlers, and
// in the request's context for handlers mounted beside them (MCP).
func actAs(c echo.Context, key graph.APIKey) {
	c.Set(principalKey, key)
	c.SetRequest(c.Request().WithContext(graph.ContextWithKey(c.Request().Context(), key)))
}

func principal(c echo.Context) graph.APIKey {
	p, _ := c.Get(principalKey).(graph.APIKey)
	return p
}

// audit says who made a change, for history events.
func audit(c echo.Context) graph.Audit {
	return graph.Audit{ActorID: "key:" + principal(c).ID, RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
}

// rateLimit allows each API key rate requests per second with bursts of
// burst; past it, 429 with Retry-After.
func rateLimit(rate float64, burst int) echo.MiddlewareFunc {
	store := middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate: xrate.Limit(rate), Burst: burst, ExpiresIn: 3 * time.Minute})
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Skipper: func(c echo.Context) bool { return principal(c).ID == "" },
		Store:   store,
		IdentifierExtractor: func(c echo.Context) (string, error) {
			return principal(c).Tenant + "/" + principal(c).ID, nil
		},
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			c.Response().Header().Set("Retry-After", "1")
			return echo.NewHTTPError(http.StatusTooManyRequests, "rate limit exceeded for this API key; retry later")
		},
	})
}
