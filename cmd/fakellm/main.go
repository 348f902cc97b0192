// Command fakellm serves a scripted chat model and an embedder over the
// OpenAI HTTP API (/v1/chat/completions with tool_calls, /v1/embeddings),
// counting calls and tokens (GET /v1/_stats). Point neomem — or another
// memory system, for a side-by-side run on the same model and vectors — at
// it with an OpenAI-compatible base URL.
//
//	fakellm -addr 127.0.0.1:11435 -script replies.json -embedder local
//
// Replies are queued from -script and with POST /v1/_script
// ({"replies":[{"content":"…","tool_calls":[{"name":"…","arguments":{…}}]}]});
// a chat call with nothing queued is an error, never a made-up answer.
//
// A slow model: -delay pauses every chat reply, and a reply's own
// "delay_ms" (0 included) overrides it, so a test can hold a server inside
// one chosen model call. The pause ends early when the caller goes away.
// GET /v1/_stats also reports "pending" (replies still queued) and
// "in_flight" (chat calls taken from the queue and not yet answered).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/neomem/neomem/llm/llmtest"
	"github.com/neomem/neomem/vector"
	"github.com/neomem/neomem/vector/local"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fakellm:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fakellm", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:11435", "listen address")
	script := fs.String("script", "", "JSON file of replies to queue")
	embedder := fs.String("embedder", "hash", "hash (deterministic feature hashing) or local (all-MiniLM-L6-v2)")
	dims := fs.Int("dims", 384, "dimension of the hash embedder")
	delay := fs.Duration("delay", 0, "pause before every chat reply (a scripted reply's delay_ms overrides it)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *delay < 0 {
		return fmt.Errorf("-delay %v: must not be negative", *delay)
	}
	log := slog.New(slog.NewJSONHandler(stdout, nil))
	model := newSlowModel(*delay)
	if *script != "" {
		b, err := os.ReadFile(*script)
		if err != nil {
			return err
		}
		resps, delays, err := parseScript(b)
		if err != nil {
			return fmt.Errorf("%s: %w", *script, err)
		}
		model.queue(resps, delays)
	}
	var emb vector.Embedder
	switch *embedder {
	case "hash":
		emb = llmtest.NewHashEmbedder(*dims)
	case "local":
		e, err := local.New(local.Config{ModelDir: getenv("NEOMEM_LOCAL_MODEL_DIR"), LibraryPath: getenv("NEOMEM_ONNXRUNTIME_LIB")})
		if err != nil {
			return err
		}
		defer e.Close()
		emb = e
	default:
		return fmt.Errorf("-embedder %q: want hash or local", *embedder)
	}
	srv := &llmtest.OpenAIServer{Model: model, Embedder: emb}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: handler(srv, model), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	pending, _ := model.state()
	log.Info("listening", "addr", ln.Addr().String(), "embedder", emb.Name(), "dims", emb.Dimensions(), "queued", pending, "delay", delay.String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st := srv.Stats()
	log.Info("stopped", "chat_calls", st.ChatCalls, "prompt_tokens", st.PromptTokens, "completion_tokens", st.CompletionTokens,
		"embedding_calls", st.EmbeddingCalls)
	return hs.Shutdown(sctx)
}
