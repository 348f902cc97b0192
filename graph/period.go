package graph

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Period is a span of time a query names, [From, To) in UTC.
type Period struct {
	From, To time.Time
}

// periodSlack widens a named day, month or year on both sides: the user
// names it in their own time zone, which the server does not know, and
// memories keep their time in UTC (every zone is within 14 hours of it).
const periodSlack = 24 * time.Hour

// months maps the English month names and their usual abbreviations to
// their numbers.
var months = map[string]time.Month{
	"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3,
	"april": 4, "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7,
	"august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
	"october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}

// The date forms QueryPeriod reads. A month name needs a year beside it (a
// day alone is too weak: "may 5" could be anything), and a bare year needs
// a preposition before it ("in 2023"), so that numbers in a question ("2023
// points") are not taken for dates.
const (
	monthRE = `(january|february|march|april|may|june|july|august|september|october|november|december|` +
		`jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?`
	dayRE  = `(\d{1,2})(?:st|nd|rd|th)?`
	yearRE = `(\d{4})`
)

var (
	// 8 May 2023, 8th of May, 2023
	periodDMY = regexp.MustCompile(`\b` + dayRE + `\s+(?:of\s+)?` + monthRE + `,?\s+` + yearRE + `\b`)
	// May 8, 2023; May 8th of 2023
	periodMDY = regexp.MustCompile(`\b` + monthRE + `\s+` + dayRE + `,?\s+(?:of\s+)?` + yearRE + `\b`)
	// May 2023, May of 2023
	periodMY = regexp.MustCompile(`\b` + monthRE + `,?\s+(?:of\s+)?` + yearRE + `\b`)
	// 2023-05-08, 2023-05-08T10:00Z (lower case here); not 2023-05, which
	// is as often a season ("the 2011-12 season") as a month
	periodISO = regexp.MustCompile(`\b(\d{4})-(\d{2})-(\d{2})(?:t|\b)`)
	// in 2023, during 2023 (1900 to 2199: "in 1500 words" is no year)
	periodYear = regexp.MustCompile(`\b(?:in|during|throughout)\s+(?:the\s+year\s+)?(19\d\d|2[01]\d\d)\b`)
	// today, yesterday, 3 days ago
	periodToday   = regexp.MustCompile(`\b(today|yesterday)\b`)
	periodDaysAgo = regexp.MustCompile(`\b(\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten)\s+days?\s+ago\b`)
	// this week, last month, in the last year, the past week; "of" after it
	// ("my last week of school") names no time
	periodThisLast = regexp.MustCompile(`\b((?:in|over|during|within)\s+the\s+)?(this|last|past|previous)\s+(week|month|year)\b(\s+of\b)?`)
)

// smallNumbers are the number words "… days ago" reads.
var smallNumbers = map[string]int{"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}

// QueryPeriod returns the time a query names, when it names one, in
// English: a day ("on 8 May, 2023", "May 8th 2023", "2023-05-08"), a month
// ("in July 2023") or a year ("in 2022"); else a time relative to now
// ("today", "yesterday", "3 days ago"; "this week", "last week" and "the
// previous week" are calendar weeks from Monday, "the past week" and "in
// the last week" the 7 days up to today; the same for month and year). It
// is widened by a day on each side: the user's time zone is not known. A
// date wins over a relative time, and a more precise date over a less
// precise one. ok is false when the query names no time.
func QueryPeriod(query string, now time.Time) (p Period, ok bool) {
	q := strings.ToLower(query)
	day := func(y, m, d int) (Period, bool) {
		from := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
		if from.Day() != d || from.Month() != time.Month(m) { // 31 June
			return Period{}, false
		}
		return widen(from, from.AddDate(0, 0, 1)), true
	}
	month := func(y, m int) (Period, bool) {
		from := time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
		return widen(from, from.AddDate(0, 1, 0)), true
	}
	if m := periodDMY.FindStringSubmatch(q); m != nil {
		if p, ok := day(atoi(m[3]), int(months[m[2]]), atoi(m[1])); ok {
			return p, true
		}
	}
	if m := periodMDY.FindStringSubmatch(q); m != nil {
		if p, ok := day(atoi(m[3]), int(months[m[1]]), atoi(m[2])); ok {
			return p, true
		}
	}
	if m := periodISO.FindStringSubmatch(q); m != nil {
		if mo := atoi(m[2]); mo >= 1 && mo <= 12 {
			if p, ok := day(atoi(m[1]), mo, atoi(m[3])); ok {
				return p, true
			}
		}
	}
	if m := periodMY.FindStringSubmatch(q); m != nil {
		return month(atoi(m[2]), int(months[m[1]]))
	}
	if m := periodYear.FindStringSubmatch(q); m != nil {
		from := time.Date(atoi(m[1]), 1, 1, 0, 0, 0, 0, time.UTC)
		return widen(from, from.AddDate(1, 0, 0)), true
	}
	return relativePeriod(q, now.UTC())
}

// relativePeriod reads the relative times of QueryPeriod in q (lower case).
func relativePeriod(q string, now time.Time) (Period, bool) {
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if m := periodToday.FindStringSubmatch(q); m != nil {
		if m[1] == "yesterday" {
			today = today.AddDate(0, 0, -1)
		}
		return widen(today, today.AddDate(0, 0, 1)), true
	}
	if m := periodDaysAgo.FindStringSubmatch(q); m != nil {
		n, word := smallNumbers[m[1]]
		if !word {
			n = atoi(m[1])
		}
		day := today.AddDate(0, 0, -n)
		return widen(day, day.AddDate(0, 0, 1)), true
	}
	if m := periodThisLast.FindStringSubmatch(q); m != nil && m[4] == "" {
		which, unit := m[2], m[3]
		if which == "past" || (m[1] != "" && which == "last") {
			// A rolling span: the 7 days, or the month or year, up to today.
			var from time.Time
			switch unit {
			case "week":
				from = today.AddDate(0, 0, -6)
			case "month":
				from = monthsBefore(today, 1)
			default:
				from = monthsBefore(today, 12)
			}
			return widen(from, today.AddDate(0, 0, 1)), true
		}
		// A calendar week (from Monday), month or year: this one up to
		// today, or the one before.
		var from, before time.Time
		switch unit {
		case "week":
			from = today.AddDate(0, 0, -(int(today.Weekday())+6)%7)
			before = from.AddDate(0, 0, -7)
		case "month":
			from = time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
			before = from.AddDate(0, -1, 0)
		default:
			from = time.Date(today.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
			before = from.AddDate(-1, 0, 0)
		}
		if which == "this" {
			return widen(from, today.AddDate(0, 0, 1)), true
		}
		return widen(before, from), true
	}
	return Period{}, false
}

// monthsBefore is the same day n months before t, or the last day of that
// month when it is shorter (31 March → 28 or 29 February).
func monthsBefore(t time.Time, n int) time.Time {
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -n, 0)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(t.Day(), last)-1)
}

func widen(from, to time.Time) Period {
	return Period{From: from.Add(-periodSlack), To: to.Add(periodSlack)}
}

// atoi reads the digits the patterns matched (at most 4 of them).
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
