package entities

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neomem/neomem/graph"
)

func TestNumbersDiffer(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"SR-2023-052", "SR-2023-053", true},
		{"SR-2023-052", "sr 2023 052", false},
		{"Room 12", "room 12", false},
		{"Room 12", "Room 120", true},
		{"Google", "Alphabet", false},
		{"iPhone 15", "iPhone", true},
		{"Flight 007", "flight 7", false},
	}
	for _, tt := range tests {
		if got := NumbersDiffer(tt.a, tt.b); got != tt.want {
			t.Errorf("NumbersDiffer(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestFoldSelfReferencesIntoUser(t *testing.T) {
	user := User{ID: "u-42", Name: "Maolin"}
	got, rejected := Fold(
		[]string{"I", "Maolin", "Google", "me", "google", "Seattle", "x"},
		[]string{"", "person", "ORGANIZATION", "", "company", "city", "bad`type"},
		user)
	want := []Mention{
		{Name: "Maolin", Key: "u-42", Type: "Person", IsUser: true, Names: []string{"I", "Maolin", "me"}},
		{Name: "Google", Key: "google", Type: "Organization", Names: []string{"Google", "google"}},
		{Name: "Seattle", Key: "seattle", Type: "City", Names: []string{"Seattle"}},
		{Name: "x", Key: "x", Names: []string{"x"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Fold (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"bad`type"}, rejected); diff != "" {
		t.Fatalf("rejected types (-want +got):\n%s", diff)
	}
}

func TestFoldWithoutUser(t *testing.T) {
	// An agent-only scope has no user: "I" names nobody, and is dropped
	// rather than stored as an entity called "I".
	got, _ := Fold([]string{"I", "me", "Bob"}, nil, User{})
	if len(got) != 1 || got[0].Name != "Bob" || got[0].IsUser {
		t.Fatalf("Fold without user = %+v", got)
	}
}

func TestUserKeysNeverEmpty(t *testing.T) {
	for _, id := range []string{"???", "#", "😀", "alice"} {
		keys := User{ID: id}.Keys()
		if len(keys) == 0 || keys[0] == "" {
			t.Errorf("User{ID: %q}.Keys() = %q", id, keys)
		}
	}
	got, _ := Fold([]string{"I"}, nil, User{ID: "???"})
	if len(got) != 1 || !got[0].IsUser || got[0].Key != "user:???" {
		t.Fatalf("Fold with user id ??? = %+v", got)
	}
}

func TestResolve(t *testing.T) {
	sr52 := graph.Entity{ID: "e1", Name: "SR-2023-052", Key: "sr-2023-052"}
	googleInc := graph.Entity{ID: "e2", Name: "Google Inc", Key: "google inc"}
	userEnt := graph.Entity{ID: "e3", Name: "Maolin", Key: "u-42", IsUser: true}
	tests := []struct {
		name   string
		m      Mention
		cands  []graph.ScoredEntity
		wantID string
	}{
		{"exact wins", Mention{Name: "maolin", IsUser: true}, []graph.ScoredEntity{{Entity: googleInc, Score: 0.99}, {Entity: userEnt, Score: 1, Exact: true}}, "e3"},
		{"similar name merges", Mention{Name: "Google"}, []graph.ScoredEntity{{Entity: googleInc, Score: 0.93}}, "e2"},
		{"below threshold is new", Mention{Name: "Googol"}, []graph.ScoredEntity{{Entity: googleInc, Score: 0.7}}, ""},
		{"numbers differ is new", Mention{Name: "SR-2023-053"}, []graph.ScoredEntity{{Entity: sr52, Score: 0.99}}, ""},
		{"user never merges by vector with a non-user", Mention{Name: "Maolin", IsUser: true}, []graph.ScoredEntity{{Entity: googleInc, Score: 0.95}}, ""},
		{"no candidates", Mention{Name: "Austin"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Resolve(tt.m, tt.cands, 0.9)
			if tt.wantID == "" {
				if ok {
					t.Fatalf("Resolve(%q) = %s, want a new entity", tt.m.Name, got.ID)
				}
				return
			}
			if !ok || got.ID != tt.wantID {
				t.Fatalf("Resolve(%q) = %s, %v; want %s", tt.m.Name, got.ID, ok, tt.wantID)
			}
		})
	}
}
