package main

// The report's charts are drawn here with the standard image packages and
// golang.org/x/image's font rasteriser, so the harness needs no plotting
// library and no external program. Text uses the Go fonts (goregular and
// gobold, BSD-licensed, embedded in golang.org/x/image): unlike the fixed
// 7×13 bitmap face they scale, so the title, axis labels and tick labels can
// each get a readable size, and the y-axis label is drawn rotated.

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/neomem/neomem/graph"
)

// Series is one named line or bar group member.
type Series struct {
	Name   string
	Values []float64 // one per x (line chart) or per group (bar chart)
}

// Chart size in pixels: wide enough for a report page at full width.
const (
	chartWidth  = 900
	chartHeight = 520
)

// palette is the Okabe–Ito set, which stays distinguishable under the common
// forms of colour blindness. Series i always gets palette[i], so a system
// passed at the same index has the same colour in every chart. Yellow and
// black come last: yellow is faint on white and black is closest to the text.
var palette = [...]color.RGBA{
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
	{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	{0xF0, 0xE4, 0x42, 0xFF}, // yellow
	{0x00, 0x00, 0x00, 0xFF}, // black
}

// Colours of everything that is not data. The ink is a dark grey rather than
// black so that no pixel of text or axis can match a series colour.
var (
	chartPaper = color.RGBA{0xFF, 0xFF, 0xFF, 0xFF}
	chartInk   = color.RGBA{0x33, 0x33, 0x33, 0xFF}
	chartRule  = color.RGBA{0xE2, 0xE2, 0xE2, 0xFF}
)

// Spacing in pixels.
const (
	chartMargin  = 12 // around the whole chart
	chartGap     = 6  // between a label and what it labels
	tickLen      = 5
	legendGap    = 22 // between legend entries
	swatchGap    = 6  // between a legend swatch and its name
	lineSwatch   = 26 // width of a line chart's legend swatch
	barSwatch    = 12 // side of a bar chart's legend swatch
	markerRadius = 4.5
	lineHalf     = 1.25 // half the width of a data line
	plotPadRight = 24   // room for the last x tick label
)

// LineChart writes a PNG line chart: x positions xs (e.g. k = 5,10,20,30), one
// line per series with a marker at each point, y from 0 to 1 unless yMax>0
// says otherwise, axes with ticks and labels, a title, and a legend.
//
// xs must be finite and strictly increasing; every series needs a name and one
// finite value in [0, y max] per x. At most len(palette) series fit, since
// colours are never reused. Input errors are graph.Invalid with one field per
// problem. The file is replaced atomically and its directory created.
func LineChart(path, title, xLabel, yLabel string, xs []float64, series []Series, yMax float64) error {
	const op = "line chart"
	var c chartChecker
	c.path(path)
	top := c.yMax(yMax)
	if len(xs) == 0 {
		c.add("xs", "is empty")
	}
	for i, x := range xs {
		switch {
		case math.IsNaN(x) || math.IsInf(x, 0):
			c.add(fmt.Sprintf("xs[%d]", i), "is %v", x)
		case i > 0 && !(x > xs[i-1]):
			c.add(fmt.Sprintf("xs[%d]", i), "%v is not greater than xs[%d] = %v; xs must increase", x, i-1, xs[i-1])
		}
	}
	c.series(series, len(xs), "x", top)
	if err := c.err(op); err != nil {
		return err
	}
	img, _, err := renderLine(title, xLabel, yLabel, xs, series, top)
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, path, err)
	}
	if err := writePNG(path, img); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// BarChart writes a PNG grouped bar chart: one group per label in groups
