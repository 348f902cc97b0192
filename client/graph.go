package client

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// AddRelations writes structured triples to a scope's graph without a model
// call: the entities are created, or matched by name, and the relations
// between them added (or their mentions counted). It returns what changed
// (AddResponse.Relations).
func (c *Client) AddRelations(ctx context.Context, req AddRelationsRequest, opts ...CallOption) (*AddResponse, error) {
	var out AddResponse
	if _, err := c.do(ctx, http.MethodPost, "/relations", nil, req, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Entities returns a scope's entities (at most p.Limit, default 100).
func (c *Client) Entities(ctx context.Context, p ListEntitiesParams) ([]Entity, error) {
	var out EntityList
	if _, err := c.do(ctx, http.MethodGet, "/entities", queryOf(p), nil, &out, nil); err != nil {
		return nil, err
	}
	return out.Results, nil
}

// Entity returns one entity with its current relations.
func (c *Client) Entity(ctx context.Context, id string) (*EntityDetail, error) {
	var out EntityDetail
	if _, err := c.do(ctx, http.MethodGet, idPath("/entities/", id), nil, nil, &out, nil); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteEntity deletes an entity with its relations (each keeps a DELETE
// event; the memories that mention it stay) and returns how many items
// went: the entity and its relations.
func (c *Client) DeleteEntity(ctx context.Context, id string, opts ...CallOption) (int, error) {
	var out Deleted
	if _, err := c.do(ctx, http.MethodDelete, idPath("/entities/", id), nil, nil, &out, opts); err != nil {
		return 0, err
	}
	return out.Deleted, nil
}

// Relations returns a scope's relations: the current ones, or those valid
// at p.AsOf, or all with p.IncludeInvalid; only those of one entity with
// p.EntityID; at most p.Limit (default 100).
func (c *Client) Relations(ctx context.Context, p ListRelationsParams) ([]Relation, error) {
	var out RelationList
	if _, err := c.do(ctx, http.MethodGet, "/relations", queryOf(p), nil, &out, nil); err != nil {
		return nil, err
	}
	return out.Results, nil
}

// Event reports an asynchronous add (see AddAsync): its status (PENDING,
// RUNNING, SUCCEEDED, FAILED), attempts, and, once it succeeded, its result.
func (c *Client) Event(ctx context.Context, id string) (*Event, error) {
	var out Event
	if _, err := c.do(ctx, http.MethodGet, idPath("/events/", id), nil, nil, &out, nil); err != nil {
		return nil, err
	}
	return &out, nil
}

// WaitEvent polls an asynchronous add until it ends, and returns its event.
// When the add failed (EventStatusFAILED) it returns the event and an error
// with the event's Error. ctx bounds the wait.
func (c *Client) WaitEvent(ctx context.Context, id string) (*Event, error) {
	wait := 50 * time.Millisecond
	for {
		ev, err := c.Event(ctx, id)
		if err != nil {
			return nil, err
		}
		switch ev.Status {
		case EventStatusSUCCEEDED:
			return ev, nil
		case EventStatusFAILED:
			return ev, fmt.Errorf("neomem: asynchronous add %s failed after %d attempts: %s", id, ev.Attempts, ev.Error)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("neomem: wait for event %s (%s): %w", id, ev.Status, ctx.Err())
		case <-t.C:
		}
		wait = min(wait*3/2, 2*time.Second)
	}
}
