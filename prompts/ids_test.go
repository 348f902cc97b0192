package prompts

import "testing"

func TestShortIDs(t *testing.T) {
	if FactID(0) != "F1" || MemoryID(4) != "M5" || RelationID(11) != "R12" {
		t.Fatalf("ids: %s %s %s", FactID(0), MemoryID(4), RelationID(11))
	}
	tests := []struct {
		id   string
		n    int
		want int
		ok   bool
	}{
		{"F1", 3, 0, true}, {"F3", 3, 2, true}, {"F4", 3, 0, false}, {"F0", 3, 0, false},
		{"M1", 3, 0, false}, {"F", 3, 0, false}, {"F01", 3, 0, false}, {"F-1", 3, 0, false}, {"Fx", 3, 0, false},
	}
	for _, tt := range tests {
		if got, ok := FactIndex(tt.id, tt.n); got != tt.want || ok != tt.ok {
			t.Errorf("FactIndex(%q, %d) = %d, %v; want %d, %v", tt.id, tt.n, got, ok, tt.want, tt.ok)
		}
	}
	k := KnownIDs(2, 1, 0)
	if len(k.Facts) != 2 || k.Facts[1] != "F2" || len(k.Memories) != 1 || len(k.Relations) != 0 {
		t.Fatalf("KnownIDs = %+v", k)
	}
}