// (e.g. categories "single-hop", "temporal", …), one bar per series within
// each group, the value printed above each bar (2 decimals), y from 0 to 1
// unless yMax>0, title, legend.
//
// Every series needs a name and one finite value in [0, y max] per group. At
// most len(palette) series fit. Input errors are graph.Invalid with one field
// per problem. The file is replaced atomically and its directory created.
func BarChart(path, title, yLabel string, groups []string, series []Series, yMax float64) error {
	const op = "bar chart"
	var c chartChecker
	c.path(path)
	top := c.yMax(yMax)
	if len(groups) == 0 {
		c.add("groups", "is empty")
	}
	c.series(series, len(groups), "group", top)
	if err := c.err(op); err != nil {
		return err
	}
	img, _, err := renderBar(title, yLabel, groups, series, top)
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, path, err)
	}
	if err := writePNG(path, img); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// chartChecker collects every input problem, so one error names them all.
type chartChecker struct {
	fields []graph.FieldError
}

func (c *chartChecker) add(path, format string, args ...any) {
	c.fields = append(c.fields, graph.FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (c *chartChecker) err(op string) error {
	if len(c.fields) == 0 {
		return nil
	}
	return graph.InvalidFields(op, c.fields...)
}

func (c *chartChecker) path(p string) {
	if p == "" {
		c.add("path", "is empty")
	}
}

// yMax returns the top of the y axis: 1 unless yMax is positive. NaN and
// infinity are errors rather than silently falling back to 1.
func (c *chartChecker) yMax(yMax float64) float64 {
	switch {
	case math.IsNaN(yMax) || math.IsInf(yMax, 0):
		c.add("yMax", "is %v", yMax)
		return 1
	case yMax > 0:
		return yMax
	default:
		return 1
	}
}

// series checks that each series has a name and n values in [0, top], one
// per unit (an x or a group).
func (c *chartChecker) series(series []Series, n int, unit string, top float64) {
	if len(series) == 0 {
		c.add("series", "is empty")
		return
	}
	if len(series) > len(palette) {
		c.add("series", "has %d series, at most %d fit (one colour each)", len(series), len(palette))
	}
	for i, s := range series {
		if s.Name == "" {
			c.add(fmt.Sprintf("series[%d].name", i), "is empty")
		}
		if len(s.Values) != n {
			c.add(fmt.Sprintf("series[%d].values", i), "series %q has %d values, want %d (one per %s)",
				s.Name, len(s.Values), n, unit)
		}
		for j, v := range s.Values {
			p := fmt.Sprintf("series[%d].values[%d]", i, j)
			switch {
			case math.IsNaN(v) || math.IsInf(v, 0):
				c.add(p, "series %q: value is %v", s.Name, v)
			case v < 0:
				c.add(p, "series %q: value %v is below 0", s.Name, v)
			case v > top:
				c.add(p, "series %q: value %v is above the y axis top %v (pass a larger yMax)", s.Name, v, top)
			}
		}
	}
}

// writePNG encodes img to a temporary file beside path and renames it over
// path, so a reader never sees a half-written chart.
func writePNG(path string, img image.Image) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}

// chartLayout is where a chart's parts ended up.
type chartLayout struct {
	legend image.Rectangle // the legend entries
	// plot is the data area: row plot.Max.Y is y = 0 (the x axis), row
	// plot.Min.Y is the top of the y axis.
	plot image.Rectangle
}

// renderLine draws a line chart from validated input; top is the y axis top.
func renderLine(title, xLabel, yLabel string, xs []float64, series []Series, top float64) (
	*image.RGBA, chartLayout, error,
) {
	fc, err := newFaces()
	if err != nil {
		return nil, chartLayout{}, err
	}
	defer fc.close()
	c := newCanvas(fc, chartSpec{
		title: title, xLabel: xLabel, yLabel: yLabel,
		names: seriesNames(series), lineSwatch: true, top: top,
		headroom: int(math.Ceil(markerRadius)) + 2,
	})

	// Inset the x range so markers at the ends clear the y axis and the
	// right edge.
	inset := math.Max(12, 0.04*float64(c.plot.Dx()))
	span := xs[len(xs)-1] - xs[0]
	xpos := func(x float64) float64 {
		if span == 0 {
			return float64(c.plot.Min.X) + float64(c.plot.Dx())/2
		}
		return float64(c.plot.Min.X) + inset + (x-xs[0])/span*(float64(c.plot.Dx())-2*inset)
	}

	// X ticks at the data's x positions; a label that would touch the one
	// before it is left out (the tick stays).
	lastRight := math.MinInt
	for _, x := range xs {
		px := int(math.Round(xpos(x)))
		label := strconv.FormatFloat(x, 'g', -1, 64)
		if px-textWidth(fc.tick, label)/2 <= lastRight+chartGap {
			label = ""
		}
		if r := c.xTick(px, label); r > 0 {
			lastRight = r
		}
	}

	for i, s := range series {
		col := palette[i]
		for j := 1; j < len(xs); j++ {
			thickSegment(c.img, xpos(xs[j-1]), c.yf(s.Values[j-1]), xpos(xs[j]), c.yf(s.Values[j]), lineHalf, col)
		}
	}
	// Markers after all lines, so a later series' line never hides a point.
	for i, s := range series {
		for j, v := range s.Values {
			marker(c.img, i, xpos(xs[j]), c.yf(v), markerRadius, palette[i])
		}
	}
	return c.img, c.placement(), nil
}

// renderBar draws a grouped bar chart from validated input; top is the y
// axis top.
func renderBar(title, yLabel string, groups []string, series []Series, top float64) (
	*image.RGBA, chartLayout, error,
) {
	fc, err := newFaces()
	if err != nil {
		return nil, chartLayout{}, err
	}
	defer fc.close()

	// The bar width is known before the vertical layout, and decides whether
	// the value labels fit horizontally or must stand upright; the headroom
	// above the plot must hold the label of a full-height bar either way.
	ticks := yTicks(top)
	left, right := horizontalEdges(fc, ticks, yLabel)
	groupW := float64(right-left) / float64(len(groups))
	barW := 0.8 * groupW / float64(len(series))
	widest := 0
	for _, s := range series {
		for _, v := range s.Values {
			widest = max(widest, textWidth(fc.value, valueLabel(v)))
		}
	}
	upright := float64(widest) > barW
	headroom := textHeight(fc.value) + 2
	if upright {
		headroom = widest + chartGap
	}

	c := newCanvas(fc, chartSpec{
		title: title, yLabel: yLabel,
		names: seriesNames(series), top: top,
		headroom: headroom,
	})

	for g, label := range groups {
		x0 := float64(c.plot.Min.X) + float64(g)*groupW
		c.xTick(int(math.Round(x0+groupW/2)), fitText(fc.tick, label, int(groupW)-chartGap))

		for i, s := range series {
			bx0 := int(math.Round(x0 + 0.1*groupW + float64(i)*barW))
			bx1 := int(math.Round(x0 + 0.1*groupW + float64(i+1)*barW))
			if barW >= 8 {
				bx1-- // a white hairline between neighbouring bars
			}
			v := s.Values[g]
			by := c.y(v)
			fillRect(c.img, image.Rect(bx0, by, bx1, c.plot.Max.Y), palette[i])

			label := valueLabel(v)
			w := textWidth(fc.value, label)
			mid := (bx0 + bx1) / 2
			if upright {
				c.textUp(fc.value, label, mid, by-3, chartInk)
			} else {
				c.text(fc.value, label, mid-w/2, by-3-descent(fc.value), chartInk)
			}
		}
	}
	return c.img, c.placement(), nil
}

// valueLabel is the text above a bar.
func valueLabel(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func seriesNames(series []Series) []string {
	out := make([]string, len(series))
	for i, s := range series {
		out[i] = s.Name
	}
	return out
}

// chartFaces are the chart's text sizes. A face is not safe for concurrent use,
// so each chart makes its own.
type chartFaces struct {
	title, label, tick, value font.Face
}

// goFonts parses the embedded fonts once for the whole program.
var goFonts = sync.OnceValues(func() ([2]*opentype.Font, error) {
	regular, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return [2]*opentype.Font{}, fmt.Errorf("parse Go Regular: %w", err)
	}
	bold, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return [2]*opentype.Font{}, fmt.Errorf("parse Go Bold: %w", err)
	}
	return [2]*opentype.Font{regular, bold}, nil
})

