package graph

import (
	"testing"
	"time"
)

func TestQueryPeriod(t *testing.T) {
	day := func(y int, m time.Month, d int) Period {
		from := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		return Period{From: from.Add(-24 * time.Hour), To: from.Add(48 * time.Hour)}
	}
	month := func(y int, m time.Month) Period {
		from := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		return Period{From: from.Add(-24 * time.Hour), To: from.AddDate(0, 1, 0).Add(24 * time.Hour)}
	}
	year := func(y int) Period {
		from := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		return Period{From: from.Add(-24 * time.Hour), To: from.AddDate(1, 0, 0).Add(24 * time.Hour)}
	}
	for _, c := range []struct {
		query string
		want  Period
	}{
		{"What did Maria do on 7 July, 2023?", day(2023, time.July, 7)},
		{"what happened on 25 may 2022", day(2022, time.May, 25)},
		{"on the 1st of February, 2023?", day(2023, time.February, 1)},
		{"What did Joanna watch on February 7, 2022?", day(2022, time.February, 7)},
		{"Sept 30th 2021 meeting", day(2021, time.September, 30)},
		{"the trip of Dec. 24, 2020", day(2020, time.December, 24)},
		{"notes from 2023-05-08", day(2023, time.May, 8)},
		{"logged at 2023-05-08T10:00Z", day(2023, time.May, 8)},
		{"May 8th of 2023", day(2023, time.May, 8)},
		{"What did Mel paint in July 2023?", month(2023, time.July)},
		{"in December of 2023", month(2023, time.December)},
		{"where did I travel in 2022", year(2022)},
		{"during the year 1999", year(1999)},
		// The most precise date wins over a month or year elsewhere.
		{"in 2023, on March 3, 2023", day(2023, time.March, 3)},
		// A day that does not exist leaves its month.
		{"on 31 June 2023", month(2023, time.June)},
		// 2024 has a 29 February.
		{"Feb 29, 2024", day(2024, time.February, 29)},
	} {
		got, ok := QueryPeriod(c.query, time.Date(2026, 12, 9, 15, 0, 0, 0, time.UTC))
		if !ok || !got.From.Equal(c.want.From) || !got.To.Equal(c.want.To) {
			t.Errorf("QueryPeriod(%q) = %v–%v, %v; want %v–%v", c.query, got.From, got.To, ok, c.want.From, c.want.To)
		}
	}
	for _, q := range []string{
		"What does Andrew do for fun?",
		"May I ask what Caroline likes?",
		"He scored 2023 points",
		"the march on Washington",
		"May 5",               // no year
		"Feb 29, 2023",        // not a leap year
		"version 2023-13",     // no month 13
		"call 555-2023-12345", // digits inside a longer number
		"plans for the weekend",
		"the last weekend we spent together",
		"days ago we talked",
		"the 2011-12 season",         // a season, not December 2011
		"summarise it in 1500 words", // no year
		"my last week of school",     // not a time
		"the last year of college",
	} {
		if p, ok := QueryPeriod(q, time.Now()); ok {
			t.Errorf("QueryPeriod(%q) = %v–%v; want no period", q, p.From, p.To)
		}
	}
}

func TestQueryPeriodRelative(t *testing.T) {
	span := func(from, to time.Time) Period {
		return Period{From: from.Add(-24 * time.Hour), To: to.Add(24 * time.Hour)}
	}
	d := func(m time.Month, day int) time.Time { return time.Date(2026, m, day, 0, 0, 0, 0, time.UTC) }
	wed := time.Date(2026, 12, 9, 15, 0, 0, 0, time.UTC)
	sun := time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		query string
		now   time.Time
		want  Period
	}{
		{"what did I say today?", wed, span(d(12, 9), d(12, 10))},
		{"what did I eat yesterday", wed, span(d(12, 8), d(12, 9))},
		{"the book I mentioned 3 days ago", wed, span(d(12, 6), d(12, 7))},
		{"two days ago", wed, span(d(12, 7), d(12, 8))},
		{"what happened this week", wed, span(d(12, 7), d(12, 10))},
		{"this week", sun, span(d(11, 30), d(12, 7))}, // Sunday ends the week that began on Monday
		{"what did we plan last week", wed, span(d(11, 30), d(12, 7))},
		{"the previous week", sun, span(d(11, 23), d(11, 30))},
		{"in the past week", wed, span(d(12, 3), d(12, 10))},
		{"what did I do in the last week", sun, span(d(11, 30), d(12, 7))}, // the 7 days up to today, not the calendar week before
		{"this month", wed, span(d(12, 1), d(12, 10))},
		{"last month", wed, span(d(11, 1), d(12, 1))},
		{"last month", time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC), span(time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), d(1, 1))},
		{"last week", time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC), // a Friday: the week of 22 December 2025
			span(time.Date(2025, 12, 22, 0, 0, 0, 0, time.UTC), time.Date(2025, 12, 29, 0, 0, 0, 0, time.UTC))},
		{"the past month", wed, span(d(11, 9), d(12, 10))},
		// 31 March: the past month starts on the last day of February.
		{"over the past month", time.Date(2026, 3, 31, 9, 0, 0, 0, time.UTC), span(time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))},
		{"in the past year", time.Date(2028, 2, 29, 9, 0, 0, 0, time.UTC), span(time.Date(2027, 2, 28, 0, 0, 0, 0, time.UTC), time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC))},
		{"this year", wed, span(d(1, 1), d(12, 10))},
		{"last year", wed, span(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), d(1, 1))},
		// A date wins over a relative time.
		{"yesterday, or on 8 May 2023?", wed, span(time.Date(2023, 5, 8, 0, 0, 0, 0, time.UTC), time.Date(2023, 5, 9, 0, 0, 0, 0, time.UTC))},
		// now counts in UTC.
		{"today", time.Date(2026, 12, 9, 23, 30, 0, 0, time.FixedZone("UTC-5", -5*3600)), span(d(12, 10), d(12, 11))},
	} {
		got, ok := QueryPeriod(c.query, c.now)
		if !ok || !got.From.Equal(c.want.From) || !got.To.Equal(c.want.To) {
			t.Errorf("QueryPeriod(%q, %v) = %v–%v, %v; want %v–%v", c.query, c.now, got.From, got.To, ok, c.want.From, c.want.To)
		}
	}
}
