package main

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neomem/neomem/graph"
)

var (
	chartKs     = []float64{5, 10, 20, 30}
	chartGroups = []string{"single-hop", "multi-hop", "temporal", "open-domain"}
)

// readChart decodes the PNG at path and checks its size.
func readChart(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	if got, want := img.Bounds(), image.Rect(0, 0, chartWidth, chartHeight); got != want {
		t.Fatalf("%s is %v, want %v", path, got, want)
	}
	return img
}

// pixelsOf returns the points inside r whose colour is exactly col.
func pixelsOf(img image.Image, r image.Rectangle, col color.RGBA) []image.Point {
	var out []image.Point
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) == col {
				out = append(out, image.Pt(x, y))
			}
		}
	}
	return out
}

// belowLegend is the part of the chart under the legend, where only data
// carries series colours.
func belowLegend(l chartLayout) image.Rectangle {
	return image.Rect(0, l.legend.Max.Y, chartWidth, chartHeight)
}

func TestChartLine(t *testing.T) {
	high := Series{Name: "neomem", Values: []float64{0.62, 0.71, 0.8, 0.84}}
	low := Series{Name: "baseline", Values: []float64{0.2, 0.35, 0.41, 0.44}}
	series := []Series{high, low}
	path := filepath.Join(t.TempDir(), "recall.png")
	if err := LineChart(path, "Recall@k", "k", "recall", chartKs, series, 0); err != nil {
		t.Fatalf("LineChart: %v", err)
	}
	img := readChart(t, path)
	_, l, err := renderLine("Recall@k", "k", "recall", chartKs, series, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !l.legend.Empty() && l.legend.Max.Y > l.plot.Min.Y-int(math.Ceil(markerRadius))-2 {
		t.Errorf("legend %v reaches into plot %v", l.legend, l.plot)
	}

	// Legend swatches: both colours above the plot.
	for i := range series {
		if n := len(pixelsOf(img, l.legend, palette[i])); n == 0 {
			t.Errorf("legend has no pixel of series %d's colour %v", i, palette[i])
		}
	}
	if n := len(pixelsOf(img, img.Bounds(), palette[2])); n != 0 {
		t.Errorf("%d pixels of unused colour %v", n, palette[2])
	}

	// Data: each series' colour present, and the higher series drawn higher
	// everywhere (smaller rows), at its top and at its bottom.
	area := belowLegend(l)
	var top, bottom [2]int
	for i := range series {
		px := pixelsOf(img, area, palette[i])
		if len(px) < 100 {
			t.Fatalf("series %d (%v) has %d pixels in the plot, want a drawn line", i, palette[i], len(px))
		}
		top[i], bottom[i] = math.MaxInt, math.MinInt
		for _, p := range px {
			top[i] = min(top[i], p.Y)
			bottom[i] = max(bottom[i], p.Y)
		}
	}
	if top[0] >= top[1] || bottom[0] >= bottom[1] {
		t.Errorf("higher series spans rows %d..%d, lower %d..%d; want the higher series above", top[0], bottom[0], top[1], bottom[1])
	}
	// The topmost pixel of the higher series is its marker at 0.84.
	want := float64(l.plot.Max.Y) - 0.84*float64(l.plot.Dy())
	if math.Abs(float64(top[0])-want) > markerRadius*1.3+2 {
		t.Errorf("topmost pixel of 0.84 at row %d, want about %.0f", top[0], want)
	}
}

func TestChartLineYMax(t *testing.T) {
	// With yMax 2, a value of 1 sits halfway up the plot.
	series := []Series{{Name: "a", Values: []float64{1, 1}}}
	path := filepath.Join(t.TempDir(), "half.png")
	if err := LineChart(path, "", "", "", []float64{1, 2}, series, 2); err != nil {
		t.Fatalf("LineChart: %v", err)
	}
	img := readChart(t, path)
	_, l, err := renderLine("", "", "", []float64{1, 2}, series, 2)
	if err != nil {
		t.Fatal(err)
	}
	px := pixelsOf(img, belowLegend(l), palette[0])
	if len(px) == 0 {
		t.Fatal("no series pixels")
	}
	var sum float64
	for _, p := range px {
		sum += float64(p.Y) + 0.5
	}
	got := sum / float64(len(px))
	want := float64(l.plot.Max.Y+l.plot.Min.Y) / 2
	if math.Abs(got-want) > 1.5 {
		t.Errorf("line of value 1 with yMax 2 centred at row %.1f, want %.1f", got, want)
	}
}

func TestChartLineOneX(t *testing.T) {
	// A single x is drawn as markers in the middle of the plot.
	series := []Series{{Name: "a", Values: []float64{0.5}}, {Name: "b", Values: []float64{0.25}}}
	path := filepath.Join(t.TempDir(), "one.png")
	if err := LineChart(path, "One k", "k", "recall", []float64{10}, series, 0); err != nil {
		t.Fatalf("LineChart: %v", err)
	}
	img := readChart(t, path)
	_, l, err := renderLine("One k", "k", "recall", []float64{10}, series, 1)
	if err != nil {
		t.Fatal(err)
	}
	mid := (l.plot.Min.X + l.plot.Max.X) / 2
	for i := range series {
		px := pixelsOf(img, belowLegend(l), palette[i])
		if len(px) == 0 {
			t.Fatalf("series %d: no marker drawn", i)
		}
		for _, p := range px {
			if abs := max(p.X-mid, mid-p.X); abs > 2*markerRadius {
				t.Errorf("series %d: pixel at column %d, want near the middle %d", i, p.X, mid)
				break
			}
		}
	}
}

// barHeights returns, left to right, the pixel height of each bar of colour
// col: runs of columns holding that colour, measured in their middle column.
func barHeights(img image.Image, area image.Rectangle, col color.RGBA) []int {
	count := func(x int) int {
		n := 0
		for y := area.Min.Y; y < area.Max.Y; y++ {
			if color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) == col {
				n++
			}
		}
		return n
	}
	var out []int
	for x := area.Min.X; x < area.Max.X; x++ {
		if count(x) == 0 {
			continue
		}
		start := x
		for x < area.Max.X && count(x) > 0 {
			x++
		}
		out = append(out, count((start+x-1)/2))
	}
	return out
}