func newFaces() (*chartFaces, error) {
	fonts, err := goFonts()
	if err != nil {
		return nil, err
	}
	face := func(f *opentype.Font, size float64) (font.Face, error) {
		return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	}
	var fc chartFaces
	for _, s := range []struct {
		dst  *font.Face
		f    *opentype.Font
		size float64
	}{
		{&fc.title, fonts[1], 18},
		{&fc.label, fonts[0], 14},
		{&fc.tick, fonts[0], 13},
		{&fc.value, fonts[0], 12},
	} {
		if *s.dst, err = face(s.f, s.size); err != nil {
			fc.close()
			return nil, fmt.Errorf("font face: %w", err)
		}
	}
	return &fc, nil
}

func (fc *chartFaces) close() {
	for _, f := range []font.Face{fc.title, fc.label, fc.tick, fc.value} {
		if f != nil {
			f.Close()
		}
	}
}

// chartSpec is what the common frame of both charts needs to know.
type chartSpec struct {
	title, xLabel, yLabel string
	names                 []string
	lineSwatch            bool    // legend swatches are line segments with markers, not squares
	top                   float64 // the y axis top
	headroom              int     // rows kept free above the plot for what is drawn over the data
}

// chartCanvas is a chart being drawn: the image, its faces and where the plot is.
type chartCanvas struct {
	img    *image.RGBA
	fc     *chartFaces
	top    float64
	plot   image.Rectangle
	legend image.Rectangle
}

