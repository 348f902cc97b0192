package api

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/neomem/neomem/graph"
)

// addOutcome is what an add answers: its result, or (async) the id of the
// job that will produce it. Recorded with an idempotency key as the result
// itself or the job id (a JSON string).
type addOutcome struct {
	res     graph.AddResult
	eventID string
}

// UnmarshalJSON reads a recorded outcome back.
func (o *addOutcome) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &o.eventID)
	}
	return json.Unmarshal(b, &o.res)
}

const queuedMessage = "Memory processing has been queued for background execution"

// renderAdd answers an add on neomem's route: 200 with the result, or 202
// with the event to poll.
func renderAdd(c echo.Context) func(addOutcome) error {
	return func(o addOutcome) error {
		if o.eventID != "" {
			c.Response().Header().Set(echo.HeaderLocation, "/events/"+o.eventID)
			return c.JSON(http.StatusAccepted, EventAccepted{EventId: o.eventID, Status: "PENDING", Message: queuedMessage})
		}
		return c.JSON(http.StatusOK, addResponse(o.res))
	}
}

// renderMem0Add answers an add on Mem0's route, as Mem0's platform does: an
// asynchronous add is a result entry with the event id.
func renderMem0Add(c echo.Context) func(addOutcome) error {
	return func(o addOutcome) error {
		if o.eventID != "" {
			return c.JSON(http.StatusOK, map[string]any{"results": []map[string]any{
				{"message": queuedMessage, "status": "PENDING", "event_id": o.eventID}}})
		}
		return c.JSON(http.StatusOK, addResponse(o.res))
	}
}

// GetEvent reports an asynchronous add.
func (s *server) GetEvent(c echo.Context, id ID) error {
	j, err := s.opt.Store.GetJob(c.Request().Context(), principal(c).Tenant, id)
	if err != nil {
		return err
	}
	out := Event{Id: j.ID, EventType: "ADD", Status: EventStatus(j.Status), Attempts: j.Attempts, Error: optional(j.Error),
		UserId: optional(j.Scope.UserID), AgentId: optional(j.Scope.AgentID), RunId: optional(j.Scope.RunID),
		CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, StartedAt: j.StartedAt, CompletedAt: j.CompletedAt}
	if j.Result != nil {
		r := addResponse(*j.Result)
		out.Result, out.Results = &r, &r.Results
	}
	msgs := make([]EventMessage, 0, len(j.Request.Messages))
	for _, m := range j.Request.Messages {
		msgs = append(msgs, EventMessage{Role: m.Role, Name: optional(m.Name), Content: m.Content, Images: optional(len(m.Images))})
	}
	out.Messages = &msgs
	return c.JSON(http.StatusOK, out)
}

// Mem0GetEvent is Mem0's platform event route.
func (s *server) Mem0GetEvent(c echo.Context, id ID) error { return s.GetEvent(c, id) }
