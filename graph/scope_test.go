package graph

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFilterScopes(t *testing.T) {
	user := func(id string) Cond { return Cond{Field: FilterField{Name: "user_id"}, Op: FilterEq, Value: id} }
	agent := func(id string) Cond { return Cond{Field: FilterField{Name: "agent_id"}, Op: FilterEq, Value: id} }
	meta := Cond{Field: FilterField{Name: "topic", Metadata: true}, Op: FilterEq, Value: "x"}
	tests := []struct {
		name      string
		f         Filter
		want      []Scope
		wantExact bool
	}{
		{"no filter", nil, nil, false},
		{"one user", user("a"), []Scope{{UserID: "a"}}, true},
		{"user and metadata", And{user("a"), meta}, []Scope{{UserID: "a"}}, false},
		{"shared room", Or{user("a"), user("b")}, []Scope{{UserID: "a"}, {UserID: "b"}}, true},
		{"in list", Cond{Field: FilterField{Name: "user_id"}, Op: FilterIn, Value: []any{"a", "b", "a"}},
			[]Scope{{UserID: "a"}, {UserID: "b"}}, true},
		{"AND of OR", And{Or{user("a"), user("b")}, agent("x")}, []Scope{{UserID: "a", AgentID: "x"}, {UserID: "b", AgentID: "x"}}, true},
		{"AND of two ORs", And{Or{user("a"), user("b")}, Or{agent("x"), agent("y")}},
			[]Scope{{UserID: "a", AgentID: "x"}, {UserID: "a", AgentID: "y"}, {UserID: "b", AgentID: "x"}, {UserID: "b", AgentID: "y"}}, true},
		{"OR with a branch that confines nothing", Or{user("a"), meta}, nil, false},
		{"OR of mixed branches", Or{And{user("a"), meta}, user("b")}, []Scope{{UserID: "a"}, {UserID: "b"}}, false},
		{"NOT confines nothing", Not{user("a")}, nil, false},
		{"ne confines nothing", Cond{Field: FilterField{Name: "user_id"}, Op: FilterNe, Value: "a"}, nil, false},
		{"metadata named user_id confines nothing", Cond{Field: FilterField{Name: "user_id", Metadata: true}, Op: FilterEq, Value: "a"}, nil, false},
		{"contradiction", And{user("a"), user("b")}, []Scope{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, exact := FilterScopes(tt.f)
			if diff := cmp.Diff(tt.want, got); diff != "" || exact != tt.wantExact {
				t.Fatalf("FilterScopes(%v) = %v, %v, want %v, %v (-want +got):\n%s", tt.f, got, exact, tt.want, tt.wantExact, diff)
			}
		})
	}
}

func TestScopeSelect(t *testing.T) {
	user := func(id string) Cond { return Cond{Field: FilterField{Name: "user_id"}, Op: FilterEq, Value: id} }
	room := Or{user("a"), user("b")}
	tests := []struct {
		name string
		s    Scope
		f    Filter
		want Scope
	}{
		{"no filter", Scope{Tenant: "t", UserID: "a"}, nil, Scope{Tenant: "t", UserID: "a"}},
		{"ids from the filter", Scope{Tenant: "t"}, And{user("a"), Cond{Field: FilterField{Name: "agent_id"}, Op: FilterEq, Value: "x"}},
			Scope{Tenant: "t", UserID: "a", AgentID: "x"}},
		{"shared room", Scope{Tenant: "t"}, room, Scope{Tenant: "t", Any: &Scopes{{UserID: "a"}, {UserID: "b"}}}},
		{"request ids narrow the room", Scope{Tenant: "t", UserID: "b"}, room, Scope{Tenant: "t", UserID: "b"}},
		{"request agent applies to each", Scope{Tenant: "t", AgentID: "x"}, room,
			Scope{Tenant: "t", Any: &Scopes{{UserID: "a", AgentID: "x"}, {UserID: "b", AgentID: "x"}}}},
		{"contradiction is an empty set", Scope{Tenant: "t", UserID: "c"}, room, Scope{Tenant: "t", Any: &Scopes{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.s.Select(tt.f)); diff != "" {
				t.Fatalf("%+v.Select(%v) (-want +got):\n%s", tt.s, tt.f, diff)
			}
		})
	}
}

func TestValidateSet(t *testing.T) {
	room := Scope{Tenant: "t", Any: &Scopes{{UserID: "a"}, {UserID: "b"}}}
	if err := room.ValidateSet("op"); err != nil {
		t.Fatalf("ValidateSet(room) = %v", err)
	}
	// Every other validation refuses a set: writes cannot target one.
	for name, err := range map[string]error{"Validate": room.Validate("op"), "ValidateSelector": room.ValidateSelector("op")} {
		if !errors.Is(err, Invalid) {
			t.Errorf("%s(room) = %v, want Invalid", name, err)
		}
	}
	many := make(Scopes, MaxScopes+1)
	for i := range many {
		many[i] = Scope{UserID: string(rune('a' + i%26)), RunID: string(rune('a' + i/26))}
	}
	bad := []Scope{
		{Tenant: "t", UserID: "a", Any: &Scopes{{UserID: "a"}, {UserID: "b"}}},
		{Tenant: "t", Any: &Scopes{}},
		{Tenant: "t", Any: &Scopes{{UserID: "a"}}},
		{Tenant: "t", Any: &Scopes{{UserID: "a"}, {}}},
		{Tenant: "t", Any: &Scopes{{UserID: "a"}, {UserID: " b"}}},
		{Tenant: "", Any: &Scopes{{UserID: "a"}, {UserID: "b"}}},
		{Tenant: "t", Any: &many},
	}
	for _, s := range bad {
		if err := s.ValidateSet("op"); !errors.Is(err, Invalid) {
			t.Errorf("ValidateSet(%+v) = %v, want Invalid", s, err)
		}
	}
	if err := (Scope{Tenant: "t", UserID: "a"}).ValidateSet("op"); err != nil {
		t.Errorf("ValidateSet(plain scope) = %v", err)
	}
}
