package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Report is one run: how it ran and every mode's results.
type Report struct {
	Started  time.Time    `json:"started"`
	Finished time.Time    `json:"finished"`
	Command  string       `json:"command"`
	Commit   string       `json:"commit,omitempty"`
	Data     DataInfo     `json:"data"`
	Machine  Machine      `json:"machine"`
	Embedder string       `json:"embedder"`
	Server   string       `json:"server"`
	Scope    string       `json:"scope"`
	Modes    []ModeResult `json:"modes"`
}

// DataInfo names the data set a run read.
type DataInfo struct {
	Path          string         `json:"path"`
	SHA256        string         `json:"sha256"`
	Conversations int            `json:"conversations"`
	Questions     int            `json:"questions_scored"`
	ByCategory    map[string]int `json:"questions_by_category"`
}

// Machine is where the run ran.
type Machine struct {
	OS      string `json:"os"`
	CPUs    int    `json:"cpus"`
	LoadAvg string `json:"loadavg,omitempty"`
	Go      string `json:"go"`
}

func newReport(o options, convs []Conversation, env *Env) *Report {
	r := &Report{Started: time.Now().UTC(), Command: "evalmem " + strings.Join(os.Args[1:], " "),
		Embedder: env.Embedder, Server: env.URL,
		Scope: "one user_id per conversation (eval-<mode>-<sample_id>); both speakers' turns in it"}
	if b, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		r.Commit = strings.TrimSpace(string(b))
	}
	if raw, err := os.ReadFile(o.data); err == nil {
		sum := sha256.Sum256(raw)
		r.Data.SHA256 = hex.EncodeToString(sum[:])
	}
	r.Data.Path = filepath.Base(o.data)
	r.Data.Conversations = len(convs)
	r.Data.ByCategory = map[string]int{}
	for _, c := range convs {
		for _, q := range c.Questions {
			if q.Scored() {
				r.Data.Questions++
				r.Data.ByCategory[categoryNames[q.Category]]++
			}
		}
	}
	r.Machine = Machine{OS: runtime.GOOS + "/" + runtime.GOARCH, CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		r.Machine.LoadAvg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return r
}

// maxCharted is how many systems the charts show (one colour each): the
// first ones, neomem and what it is compared with; the tables show all.
const maxCharted = 8

// Write writes report.json, report.md and the charts into dir.
func (r *Report) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	for _, m := range r.Modes {
		var curves, bars []Series
		var groups []string
		for _, c := range []int{1, 2, 3, 4} {
			groups = append(groups, categoryNames[c])
		}
		for i, s := range m.Systems {
			if i == maxCharted {
				break
			}
			var ys, cs []float64
			for _, k := range Ks {
				ys = append(ys, s.Overall.Recall[k])
			}
			for _, c := range []int{1, 2, 3, 4} {
				cs = append(cs, s.ByCategory[c].Recall[10])
			}
			curves = append(curves, Series{Name: s.Name, Values: ys})
			bars = append(bars, Series{Name: s.Name, Values: cs})
		}
		xs := make([]float64, len(Ks))
		for i, k := range Ks {
			xs[i] = float64(k)
		}
		if err := LineChart(filepath.Join(dir, "recall-"+m.Mode+".png"), "Evidence recall@k, "+m.Mode, "k", "recall", xs, curves, 1); err != nil {
			return err
		}
		if err := BarChart(filepath.Join(dir, "categories-"+m.Mode+".png"), "Recall@10 per category, "+m.Mode, "recall@10", groups, bars, 1); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "report.md"), []byte(r.Markdown()), 0o644)
}

// Markdown renders the report's tables.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Data: `%s` (sha256 %.12s…), %d conversations, %d scored questions (categories 1–4 with evidence:",
		r.Data.Path, r.Data.SHA256, r.Data.Conversations, r.Data.Questions)
	var cats []string
	for _, c := range []int{1, 2, 3, 4} {
		cats = append(cats, fmt.Sprintf(" %s %d", categoryNames[c], r.Data.ByCategory[categoryNames[c]]))
	}
	fmt.Fprintf(&b, "%s). Scope: %s. Embedder: %s. Machine: %s, %d CPUs, load %s. Commit %s, %s.\n\n",
		strings.Join(cats, ","), r.Scope, r.Embedder, r.Machine.OS, r.Machine.CPUs, r.Machine.LoadAvg, r.Commit,
		r.Finished.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Command: `%s`\n\n", r.Command)
	for _, m := range r.Modes {
		fmt.Fprintf(&b, "### Mode `%s` (%d memories stored per system)\n\n", m.Mode, m.Items)
		b.WriteString("| system | R@5 | R@10 | R@20 | R@30 | hit@10 | session R@10 | MRR | search p50 | p95 | p99 | ingest |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, s := range m.Systems {
			o := s.Overall
			fmt.Fprintf(&b, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.1f ms | %.1f ms | %.1f ms | %s |\n",
				s.Name, o.Recall[5], o.Recall[10], o.Recall[20], o.Recall[30], o.Hit[10], o.SessionRecall[10], o.MRR,
				s.Latency.P50, s.Latency.P95, s.Latency.P99, ingestCell(s))
		}
		b.WriteString("\nRecall@10 per category:\n\n| system |")
		for _, c := range []int{1, 2, 3, 4} {
			fmt.Fprintf(&b, " %s |", categoryNames[c])
		}
		b.WriteString("\n|---|---:|---:|---:|---:|\n")
		for _, s := range m.Systems {
			fmt.Fprintf(&b, "| %s |", s.Name)
			for _, c := range []int{1, 2, 3, 4} {
				fmt.Fprintf(&b, " %.3f (%d) |", s.ByCategory[c].Recall[10], s.ByCategory[c].N)
			}
			b.WriteString("\n")
		}
		if len(m.Diffs) > 0 {
			b.WriteString("\nPaired differences (95% bootstrap interval over questions, 2,000 resamples):\n\n")
			for _, d := range m.Diffs {
				fmt.Fprintf(&b, "- %s − %s, %s: %+.3f [%+.3f, %+.3f]\n", d.A, d.B, d.Metric, d.Mean, d.Lo, d.Hi)
			}
		}
		var notes []string
		for _, s := range m.Systems {
			for _, n := range s.Notes {
				notes = append(notes, s.Name+": "+n)
			}
		}
		sort.Strings(notes)
		for i, n := range notes {
			if i == 0 {
				b.WriteString("\nNotes:\n\n")
			}
			fmt.Fprintf(&b, "- %s\n", n)
		}
		fmt.Fprintf(&b, "\n![recall@k, %[1]s](recall-%[1]s.png)\n![recall@10 per category, %[1]s](categories-%[1]s.png)\n\n", m.Mode)
	}
	return b.String()
}

func ingestCell(s SystemResult) string {
	if s.Shared {
		return "(shared)"
	}
	return fmt.Sprintf("%.0f s", s.Ingest)
}