func (c *chartCanvas) placement() chartLayout { return chartLayout{legend: c.legend, plot: c.plot} }

// y returns the pixel row of value v.
func (c *chartCanvas) y(v float64) int { return int(math.Round(c.yf(v))) }

// yf returns the vertical pixel coordinate of value v, unrounded.
func (c *chartCanvas) yf(v float64) float64 {
	return float64(c.plot.Max.Y) - v/c.top*float64(c.plot.Dy())
}

// yTick is a y axis tick: its value and label.
type yTick struct {
	v     float64
	label string
}

// yTicks returns ticks from 0 up to top at a round step giving at most six
// intervals.
func yTicks(top float64) []yTick {
	raw := top / 5
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * pow
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*pow >= raw*(1-1e-9) {
			step = m * pow
			break
		}
	}
	decimals := 0
	for decimals < 6 {
		scaled := step * math.Pow(10, float64(decimals))
		if math.Abs(scaled-math.Round(scaled)) < 1e-9*scaled {
			break
		}
		decimals++
	}
	var out []yTick
	for i := 0; ; i++ {
		v := float64(i) * step
		if v > top*(1+1e-9) {
			break
		}
		out = append(out, yTick{v: v, label: strconv.FormatFloat(v, 'f', decimals, 64)})
	}
	return out
}

// horizontalEdges returns the plot's left and right pixel columns: the left
// one leaves room for the y axis label and the widest tick label.
func horizontalEdges(fc *chartFaces, ticks []yTick, yLabel string) (left, right int) {
	left = chartMargin
	if yLabel != "" {
		left += textHeight(fc.label) + chartGap
	}
	widest := 0
	for _, t := range ticks {
		widest = max(widest, textWidth(fc.tick, t.label))
	}
	left += widest + chartGap + tickLen + 1
	return left, chartWidth - plotPadRight
}

