package graph

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds the one normaliser of names that become Cypher identifiers.
// Relationship types and entity labels come from a model or a user; Cypher
// cannot take them as parameters, so they are backtick-quoted into query text.
// Everything that is quoted into Cypher must come out of RelationType or
// Label: their output contains only Unicode letters, combining marks, decimal
// digits and '_', starts with a letter, and is never longer than MaxNameRunes,
// so it can neither break out of the quotes nor surprise Neo4j.

// Limits of the normaliser.
const (
	// MaxNameInput is the longest input accepted, in bytes.
	MaxNameInput = 256
	// MaxNameRunes is the longest output, in runes.
	MaxNameRunes = 64
)

// reservedTypes and reservedLabels are neomem's own; a model-made name that
// normalises to one of them would be confused with neomem's structure.
var (
	reservedTypes  = map[string]bool{"MENTIONS": true, "SUPERSEDES": true}
	reservedLabels = map[string]bool{"Memory": true, "Event": true, "Entity": true, "ScopeLock": true, "ApiKey": true}
)

// forbidden are characters that only appear in a name when something tries to
// write Cypher (or JSON) through it; such input is rejected, not repaired.
const forbidden = "`'\"(){}[];\\"

// RelationType normalises s to an UPPER_SNAKE_CASE relationship type:
// "works at" and "worksAt" and "works-at" all become "WORKS_AT". It returns an
// Invalid error when s is empty, too long, contains quotes, brackets, control
// or format characters, does not start with a letter, or is reserved.
func RelationType(s string) (string, error) {
	// Camel case is split only in mixed-case input: an all-capital name
	// (this function's own output) keeps its words as the underscores say.
	words, err := nameWords("relationship type", s, hasLower(s))
	if err != nil {
		return "", err
	}
	for i, w := range words {
		words[i] = strings.ToUpper(w)
	}
	out := strings.Join(words, "_")
	if reservedTypes[out] {
		return "", nameErr("relationship type", s, "is reserved by neomem")
	}
	return finishName("relationship type", s, out)
}

// Label normalises s to a PascalCase node label: "software engineer" becomes
// "SoftwareEngineer", "PERSON" becomes "Person". Errors as RelationType.
func Label(s string) (string, error) {
	words, err := nameWords("label", s, true)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, w := range mergeLetters(words) {
		r, size := utf8.DecodeRuneInString(w)
		b.WriteRune(unicode.ToUpper(r))
		b.WriteString(strings.ToLower(w[size:]))
	}
	out := b.String()
	if reservedLabels[out] {
		return "", nameErr("label", s, "is reserved by neomem")
	}
	return finishName("label", s, out)
}

// mergeLetters folds every one-rune word into the word before it (or, for
// the first word, into the one after it): in PascalCase a lone capital
// cannot be told apart from the word that follows it ("A"+"A0" reads back
// as "AA0"), so keeping it apart would make Label give a different answer
// on its own output.
func mergeLetters(words []string) []string {
	out := make([]string, 0, len(words))
	carry := ""
	for _, w := range words {
		switch {
		case utf8.RuneCountInString(w) > 1:
			out = append(out, carry+w)
			carry = ""
		case len(out) > 0:
			out[len(out)-1] += w
		default:
			carry += w
		}
	}
	if carry != "" {
		out = append(out, carry)
	}
	return out
}

func finishName(what, in, out string) (string, error) {
	if utf8.RuneCountInString(out) > MaxNameRunes {
		return "", nameErr(what, in, "is longer than 64 characters")
	}
	// The final guard: whatever the rules above did, only safe runes leave.
	if !SafeName(out) {
		return "", nameErr(what, in, "cannot be made into a safe identifier")
	}
	return out, nil
}

// SafeName reports whether s has the shape every normaliser output has:
// non-empty, starting with a letter, then letters, marks, digits and '_'.
// The Cypher adapter checks it again before quoting.
func SafeName(s string) bool {
	if s == "" || len(s) > MaxNameRunes*utf8.UTFMax {
		return false
	}
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			return false
		case i == 0 && !unicode.IsLetter(r):
			return false
		case unicode.IsLetter(r), unicode.IsDigit(r), unicode.IsMark(r), r == '_':
		default:
			return false
		}
	}
	return true
}

func nameErr(what, in, msg string) error {
	shown := in
	if len(shown) > 80 {
		shown = shown[:80] + "…"
	}
	return &Error{Kind: Invalid, Op: "normalise " + what, Msg: what + " " + strconv.Quote(shown) + " " + msg}
}

// nameWords splits s into words at separators (white space, punctuation,
// symbols) and at camelCase boundaries, and rejects what cannot be a name.
func nameWords(what, s string, camel bool) ([]string, error) {
	if len(s) > MaxNameInput {
		return nil, nameErr(what, s, "is longer than 256 bytes")
	}
	if !utf8.ValidString(s) {
		return nil, nameErr(what, s, "is not valid UTF-8")
	}
	rs := []rune(s)
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	for i, r := range rs {
		switch {
		case strings.ContainsRune(forbidden, r):
			return nil, nameErr(what, s, "contains "+strconv.Quote(string(r)))
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Co, r) || unicode.Is(unicode.Cs, r):
			return nil, nameErr(what, s, "contains a control or format character")
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if camel && len(cur) > 0 && startsWord(rs, i) {
				flush()
			}
			cur = append(cur, r)
		case unicode.IsMark(r):
			// A combining mark belongs to the letter before it; alone it
			// is noise.
			if len(cur) > 0 {
				cur = append(cur, r)
			}
		default:
			// White space, punctuation and symbols separate words.
			flush()
		}
	}
	flush()
	if len(words) == 0 {
		return nil, nameErr(what, s, "has no letters or digits")
	}
	if r, _ := utf8.DecodeRuneInString(words[0]); !unicode.IsLetter(r) {
		return nil, nameErr(what, s, "must start with a letter")
	}
	return words, nil
}

// startsWord reports whether rs[i] starts a new camelCase word: a capital
// after anything that is not a capital ("worksAt", "top10Fan"), or the last
// capital of a run followed by a small letter ("HTTPServer" → "HTTP", "Server").
func startsWord(rs []rune, i int) bool {
	r, prev := rs[i], rs[i-1]
	if !isUpper(r) {
		return false
	}
	if !isUpper(prev) {
		return true
	}
	return i+1 < len(rs) && isLower(rs[i+1])
}

// hasLower reports whether s has a small letter that has a capital.
func hasLower(s string) bool {
	for _, r := range s {
		if isLower(r) {
			return true
		}
	}
	return false
}

// isLower and isUpper count only letters that have the other case: 'ß' and
// 'ﬁ' have no single-rune capital, so they must not split words, or the
// output would split differently when normalised again.
func isLower(r rune) bool { return unicode.IsLower(r) && unicode.ToUpper(r) != r }
func isUpper(r rune) bool { return unicode.IsUpper(r) && unicode.ToLower(r) != r }
