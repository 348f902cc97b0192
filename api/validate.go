package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/labstack/echo/v4"

	"github.com/neomem/neomem/graph"
)

// Shape and ranges are checked in one place: every request against
// openapi.yaml (types, required fields, minimum and maximum, lengths, enums),
// before any handler runs. What a value means (a filter, a scope, a message
// with content) is the engine's to check.

// document is the OpenAPI document the middleware and checkSchema use.
var document = sync.OnceValues(func() (*openapi3.T, error) {
	spec, err := GetSwagger()
	if err != nil {
		return nil, err
	}
	// Match requests by path whatever host they were sent to.
	spec.Servers = nil
	return spec, nil
})

// checkSchema checks a wire value against the named schema of the document:
// Mem0's routes take free-form bodies, parse them laxly into the native
// wire type, and are then held to the same shape and ranges as the native
// route (one set of rules, in the document).
func checkSchema(name string, v any) []graph.FieldError {
	spec, err := document()
	if err != nil {
		panic(err) // the document is embedded and checked by tests
	}
	ref := spec.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		panic("api: no schema " + name + " in openapi.yaml")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return []graph.FieldError{{Path: "body", Message: err.Error()}}
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return []graph.FieldError{{Path: "body", Message: err.Error()}}
	}
	err = ref.Value.VisitJSON(generic, openapi3.MultiErrors())
	if err == nil {
		return nil
	}
	errs := []error{err}
	var me openapi3.MultiError
	if errors.As(err, &me) {
		errs = me
	}
	var out []graph.FieldError
	for _, e := range errs {
		out = append(out, schemaField("body", e))
	}
	return out
}

// schemaField names a schema error by its field path ("messages[0].role").
func schemaField(path string, err error) graph.FieldError {
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return graph.FieldError{Path: path, Message: err.Error()}
	}
	if ptr := se.JSONPointer(); len(ptr) > 0 {
		path = fieldPath(ptr)
	}
	msg := se.Reason
	if msg == "" {
		msg = "is invalid"
	}
	return graph.FieldError{Path: path, Message: msg}
}

// validateRequests returns the middleware that checks requests against the
// OpenAPI document; a request that breaks it is a 400 listing every bad
// field by its path.
func validateRequests() (echo.MiddlewareFunc, error) {
	spec, err := document()
	if err != nil {
		return nil, err
	}
	router, err := legacy.NewRouter(spec)
	if err != nil {
		return nil, fmt.Errorf("openapi router: %w", err)
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			route, params, err := router.FindRoute(req)
			if err != nil {
				// Not a route of the document: echo answers 404 or 405.
				return next(c)
			}
			opts := &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
				// The request stays as sent: defaults are the handlers' to apply.
				SkipSettingDefaults: true}
			// Bodies that are not JSON get their 415 (or NDJSON its own
			// checks) from the handler.
			if mt, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType)); mt != echo.MIMEApplicationJSON {
				opts.ExcludeRequestBody = true
			}
			err = openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
				Request: req, PathParams: params, Route: route, Options: opts})
			if err == nil {
				return next(c)
			}
			if tooLarge(err) {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the body is too large")
			}
			return graph.InvalidFields("request", requestFields(err, route)...)
		}
	}, nil
}

// requestFields turns the validator's errors into field errors with paths
// such as "messages[0].name" or "limit".
func requestFields(err error, route *routers.Route) []graph.FieldError {
	var errs []error
	var me openapi3.MultiError
	if errors.As(err, &me) {
		errs = me
	} else {
		errs = []error{err}
	}
	var out []graph.FieldError
	for _, e := range errs {
		var re *openapi3filter.RequestError
		if !errors.As(e, &re) {
			out = append(out, graph.FieldError{Path: "request", Message: e.Error()})
			continue
		}
		// A body's errors come as a list of schema errors, one per field.
		inner := []error{re.Err}
		var ime openapi3.MultiError
		if errors.As(re.Err, &ime) {
			inner = ime
		}
		for _, ie := range inner {
			path, msg := "body", re.Reason
			if re.Parameter != nil {
				path = re.Parameter.Name
			}
			var se *openapi3.SchemaError
			if errors.As(ie, &se) {
				msg = se.Reason
				if ptr := se.JSONPointer(); len(ptr) > 0 {
					if re.Parameter != nil {
						path = re.Parameter.Name + "." + fieldPath(ptr)
					} else {
						path = fieldPath(ptr)
					}
				}
			} else if ie != nil && msg == "" {
				msg = ie.Error()
			}
			if msg == "" {
				msg = "is invalid"
			}
			out = append(out, graph.FieldError{Path: path, Message: msg})
		}
	}
	if len(out) == 0 {
		out = append(out, graph.FieldError{Path: "request", Message: "does not match " + route.Method + " " + route.Path + " in openapi.json"})
	}
	return out
}

// fieldPath renders a JSON pointer as a field path: messages[0].name.
func fieldPath(ptr []string) string {
	var b strings.Builder
	for _, p := range ptr {
		if _, err := strconv.Atoi(p); err == nil {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteString(".")
		}
		b.WriteString(p)
	}
	return b.String()
}