// newCanvas lays out and draws everything but the data and the x tick
// labels: background, title, legend, grid, axes, y ticks and axis labels.
func newCanvas(fc *chartFaces, s chartSpec) *chartCanvas {
	img := image.NewRGBA(image.Rect(0, 0, chartWidth, chartHeight))
	fillRect(img, img.Bounds(), chartPaper)
	c := &chartCanvas{img: img, fc: fc, top: s.top}

	y := chartMargin
	if s.title != "" {
		title := fitText(fc.title, s.title, chartWidth-2*chartMargin)
		c.text(fc.title, title, (chartWidth-textWidth(fc.title, title))/2, y+ascent(fc.title), chartInk)
		y += textHeight(fc.title) + chartGap
	}

	// Legend under the title, centred, wrapped into rows: outside the plot,
	// so it never covers data.
	c.legend = c.drawLegend(s, y)
	y = c.legend.Max.Y + chartGap

	ticks := yTicks(s.top)
	left, right := horizontalEdges(fc, ticks, s.yLabel)
	bottom := chartHeight - chartMargin
	if s.xLabel != "" {
		xl := fitText(fc.label, s.xLabel, right-left)
		c.text(fc.label, xl, left+(right-left-textWidth(fc.label, xl))/2, bottom-descent(fc.label), chartInk)
		bottom -= textHeight(fc.label) + chartGap/2
	}
	bottom -= textHeight(fc.tick) + chartGap/2 + tickLen + 1
	c.plot = image.Rect(left, y+s.headroom, right, bottom)

	for _, t := range ticks {
		row := c.y(t.v)
		if t.v > 0 {
			fillRect(img, image.Rect(c.plot.Min.X, row, c.plot.Max.X, row+1), chartRule)
		}
		fillRect(img, image.Rect(c.plot.Min.X-1-tickLen, row, c.plot.Min.X-1, row+1), chartInk)
		w := textWidth(fc.tick, t.label)
		baseline := row + (ascent(fc.tick)-descent(fc.tick))/2
		c.text(fc.tick, t.label, c.plot.Min.X-1-tickLen-chartGap-w, baseline, chartInk)
	}
	// Axes: the y axis in the column left of the plot, the x axis in the
	// row of y = 0.
	fillRect(img, image.Rect(c.plot.Min.X-1, c.plot.Min.Y, c.plot.Min.X, c.plot.Max.Y+1), chartInk)
	fillRect(img, image.Rect(c.plot.Min.X-1, c.plot.Max.Y, c.plot.Max.X, c.plot.Max.Y+1), chartInk)

	if s.yLabel != "" {
		yl := fitText(fc.label, s.yLabel, c.plot.Dy())
		labelBottom := c.plot.Min.Y + (c.plot.Dy()+textWidth(fc.label, yl))/2
		c.textUp(fc.label, yl, chartMargin+textHeight(fc.label)/2, labelBottom, chartInk)
	}
	return c
}

// drawLegend draws one entry per series, in rows centred under y, and
// returns the rectangle they cover.
func (c *chartCanvas) drawLegend(s chartSpec, y int) image.Rectangle {
	fc := c.fc
	swatchW := barSwatch
	if s.lineSwatch {
		swatchW = lineSwatch
	}
	maxW := chartWidth - 2*chartMargin
	type entry struct {
		name string
		w    int
	}
	var rows [][]entry
	var rowW []int
	for _, n := range s.names {
		n = fitText(fc.label, n, maxW/2)
		e := entry{name: n, w: swatchW + swatchGap + textWidth(fc.label, n)}
		last := len(rows) - 1
		if last < 0 || rowW[last]+legendGap+e.w > maxW {
			rows = append(rows, nil)
			rowW = append(rowW, -legendGap)
			last++
		}
		rows[last] = append(rows[last], e)
		rowW[last] += legendGap + e.w
	}
	rowH := textHeight(fc.label) + 2
	area := image.Rect(chartWidth/2, y, chartWidth/2, y)
	i := 0
	for r, row := range rows {
		x := (chartWidth - rowW[r]) / 2
		mid := y + r*rowH + rowH/2
		area = area.Union(image.Rect(x, y+r*rowH, x+rowW[r], y+(r+1)*rowH))
		for _, e := range row {
			col := palette[i]
			if s.lineSwatch {
				thickSegment(c.img, float64(x), float64(mid)+0.5, float64(x+swatchW), float64(mid)+0.5, lineHalf, col)
				marker(c.img, i, float64(x)+float64(swatchW)/2, float64(mid)+0.5, markerRadius, col)
			} else {
				fillRect(c.img, image.Rect(x, mid-barSwatch/2, x+barSwatch, mid-barSwatch/2+barSwatch), col)
			}
			c.text(fc.label, e.name, x+swatchW+swatchGap, mid+(ascent(fc.label)-descent(fc.label))/2, chartInk)
			x += e.w + legendGap
			i++
		}
	}
	return area
}

