package local

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Tokenizer is a BERT WordPiece tokenizer read from a Hugging Face
// tokenizer.json (BertNormalizer, BertPreTokenizer, WordPiece, [CLS] … [SEP]),
// as all-MiniLM-L6-v2 uses. It reproduces the reference `tokenizers` output
// for that configuration (checked by the reference test).
type Tokenizer struct {
	vocab       map[string]int64
	unk         int64
	cls, sep    int64
	prefix      string
	maxWordLen  int
	lowercase   bool
	stripAccent bool
	chinese     bool
	cleanText   bool
	// MaxTokens bounds a sequence, [CLS] and [SEP] included.
	MaxTokens int
}

type tokenizerJSON struct {
	Normalizer struct {
		Type               string `json:"type"`
		CleanText          bool   `json:"clean_text"`
		HandleChineseChars bool   `json:"handle_chinese_chars"`
		StripAccents       *bool  `json:"strip_accents"`
		Lowercase          bool   `json:"lowercase"`
	} `json:"normalizer"`
	PreTokenizer struct {
		Type string `json:"type"`
	} `json:"pre_tokenizer"`
	Model struct {
		Type                    string           `json:"type"`
		UnkToken                string           `json:"unk_token"`
		ContinuingSubwordPrefix string           `json:"continuing_subword_prefix"`
		MaxInputCharsPerWord    int              `json:"max_input_chars_per_word"`
		Vocab                   map[string]int64 `json:"vocab"`
	} `json:"model"`
}

// LoadTokenizer reads a tokenizer.json. Sequences are truncated to
// maxTokens (sentence-transformers uses 256 for all-MiniLM-L6-v2).
func LoadTokenizer(path string, maxTokens int) (*Tokenizer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var tj tokenizerJSON
	if err := json.Unmarshal(b, &tj); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if tj.Normalizer.Type != "BertNormalizer" || tj.PreTokenizer.Type != "BertPreTokenizer" || tj.Model.Type != "WordPiece" {
		return nil, fmt.Errorf("%s: not a BERT WordPiece tokenizer (%s/%s/%s)", path, tj.Normalizer.Type, tj.PreTokenizer.Type, tj.Model.Type)
	}
	t := &Tokenizer{
		vocab:      tj.Model.Vocab,
		prefix:     tj.Model.ContinuingSubwordPrefix,
		maxWordLen: tj.Model.MaxInputCharsPerWord,
		lowercase:  tj.Normalizer.Lowercase,
		chinese:    tj.Normalizer.HandleChineseChars,
		cleanText:  tj.Normalizer.CleanText,
		MaxTokens:  maxTokens,
	}
	// strip_accents null means: follow lowercase (as BERT's uncased models do).
	t.stripAccent = t.lowercase
	if tj.Normalizer.StripAccents != nil {
		t.stripAccent = *tj.Normalizer.StripAccents
	}
	var ok bool
	for name, dst := range map[string]*int64{tj.Model.UnkToken: &t.unk, "[CLS]": &t.cls, "[SEP]": &t.sep} {
		if *dst, ok = t.vocab[name]; !ok {
			return nil, fmt.Errorf("%s: vocabulary has no %s", path, name)
		}
	}
	if t.maxWordLen == 0 {
		t.maxWordLen = 100
	}
	if t.MaxTokens < 3 {
		return nil, fmt.Errorf("max tokens %d is too small", maxTokens)
	}
	return t, nil
}

// Encode returns the token ids of text with [CLS] and [SEP], truncated to
// MaxTokens.
func (t *Tokenizer) Encode(text string) []int64 {
	ids := []int64{t.cls}
	limit := t.MaxTokens - 1
	for _, word := range t.words(t.normalize(text)) {
		for _, id := range t.wordPiece(word) {
			if len(ids) == limit {
				return append(ids, t.sep)
			}
			ids = append(ids, id)
		}
	}
	return append(ids, t.sep)
}

func (t *Tokenizer) normalize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if t.cleanText {
			if r == 0 || r == 0xFFFD || isControl(r) {
				continue
			}
			if isWhitespace(r) {
				b.WriteByte(' ')
				continue
			}
		}
		if t.chinese && isChinese(r) {
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
			continue
		}
		b.WriteRune(r)
	}
	out := b.String()
	if t.stripAccent {
		var sb strings.Builder
		for _, r := range norm.NFD.String(out) {
			if !unicode.Is(unicode.Mn, r) {
				sb.WriteRune(r)
			}
		}
		out = sb.String()
	}
	if t.lowercase {
		out = strings.ToLower(out)
	}
	return out
}

// words splits at white space and makes each punctuation character a word.
func (t *Tokenizer) words(s string) []string {
	var words []string
	start := -1
	for i, r := range s {
		switch {
		case isWhitespace(r):
			if start >= 0 {
				words = append(words, s[start:i])
				start = -1
			}
		case isPunctuation(r):
			if start >= 0 {
				words = append(words, s[start:i])
				start = -1
			}
			words = append(words, string(r))
		default:
			if start < 0 {
				start = i
			}
		}
	}
	if start >= 0 {
		words = append(words, s[start:])
	}
	return words
}

// wordPiece splits a word greedily into the longest vocabulary pieces; a word
// that cannot be split entirely becomes [UNK].
func (t *Tokenizer) wordPiece(word string) []int64 {
	rs := []rune(word)
	if len(rs) > t.maxWordLen {
		return []int64{t.unk}
	}
	var ids []int64
	for start := 0; start < len(rs); {
		end := len(rs)
		found := int64(-1)
		for ; end > start; end-- {
			piece := string(rs[start:end])
			if start > 0 {
				piece = t.prefix + piece
			}
			if id, ok := t.vocab[piece]; ok {
				found = id
				break
			}
		}
		if found < 0 {
			return []int64{t.unk}
		}
		ids = append(ids, found)
		start = end
	}
	return ids
}

// isControl matches Hugging Face's BERT normaliser: every "Other" category
// character (control, format, private use, surrogate, unassigned) except tab,
// newline and carriage return.
func isControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return unicode.Is(unicode.C, r) || !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}

func isWhitespace(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || unicode.Is(unicode.White_Space, r)
}

func isPunctuation(r rune) bool {
	if r < 128 {
		return r >= 33 && r <= 47 || r >= 58 && r <= 64 || r >= 91 && r <= 96 || r >= 123 && r <= 126
	}
	return unicode.IsPunct(r)
}

func isChinese(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF || r >= 0x20000 && r <= 0x2A6DF ||
		r >= 0x2A700 && r <= 0x2B73F || r >= 0x2B740 && r <= 0x2B81F || r >= 0x2B820 && r <= 0x2CEAF ||
		r >= 0xF900 && r <= 0xFAFF || r >= 0x2F800 && r <= 0x2FA1F
}
