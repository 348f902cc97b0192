// Command evalmem measures retrieval on LoCoMo-format conversations: it
// stores each conversation in neomem (and, with -compare mem0, in Mem0's
// open-source Memory, the same embedder serving both), asks every question,
// and scores the hits against the turns that hold the answer (evidence
// recall@5/10/20/30, hit@k, session recall@k, MRR, per category, search
// latency). It writes a report as Markdown, JSON and PNG charts.
//
//	evalmem -data locomo.json -mode turns,observations -compare mem0 -out eval-out
//
// Without -url it starts what it measures: the embedder (cmd/fakellm
// -embedder local, all-MiniLM-L6-v2 over an OpenAI-compatible API) and a
// neomem server (bin/neomem) on the Neo4j of NEO4J_URI, on free ports, with
// a tenant of its own that it deletes at the end.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "evalmem:", err)
		os.Exit(1)
	}
}

// variant is another ranking of neomem's stored memories.
type variant struct{ name, weights string }

// options are the command's flags.
type options struct {
	data          string
	modes         []string
	compare       string
	out           string
	url, key      string
	embedURL      string
	embedModel    string
	server        string
	fakellm       string
	embedder      string
	mem0Python    string
	mem0Sidecar   string
	conversations int
	questions     int
	passes        int
	vectorOnly    bool
	weights       string
	variants      []variant
	window        int
	keep          bool
	traces        bool
	seed          uint64
	progress      bool
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("evalmem", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.data, "data", "", "LoCoMo-format file (a JSON array of samples); required")
	modes := fs.String("mode", "turns", "ingest modes, comma-separated: turns (every turn a memory), observations (the data set's extracted facts), llm (the real pipeline, infer=true, with the server's configured model)")
	fs.StringVar(&o.compare, "compare", "", "mem0: run Mem0 OSS (pinned mem0ai, local Qdrant, the same embedder) side by side, interleaved")
	fs.StringVar(&o.out, "out", "eval-out", "directory of the report (report.md, report.json, *.png)")
	fs.StringVar(&o.url, "url", "", "a running neomem server to measure (default: start bin/neomem on NEO4J_URI)")
	fs.StringVar(&o.key, "key", getenv("NEOMEM_API_KEY"), "admin API key for -url (default $NEOMEM_API_KEY)")
	fs.StringVar(&o.embedURL, "embed-url", "", "OpenAI-compatible embedding API for Mem0 with -url (default: the embedder evalmem starts)")
	fs.StringVar(&o.embedModel, "embed-model", "all-MiniLM-L6-v2", "embedding model name sent to -embed-url")
	fs.StringVar(&o.server, "server", "bin/neomem", "neomem binary to start without -url")
	fs.StringVar(&o.fakellm, "fakellm", "bin/fakellm", "fakellm binary that serves the embedder without -url")
	fs.StringVar(&o.embedder, "embedder", "local", "embedder fakellm serves: local (all-MiniLM-L6-v2) or hash (fast, for tests)")
	fs.StringVar(&o.mem0Python, "mem0-python", getenv("NEOMEM_EVAL_MEM0_PYTHON"), "python of the Mem0 venv (bash tests/eval/mem0/setup.sh prints it)")
	fs.StringVar(&o.mem0Sidecar, "mem0-sidecar", "tests/eval/mem0/sidecar.py", "Mem0 side of the harness")
	fs.IntVar(&o.conversations, "conversations", 0, "use the first n conversations only (0: all)")
	fs.IntVar(&o.questions, "questions", 0, "ask the first n questions of each conversation only (0: all)")
	fs.IntVar(&o.passes, "passes", 2, "timed passes over the questions (latency is pooled; hits come from the first)")
	fs.BoolVar(&o.vectorOnly, "vector-only", true, "also rank neomem's memories by the vector alone (weights text 0, graph 0, time 0), its own baseline")
	fs.StringVar(&o.weights, "weights", "", "neomem's search weights, e.g. vector=1,text=0.5,graph=0.3,rrf_k=60 (default: the server's)")
	fs.Func("variant", "another ranking of neomem's memories, NAME=WEIGHTS, e.g. 'text½=text=0.5,rrf_k=30' (repeatable; for choosing weights)", func(v string) error {
		name, w, ok := strings.Cut(v, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return fmt.Errorf("want NAME=WEIGHTS, got %q", v)
		}
		if _, err := parseWeights(w); err != nil {
			return err
		}
		o.variants = append(o.variants, variant{name: "neomem " + strings.TrimSpace(name), weights: w})
		return nil
	})
	fs.IntVar(&o.window, "llm-window", 2, "turns per add in the llm mode")
	fs.BoolVar(&o.traces, "traces", false, "write every question with each system's ranked turn ids into report.json (quotes the data set: keep it out of public places when its licence says so)")
	fs.BoolVar(&o.keep, "keep", false, "keep the stored memories (neomem tenant, Mem0 directory)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the bootstrap intervals")
	fs.BoolVar(&o.progress, "progress", true, "show a progress bar on stderr")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if o.data == "" {
		return o, errors.New("-data is required: a LoCoMo-format file")
	}
	for _, m := range strings.Split(*modes, ",") {
		switch m = strings.TrimSpace(m); m {
		case "turns", "observations", "llm":
			o.modes = append(o.modes, m)
		default:
			return o, fmt.Errorf("-mode %q: want turns, observations or llm", m)
		}
	}
	switch o.compare {
	case "", "mem0":
	default:
		return o, fmt.Errorf("-compare %q: want mem0 or nothing", o.compare)
	}
	if o.compare == "mem0" {
		for _, m := range o.modes {
			if m == "llm" {
				return o, errors.New("-compare mem0 runs with -mode turns and observations (Mem0 with infer=false); the llm mode is neomem's pipeline only")
			}
		}
		if o.mem0Python == "" {
			return o, errors.New("-compare mem0 needs -mem0-python (bash tests/eval/mem0/setup.sh prints it)")
		}
		if o.url != "" && o.embedURL == "" {
			return o, errors.New("-compare mem0 with -url needs -embed-url, the embedder the server uses")
		}
	}
	if o.url != "" && o.key == "" {
		return o, errors.New("-url needs -key (or NEOMEM_API_KEY)")
	}
	if o.passes < 1 {
		return o, errors.New("-passes must be at least 1")
	}
	if _, err := parseWeights(o.weights); err != nil {
		return o, err
	}
	return o, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	convs, err := LoadLoCoMo(o.data)
	if err != nil {
		return err
	}
	if o.conversations > 0 && o.conversations < len(convs) {
		convs = convs[:o.conversations]
	}
	if o.questions > 0 {
		for i := range convs {
			if len(convs[i].Questions) > o.questions {
				convs[i].Questions = convs[i].Questions[:o.questions]
			}
		}
	}
	env, err := startEnv(ctx, o, getenv, stderr)
	if err != nil {
		return err
	}
	defer env.Close()

	rep := newReport(o, convs, env)
	for _, mode := range o.modes {
		mr, err := evalMode(ctx, o, env, convs, mode, stderr)
		if err != nil {
			return err
		}
		if !o.traces {
			mr.Answers = nil
		}
		rep.Modes = append(rep.Modes, mr)
	}
	rep.Finished = time.Now().UTC()
	if err := rep.Write(o.out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report: %s\n", o.out+"/report.md")
	return nil
}