// xTick draws an x axis tick at column px with label centred under it, and
// returns the label's right edge (0 when label is empty).
func (c *chartCanvas) xTick(px int, label string) int {
	fillRect(c.img, image.Rect(px, c.plot.Max.Y+1, px+1, c.plot.Max.Y+1+tickLen), chartInk)
	if label == "" {
		return 0
	}
	w := textWidth(c.fc.tick, label)
	baseline := c.plot.Max.Y + 1 + tickLen + chartGap/2 + ascent(c.fc.tick)
	c.text(c.fc.tick, label, px-w/2, baseline, chartInk)
	return px - w/2 + w
}

// text draws s with its baseline at row baseline, starting at column x.
func (c *chartCanvas) text(face font.Face, s string, x, baseline int, col color.Color) {
	d := font.Drawer{Dst: c.img, Src: image.NewUniform(col), Face: face, Dot: fixed.P(x, baseline)}
	d.DrawString(s)
}

// textUp draws s reading bottom to top, centred on column cx, its first
// character at row bottom.
func (c *chartCanvas) textUp(face font.Face, s string, cx, bottom int, col color.Color) {
	w, h := textWidth(face, s), textHeight(face)
	if w == 0 {
		return
	}
	flat := image.NewRGBA(image.Rect(0, 0, w, h))
	d := font.Drawer{Dst: flat, Src: image.NewUniform(col), Face: face, Dot: fixed.P(0, ascent(face))}
	d.DrawString(s)
	// Rotate a quarter turn anticlockwise: (x, y) goes to (y, w-1-x).
	up := image.NewRGBA(image.Rect(0, 0, h, w))
	for y := range h {
		for x := range w {
			up.SetRGBA(y, w-1-x, flat.RGBAAt(x, y))
		}
	}
	at := image.Pt(cx-h/2, bottom-w)
	draw.Draw(c.img, up.Bounds().Add(at), up, image.Point{}, draw.Over)
}

func textWidth(face font.Face, s string) int { return font.MeasureString(face, s).Ceil() }
func ascent(face font.Face) int              { return face.Metrics().Ascent.Ceil() }
func descent(face font.Face) int             { return face.Metrics().Descent.Ceil() }
func textHeight(face font.Face) int          { return ascent(face) + descent(face) }

// fit shortens s with an ellipsis until it is at most maxW pixels wide.
func fitText(face font.Face, s string, maxW int) string {
	if textWidth(face, s) <= maxW {
		return s
	}
	r := []rune(s)
	for len(r) > 0 {
		r = r[:len(r)-1]
		if t := string(r) + "…"; textWidth(face, t) <= maxW {
			return t
		}
	}
	return ""
}

func fillRect(img *image.RGBA, r image.Rectangle, col color.RGBA) {
	draw.Draw(img, r, image.NewUniform(col), image.Point{}, draw.Src)
}

