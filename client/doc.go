// Package client is the Go client of neomem's REST API: add memories from
// conversation turns, search them, list, read, change and delete them, and
// read the entities and relations of a scope's graph.
//
// A Client is made once per server and API key and is safe for concurrent
// use:
//
//	c := client.New("http://localhost:8080", os.Getenv("NEOMEM_API_KEY"))
//	res, err := c.Add(ctx, client.AddRequest{
//		UserID:   "alice",
//		Messages: []client.Turn{{Role: client.User, Content: "I moved to Lisbon"}},
//	})
//
// Requests and answers are the wire types of the API, generated from its
// OpenAPI document (api/openapi.yaml in neomem's repository): AddRequest,
// SearchRequest, Memory, MemoryPage, and so on. Optional fields are plain
// values whose zero value is "not given" (the server's default applies), with
// one exception: AddRequest.Infer is a *bool, because its default is true.
//
// Every method takes a context first; its deadline or cancellation ends the
// call. Writes take CallOptions: IdempotencyKey makes a write safe to retry
// (the server writes at most once per key and answers a retry with the first
// answer), and IfMatch makes Update and Delete conditional on a memory's
// version (optimistic concurrency).
//
// Every answer that is not a success is an *Error carrying the server's
// problem details (status, title, detail, request id, the invalid fields with
// their paths) and its Retry-After. Test it with errors.Is against ErrInvalid,
// ErrUnauthorized, ErrForbidden, ErrNotFound, ErrConflict, ErrPrecondition,
// ErrRateLimited and ErrUnavailable, or read it with errors.As. A request
// that got no answer (a network error, a cancelled context) returns that
// error, wrapped.
//
// The package imports the standard library only.
package client