func TestChartBar(t *testing.T) {
	series := []Series{
		{Name: "neomem", Values: []float64{0.8, 0.6, 0.3, 0.9}},
		{Name: "baseline", Values: []float64{0.4, 0.45, 0.15, 0.3}},
		{Name: "mem0", Values: []float64{0.2, 0.5, 0.1, 0.6}},
	}
	path := filepath.Join(t.TempDir(), "categories.png")
	if err := BarChart(path, "Accuracy by category", "accuracy", chartGroups, series, 0); err != nil {
		t.Fatalf("BarChart: %v", err)
	}
	img := readChart(t, path)
	_, l, err := renderBar("Accuracy by category", "accuracy", chartGroups, series, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range series {
		if n := len(pixelsOf(img, l.legend, palette[i])); n == 0 {
			t.Errorf("legend has no pixel of series %d's colour %v", i, palette[i])
		}
	}

	area := belowLegend(l)
	heights := make([][]int, len(series))
	for i, s := range series {
		heights[i] = barHeights(img, area, palette[i])
		if len(heights[i]) != len(chartGroups) {
			t.Fatalf("series %d: found %d bars, want %d", i, len(heights[i]), len(chartGroups))
		}
		for g, h := range heights[i] {
			want := s.Values[g] * float64(l.plot.Dy())
			if math.Abs(float64(h)-want) > 1 {
				t.Errorf("series %d group %d: bar of %v is %d px high, want %.1f", i, g, s.Values[g], h, want)
			}
		}
	}
	// Heights proportional to values, independent of the plot's size.
	for _, pair := range []struct{ si, gi, sj, gj int }{
		{0, 0, 1, 0}, // 0.8 vs 0.4
		{0, 3, 2, 3}, // 0.9 vs 0.6
		{1, 2, 2, 2}, // 0.15 vs 0.1
	} {
		gotRatio := float64(heights[pair.si][pair.gi]) / float64(heights[pair.sj][pair.gj])
		wantRatio := series[pair.si].Values[pair.gi] / series[pair.sj].Values[pair.gj]
		if math.Abs(gotRatio/wantRatio-1) > 0.03 {
			t.Errorf("bar ratio series %d/%d in group %d vs series %d group %d = %.3f, want %.3f", pair.si, pair.gi, pair.gi, pair.sj, pair.gj, gotRatio, wantRatio)
		}
	}
}

func TestChartBarManyGroups(t *testing.T) {
	// Narrow bars get upright value labels; all bars still drawn.
	groups := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	var series []Series
	for i := range len(palette) {
		vals := make([]float64, len(groups))
		for g := range vals {
			vals[g] = float64((i+g)%10+1) / 10
		}
		series = append(series, Series{Name: "system " + string(rune('A'+i)), Values: vals})
	}
	path := filepath.Join(t.TempDir(), "many.png")
	if err := BarChart(path, "Many", "score", groups, series, 0); err != nil {
		t.Fatalf("BarChart: %v", err)
	}
	img := readChart(t, path)
	_, l, err := renderBar("Many", "score", groups, series, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range series {
		if got := len(barHeights(img, belowLegend(l), palette[i])); got != len(groups) {
			t.Errorf("series %d: %d bars, want %d", i, got, len(groups))
		}
	}
}

func TestChartDeterministic(t *testing.T) {
	series := []Series{
		{Name: "neomem", Values: []float64{0.5, 0.6, 0.7, 0.75}},
		{Name: "baseline", Values: []float64{0.3, 0.4, 0.45, 0.5}},
	}
	dir := t.TempDir()
	write := map[string]func(path string) error{
		"line": func(path string) error {
			return LineChart(path, "Recall@k", "k", "recall", chartKs, series, 0)
		},
		"bar": func(path string) error {
			return BarChart(path, "By category", "accuracy", chartGroups, series, 0)
		},
	}
	for name, w := range write {
		t.Run(name, func(t *testing.T) {
			a, b := filepath.Join(dir, name+"-a.png"), filepath.Join(dir, name+"-b.png")
			if err := w(a); err != nil {
				t.Fatal(err)
			}
			if err := w(b); err != nil {
				t.Fatal(err)
			}
			// Rewriting over an existing file also works.
			if err := w(b); err != nil {
				t.Fatal(err)
			}
			ab, err := os.ReadFile(a)
			if err != nil {
				t.Fatal(err)
			}
			bb, err := os.ReadFile(b)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ab, bb) {
				t.Errorf("two writes of the same %s chart differ (%d and %d bytes)", name, len(ab), len(bb))
			}
		})
	}
}

func TestChartCreatesDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "report", "charts")
	path := filepath.Join(dir, "recall.png")
	series := []Series{{Name: "a", Values: []float64{0.1, 0.2, 0.3, 0.4}}}
	if err := LineChart(path, "t", "k", "recall", chartKs, series, 0); err != nil {
		t.Fatalf("LineChart into a missing directory: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "recall.png" {
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		t.Errorf("directory holds %v, want only recall.png (no temporary file left)", got)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o644 {
		t.Errorf("chart mode = %v, want 0644", perm)
	}
}

func TestChartInvalidInput(t *testing.T) {
	good := func() []Series {
		return []Series{
			{Name: "a", Values: []float64{0.1, 0.2, 0.3, 0.4}},
			{Name: "b", Values: []float64{0.5, 0.6, 0.7, 0.8}},
		}
	}
	with := func(f func(s []Series) []Series) []Series { return f(good()) }
	tooMany := make([]Series, len(palette)+1)
	for i := range tooMany {
		tooMany[i] = Series{Name: string(rune('a' + i)), Values: []float64{0.1, 0.2, 0.3, 0.4}}
	}

	tests := []struct {
		name     string
		path     string
		xs       []float64 // line chart x positions; bar groups are four labels
		series   []Series
		yMax     float64
		wantPath string // the field the error must name
		wantText string // and a word of its message
	}{
		{"empty path", "", chartKs, good(), 0, "path", "empty"},
		{"no series", "x.png", chartKs, nil, 0, "series", "empty"},
		{"too many series", "x.png", chartKs, tooMany, 0, "series", "at most 8"},
		{"short series", "x.png", chartKs, with(func(s []Series) []Series { s[1].Values = s[1].Values[:3]; return s }), 0, "series[1].values", "has 3 values, want 4"},
		{"long series", "x.png", chartKs, with(func(s []Series) []Series { s[0].Values = append(s[0].Values, 0.5); return s }), 0, "series[0].values", "has 5 values, want 4"},
		{"NaN value", "x.png", chartKs, with(func(s []Series) []Series { s[1].Values[2] = math.NaN(); return s }), 0, "series[1].values[2]", "NaN"},
		{"infinite value", "x.png", chartKs, with(func(s []Series) []Series { s[0].Values[0] = math.Inf(1); return s }), 0, "series[0].values[0]", "+Inf"},
		{"negative value", "x.png", chartKs, with(func(s []Series) []Series { s[0].Values[1] = -0.1; return s }), 0, "series[0].values[1]", "below 0"},
		{"value above 1", "x.png", chartKs, with(func(s []Series) []Series { s[0].Values[3] = 1.2; return s }), 0, "series[0].values[3]", "above the y axis top 1"},
		{"value above yMax", "x.png", chartKs, with(func(s []Series) []Series { s[0].Values[3] = 60; return s }), 50, "series[0].values[3]", "above the y axis top 50"},
		{"unnamed series", "x.png", chartKs, with(func(s []Series) []Series { s[1].Name = ""; return s }), 0, "series[1].name", "empty"},
		{"NaN yMax", "x.png", chartKs, good(), math.NaN(), "yMax", "NaN"},
	}
	for _, tt := range tests {
		for _, kind := range []string{"line", "bar"} {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				dir := t.TempDir()
				path := tt.path
				if path != "" {
					path = filepath.Join(dir, path)
				}
				var err error
				if kind == "line" {
					err = LineChart(path, "t", "k", "y", tt.xs, tt.series, tt.yMax)
				} else {
					err = BarChart(path, "t", "y", chartGroups, tt.series, tt.yMax)
				}
				checkInvalid(t, err, tt.wantPath, tt.wantText)
				if entries, _ := os.ReadDir(dir); len(entries) != 0 {
					t.Errorf("an invalid chart left %d files", len(entries))
				}
			})
		}
	}

	lineOnly := []struct {
		name     string
		xs       []float64
		wantPath string
		wantText string
	}{
		{"no xs", nil, "xs", "empty"},
		{"NaN x", []float64{5, math.NaN(), 20, 30}, "xs[1]", "NaN"},
		{"xs not increasing", []float64{5, 20, 10, 30}, "xs[2]", "not greater than xs[1]"},
		{"repeated x", []float64{5, 10, 10, 30}, "xs[2]", "not greater"},
	}
	for _, tt := range lineOnly {
		t.Run("line/"+tt.name, func(t *testing.T) {
			series := []Series{{Name: "a", Values: make([]float64, len(tt.xs))}}
			err := LineChart(filepath.Join(t.TempDir(), "x.png"), "t", "k", "y", tt.xs, series, 0)
			checkInvalid(t, err, tt.wantPath, tt.wantText)
		})
	}
	t.Run("bar/no groups", func(t *testing.T) {
		err := BarChart(filepath.Join(t.TempDir(), "x.png"), "t", "y", nil, []Series{{Name: "a"}}, 0)
		checkInvalid(t, err, "groups", "empty")
	})
}

// checkInvalid checks that err is graph.Invalid and names field path with a
// message containing text.
func checkInvalid(t *testing.T, err error, path, text string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one naming %s", path)
	}
	if !errors.Is(err, graph.Invalid) {
		t.Errorf("error %v is %v, want graph.Invalid", err, graph.KindOf(err))
	}
	for _, f := range graph.FieldsOf(err) {
		if f.Path == path && strings.Contains(f.Message, text) {
			return
		}
	}
	t.Errorf("error %q names no field %s with %q", err, path, text)
}
