package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Conversation is one LoCoMo sample: two speakers' sessions, the data set's
// observations (facts extracted per session, with their source turns) and
// the questions about it.
type Conversation struct {
	ID           string
	Speakers     []string
	Sessions     []Session
	Observations map[int][]Observation // by session number
	Questions    []Question
}

// Session is one dated conversation of a sample.
type Session struct {
	N     int
	Date  string
	Turns []Turn
}

// sessionDate is the layout of LoCoMo's session dates ("1:56 pm on 8 May,
// 2023").
const sessionDate = "3:04 pm on 2 January, 2006"

// Time is when the session took place, read as UTC (the data set names no
// zone); zero when its date is not in LoCoMo's form.
func (s Session) Time() time.Time {
	t, err := time.Parse(sessionDate, strings.TrimSpace(s.Date))
	if err != nil {
		return time.Time{}
	}
	return t
}

// Turn is one message of a session.
type Turn struct {
	Speaker string
	DiaID   string
	Text    string
	Caption string // the description of an image the speaker shared
}

// Observation is one pre-extracted fact and the turns it came from.
type Observation struct {
	Speaker string
	Text    string
	DiaIDs  []string
}

// Question is one question with the turns that answer it.
type Question struct {
	Text     string
	Answer   string
	Evidence []string
	Category int
}

// categoryNames are LoCoMo's question categories (5, adversarial, is left
// out of the scores).
var categoryNames = map[int]string{1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}

// diaPattern finds turn ids ("D3:12") inside the data set's evidence
// strings, which are sometimes joined ("D8:6; D9:17") or misspelt.
var diaPattern = regexp.MustCompile(`D(\d+):(\d+)`)

// parseDiaIDs returns the turn ids in s, normalised, in order, without
// repeats.
func parseDiaIDs(s string) []string {
	var out []string
	for _, m := range diaPattern.FindAllStringSubmatch(s, -1) {
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		id := fmt.Sprintf("D%d:%d", a, b)
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// sessionOf is the session prefix of a turn id ("D3:12" → "D3").
func sessionOf(dia string) string {
	if i := strings.IndexByte(dia, ':'); i > 0 {
		return dia[:i]
	}
	return dia
}

// LoadLoCoMo reads a LoCoMo-format file: a JSON array of samples with
// sample_id, conversation (speaker_a, speaker_b, session_<n> and
// session_<n>_date_time), observation (session_<n>_observation: speaker →
// [[text, dia_id(s)], …]) and qa (question, answer, evidence, category).
func LoadLoCoMo(path string) ([]Conversation, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var samples []struct {
		SampleID     string                     `json:"sample_id"`
		Conversation map[string]json.RawMessage `json:"conversation"`
		Observation  map[string]json.RawMessage `json:"observation"`
		QA           []struct {
			Question string          `json:"question"`
			Answer   json.RawMessage `json:"answer"`
			Evidence []string        `json:"evidence"`
			Category int             `json:"category"`
		} `json:"qa"`
	}
	if err := json.Unmarshal(raw, &samples); err != nil {
		return nil, fmt.Errorf("%s: not a LoCoMo file (a JSON array of samples): %w", path, err)
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("%s: no samples", path)
	}
	var out []Conversation
	for i, s := range samples {
		c := Conversation{ID: s.SampleID, Observations: map[int][]Observation{}}
		if c.ID == "" {
			c.ID = fmt.Sprintf("sample-%d", i+1)
		}
		str := func(key string) string {
			var v string
			_ = json.Unmarshal(s.Conversation[key], &v)
			return v
		}
		for _, k := range []string{"speaker_a", "speaker_b"} {
			if v := str(k); v != "" {
				c.Speakers = append(c.Speakers, v)
			}
		}
		for key, msg := range s.Conversation {
			n, ok := sessionNumber(key, "session_", "")
			if !ok {
				continue
			}
			var turns []struct {
				Speaker string `json:"speaker"`
				DiaID   string `json:"dia_id"`
				Text    string `json:"text"`
				Caption string `json:"blip_caption"`
			}
			if err := json.Unmarshal(msg, &turns); err != nil {
				return nil, fmt.Errorf("%s: sample %s: %s: %w", path, c.ID, key, err)
			}
			sess := Session{N: n, Date: str(fmt.Sprintf("session_%d_date_time", n))}
			for _, t := range turns {
				ids := parseDiaIDs(t.DiaID)
				if len(ids) != 1 {
					return nil, fmt.Errorf("%s: sample %s: %s: turn id %q is not like D1:2", path, c.ID, key, t.DiaID)
				}
				sess.Turns = append(sess.Turns, Turn{Speaker: t.Speaker, DiaID: ids[0], Text: t.Text, Caption: t.Caption})
			}
			c.Sessions = append(c.Sessions, sess)
		}
		sort.Slice(c.Sessions, func(a, b int) bool { return c.Sessions[a].N < c.Sessions[b].N })
		for key, msg := range s.Observation {
			n, ok := sessionNumber(key, "session_", "_observation")
			if !ok {
				continue
			}
			var bySpeaker map[string][][]json.RawMessage
			if err := json.Unmarshal(msg, &bySpeaker); err != nil {
				return nil, fmt.Errorf("%s: sample %s: %s: %w", path, c.ID, key, err)
			}
			for _, sp := range speakerOrder(c.Speakers, bySpeaker) {
				for _, o := range bySpeaker[sp] {
					if len(o) < 2 {
						continue
					}
					var text string
					if err := json.Unmarshal(o[0], &text); err != nil || strings.TrimSpace(text) == "" {
						continue
					}
					c.Observations[n] = append(c.Observations[n], Observation{Speaker: sp, Text: text, DiaIDs: parseDiaIDs(string(o[1]))})
				}
			}
		}
		for _, q := range s.QA {
			qq := Question{Text: q.Question, Category: q.Category, Answer: answerText(q.Answer)}
			for _, e := range q.Evidence {
				for _, id := range parseDiaIDs(e) {
					if !slices.Contains(qq.Evidence, id) {
						qq.Evidence = append(qq.Evidence, id)
					}
				}
			}
			c.Questions = append(c.Questions, qq)
		}
		out = append(out, c)
	}
	return out, nil
}

// sessionNumber reads n from keys like session_<n> (suffix "") or
// session_<n>_observation.
func sessionNumber(key, prefix, suffix string) (int, bool) {
	if !strings.HasPrefix(key, prefix) || !strings.HasSuffix(key, suffix) {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(key, prefix), suffix))
	return n, err == nil && n > 0
}

// speakerOrder lists the observation map's speakers: the sample's speakers
// first, in their order, then any others sorted.
func speakerOrder(speakers []string, m map[string][][]json.RawMessage) []string {
	var out, rest []string
	for _, s := range speakers {
		if _, ok := m[s]; ok {
			out = append(out, s)
		}
	}
	for s := range m {
		if !slices.Contains(out, s) {
			rest = append(rest, s)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

func answerText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}

// Scored reports whether the question counts in the scores: categories 1–4
// with evidence (category 5 is adversarial: its answer is not in the
// conversation).
func (q Question) Scored() bool {
	return q.Category >= 1 && q.Category <= 4 && len(q.Evidence) > 0
}

// TurnText is how a turn is stored in the turns mode: the speaker's name, the
// text and, when the speaker shared an image, its caption.
func TurnText(t Turn) string {
	s := t.Speaker + ": " + t.Text
	if t.Caption != "" {
		s += " [shares an image: " + t.Caption + "]"
	}
	return s
}