// thickSegment sets every pixel whose centre lies within half of the segment
// from (x0, y0) to (x1, y1). No anti-aliasing: series pixels keep their
// exact colour.
func thickSegment(img *image.RGBA, x0, y0, x1, y1, half float64, col color.RGBA) {
	r := image.Rect(
		int(math.Floor(math.Min(x0, x1)-half)), int(math.Floor(math.Min(y0, y1)-half)),
		int(math.Ceil(math.Max(x0, x1)+half))+1, int(math.Ceil(math.Max(y0, y1)+half))+1,
	).Intersect(img.Bounds())
	dx, dy := x1-x0, y1-y0
	ll := dx*dx + dy*dy
	for py := r.Min.Y; py < r.Max.Y; py++ {
		for px := r.Min.X; px < r.Max.X; px++ {
			cx, cy := float64(px)+0.5, float64(py)+0.5
			t := 0.0
			if ll > 0 {
				t = math.Max(0, math.Min(1, ((cx-x0)*dx+(cy-y0)*dy)/ll))
			}
			ex, ey := cx-(x0+t*dx), cy-(y0+t*dy)
			if ex*ex+ey*ey <= half*half {
				img.SetRGBA(px, py, col)
			}
		}
	}
}

// markerShapes are the marker outlines in units of the marker radius, by
// series index; index 0 is a circle and has none. Shapes as well as colours
// tell the series apart, for readers (and printers) that lose the colour.
var markerShapes = [len(palette)][][2]float64{
	// 0: circle.
	1: {{-0.9, -0.9}, {0.9, -0.9}, {0.9, 0.9}, {-0.9, 0.9}}, // square
	2: {{0, -1.2}, {1.1, 0.85}, {-1.1, 0.85}},               // triangle up
	3: {{0, -1.25}, {1.25, 0}, {0, 1.25}, {-1.25, 0}},       // diamond
	4: {{0, 1.2}, {1.1, -0.85}, {-1.1, -0.85}},              // triangle down
	// 5: plus.
	5: {
		{-0.4, -1.1}, {0.4, -1.1}, {0.4, -0.4}, {1.1, -0.4}, {1.1, 0.4}, {0.4, 0.4},
		{0.4, 1.1}, {-0.4, 1.1}, {-0.4, 0.4}, {-1.1, 0.4}, {-1.1, -0.4}, {-0.4, -0.4},
	},
	6: {{-1.2, 0}, {0.85, -1.1}, {0.85, 1.1}},  // triangle left
	7: {{1.2, 0}, {-0.85, -1.1}, {-0.85, 1.1}}, // triangle right
}

// marker draws series i's marker centred on (cx, cy) with a white rim, so a
// point stays visible where it sits on another series' line.
func marker(img *image.RGBA, i int, cx, cy, radius float64, col color.RGBA) {
	shape := markerShapes[i%len(markerShapes)]
	for _, layer := range []struct {
		r   float64
		col color.RGBA
	}{{radius + 1.5, chartPaper}, {radius, col}} {
		lim := int(math.Ceil(layer.r*1.3)) + 1
		for py := int(cy) - lim; py <= int(cy)+lim; py++ {
			for px := int(cx) - lim; px <= int(cx)+lim; px++ {
				if !image.Pt(px, py).In(img.Bounds()) {
					continue
				}
				x, y := (float64(px)+0.5-cx)/layer.r, (float64(py)+0.5-cy)/layer.r
				if inShape(shape, x, y) {
					img.SetRGBA(px, py, layer.col)
				}
			}
		}
	}
}

// inShape reports whether (x, y) is inside the polygon, or inside the unit
// circle when there is no polygon (even-odd rule).
func inShape(poly [][2]float64, x, y float64) bool {
	if poly == nil {
		return x*x+y*y <= 1
	}
	in := false
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		a, b := poly[i], poly[j]
		if (a[1] > y) != (b[1] > y) && x < (b[0]-a[0])*(y-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}
