package graph

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRelationType(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "snake", in: "works_at", want: "WORKS_AT"},
		{name: "spaces", in: "  works   at  ", want: "WORKS_AT"},
		{name: "hyphen", in: "works-at", want: "WORKS_AT"},
		{name: "dots", in: "works.at", want: "WORKS_AT"},
		{name: "ellipsis", in: "works at…", want: "WORKS_AT"},
		{name: "camel", in: "worksAt", want: "WORKS_AT"},
		{name: "acronym", in: "hasHTTPServer", want: "HAS_HTTP_SERVER"},
		{name: "already", in: "LIVES_IN", want: "LIVES_IN"},
		{name: "digits inside", in: "top10 fan", want: "TOP10_FAN"},
		{name: "accents", in: "vit à", want: "VIT_À"},
		{name: "german", in: "wohnt in", want: "WOHNT_IN"},
		{name: "japanese", in: "住んでいる", want: "住んでいる"},
		{name: "slash and colon", in: "parent/child: of", want: "PARENT_CHILD_OF"},
		{name: "injection backtick", in: "likes`) DETACH DELETE n //", wantErr: true},
		{name: "injection quote", in: "x' OR 1=1", wantErr: true},
		{name: "brace", in: "a{b}", wantErr: true},
		{name: "semicolon", in: "a;b", wantErr: true},
		{name: "newline", in: "a\nb", wantErr: true},
		{name: "zero width joiner", in: "a\u200db", wantErr: true},
		{name: "bidi override", in: "a\u202eb", wantErr: true},
		{name: "empty", in: "", wantErr: true},
		{name: "only punctuation", in: "--- ...", wantErr: true},
		{name: "leading digit", in: "24/7 support", wantErr: true},
		{name: "reserved", in: "mentions", wantErr: true},
		{name: "too long output", in: strings.Repeat("ab ", 40), wantErr: true},
		{name: "too long input", in: strings.Repeat("a", 300), wantErr: true},
		{name: "invalid utf8", in: "a\xffb", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RelationType(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("RelationType(%q) = %q, want an error", tt.in, got)
				}
				if !errors.Is(err, Invalid) {
					t.Fatalf("RelationType(%q) error %v is not Invalid", tt.in, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("RelationType(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestLabel(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "lower", in: "person", want: "Person"},
		{name: "upper", in: "ORGANIZATION", want: "Organization"},
		{name: "words", in: "software engineer", want: "SoftwareEngineer"},
		{name: "snake", in: "medical_condition", want: "MedicalCondition"},
		{name: "pascal stays", in: "SoftwareEngineer", want: "SoftwareEngineer"},
		{name: "camel", in: "softwareEngineer", want: "SoftwareEngineer"},
		{name: "one letter word folds", in: "iPhone", want: "Iphone"},
		{name: "digits", in: "covid 19", want: "Covid19"},
		{name: "accents", in: "élève", want: "Élève"},
		{name: "reserved memory", in: "memory", wantErr: true},
		{name: "reserved entity", in: "__Entity__", wantErr: true},
		{name: "injection", in: "Person:Admin`", wantErr: true},
		{name: "paren", in: "Person)", wantErr: true},
		{name: "empty", in: " ", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Label(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Label(%q) = %q, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Label(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// checkName is the property both normalisers must keep for any input.
func checkName(t *testing.T, fn func(string) (string, error), name, in string) {
	t.Helper()
	out, err := fn(in)
	if err != nil {
		if !errors.Is(err, Invalid) {
			t.Fatalf("%s(%q) error %v is not Invalid", name, in, err)
		}
		return
	}
	if !SafeName(out) {
		t.Fatalf("%s(%q) = %q, not a safe name", name, in, out)
	}
	if strings.ContainsAny(out, forbidden+" \t\r\n/-.:") {
		t.Fatalf("%s(%q) = %q contains a separator or forbidden character", name, in, out)
	}
	if n := utf8.RuneCountInString(out); n > MaxNameRunes {
		t.Fatalf("%s(%q) = %q has %d runes, more than %d", name, in, out, n, MaxNameRunes)
	}
	again, err := fn(out)
	if err != nil || again != out {
		t.Fatalf("%s(%s(%q)) = %q, %v, want %q (idempotent)", name, name, in, again, err, out)
	}
}

var nameSeeds = []string{
	"works_at", "works-at", "works at…", "worksAt", "likes`) DETACH DELETE n //",
	"住んでいる", "vit à", "HTTPServer", "aßB", "ǅemal", "İstanbul", "e\u0301t\u0301e\u0301",
	"\u0301leading mark", "a\u200db", "x' OR 1=1", "}{", "1abc", "ǈ", "ᾈ", "Σσς", "ﬁle",
	"\x00", "a\xffb", "MENTIONS", "memory", strings.Repeat("Ab", 100),
}

func FuzzRelationType(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) { checkName(t, RelationType, "RelationType", in) })
}

func FuzzLabel(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) { checkName(t, Label, "Label", in) })
}
