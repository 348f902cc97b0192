package main

import (
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"

	"github.com/neomem/neomem/cypher"
	"github.com/neomem/neomem/memory"
	"github.com/neomem/neomem/vector"
	"github.com/neomem/neomem/vector/local"
)

// config is everything the server reads from the environment, read once here.
type config struct {
	Addr          string `env:"NEOMEM_ADDR" validate:"required"`
	Neo4jURI      string `env:"NEO4J_URI" validate:"required,neo4juri"`
	Neo4jUsername string `env:"NEO4J_USERNAME"`
	Neo4jPassword string `env:"NEO4J_PASSWORD"`
	Neo4jDatabase string `env:"NEO4J_DATABASE"`
	EmbeddingDims int    `env:"NEOMEM_EMBEDDING_DIMS" validate:"min=0,max=4096"`

	LLMProvider      string        `env:"NEOMEM_LLM_PROVIDER" validate:"omitempty,oneof=none gemini openai anthropic ollama openai-compatible"`
	LLMModel         string        `env:"NEOMEM_LLM_MODEL"`
	LLMBaseURL       string        `env:"NEOMEM_LLM_BASE_URL" validate:"omitempty,url"`
	VisionModel      string        `env:"NEOMEM_VISION_MODEL"`
	LLMAPIKey        string        `env:"NEOMEM_LLM_API_KEY"`
	LLMStructured    string        `env:"NEOMEM_LLM_STRUCTURED" validate:"oneof=tools json_schema"`
	Embedder         string        `env:"NEOMEM_EMBEDDER" validate:"omitempty,oneof=local gemini openai ollama openai-compatible"`
	EmbeddingModel   string        `env:"NEOMEM_EMBEDDING_MODEL"`
	EmbeddingBaseURL string        `env:"NEOMEM_EMBEDDING_BASE_URL" validate:"omitempty,url"`
	GeminiAPIKey     string        `env:"GEMINI_API_KEY"`
	OpenAIAPIKey     string        `env:"OPENAI_API_KEY"`
	AnthropicAPIKey  string        `env:"ANTHROPIC_API_KEY"`
	LocalModelDir    string        `env:"NEOMEM_LOCAL_MODEL_DIR"`
	ONNXRuntimeLib   string        `env:"NEOMEM_ONNXRUNTIME_LIB"`
	ModelTimeout     time.Duration `env:"NEOMEM_MODEL_TIMEOUT" validate:"min=0"`
	ModelAttempts    int           `env:"NEOMEM_MODEL_ATTEMPTS" validate:"min=1,max=10"`
	SearchExactMax   int           `env:"NEOMEM_SEARCH_EXACT_MAX" validate:"min=0"`
	QueryCache       int           `env:"NEOMEM_QUERY_CACHE" validate:"min=0,max=1000000"`
	VectorWeight     float64       `env:"NEOMEM_SEARCH_VECTOR_WEIGHT" validate:"min=0,max=100"`
	TextWeight       float64       `env:"NEOMEM_SEARCH_TEXT_WEIGHT" validate:"min=0,max=100"`
	GraphWeight      float64       `env:"NEOMEM_SEARCH_GRAPH_WEIGHT" validate:"min=0,max=100"`
	TimeWeight       float64       `env:"NEOMEM_SEARCH_TIME_WEIGHT" validate:"min=0,max=100"`
	RRFK             int           `env:"NEOMEM_SEARCH_RRF_K" validate:"min=1,max=1000"`
	TextAnalyzer     string        `env:"NEOMEM_TEXT_ANALYZER" validate:"required"`
	VectorQuantized  bool          `env:"NEOMEM_VECTOR_QUANTIZATION"`
	VectorHNSWM      int           `env:"NEOMEM_VECTOR_HNSW_M" validate:"min=1,max=512"`
	VectorHNSWEf     int           `env:"NEOMEM_VECTOR_HNSW_EF_CONSTRUCTION" validate:"min=1,max=3200"`
	Auth             string        `env:"NEOMEM_AUTH" validate:"oneof=enabled disabled"`
	DefaultTenant    string        `env:"NEOMEM_DEFAULT_TENANT" validate:"required,max=128"`
	Instructions     string        `env:"NEOMEM_INSTRUCTIONS" validate:"max=8000"`
	RequestTimeout   time.Duration `env:"NEOMEM_REQUEST_TIMEOUT" validate:"min=0"`
	LeaseTTL         time.Duration `env:"NEOMEM_LEASE_TTL" validate:"min=1000000000"`
	Workers          int           `env:"NEOMEM_WORKERS" validate:"min=0,max=256"`
	WorkerTenants    string        `env:"NEOMEM_WORKER_TENANTS"`
	IdempotencyTTL   time.Duration `env:"NEOMEM_IDEMPOTENCY_TTL" validate:"min=1000000000"`
	Neo4jRetryTime   time.Duration `env:"NEOMEM_NEO4J_RETRY_TIME" validate:"min=0"`
	BodyLimit        string        `env:"NEOMEM_BODY_LIMIT" validate:"required"`
	RateLimit        float64       `env:"NEOMEM_RATE_LIMIT" validate:"min=0"`
	RateBurst        int           `env:"NEOMEM_RATE_BURST" validate:"min=0"`
	LogLevel         string        `env:"NEOMEM_LOG_LEVEL" validate:"oneof=debug info warn error"`
	LogFormat        string        `env:"NEOMEM_LOG_FORMAT" validate:"oneof=text json"`
	StartupTimeout   time.Duration `env:"NEOMEM_STARTUP_TIMEOUT" validate:"min=0"`
	ShutdownTimeout  time.Duration `env:"NEOMEM_SHUTDOWN_TIMEOUT" validate:"min=0"`
	PprofAddr        string        `env:"NEOMEM_PPROF_ADDR"`
}

func defaultConfig() config {
	return config{
		Addr:            ":8080",
		Neo4jURI:        "bolt://localhost:7687",
		Neo4jUsername:   "neo4j",
		LLMStructured:   "tools",
		ModelTimeout:    60 * time.Second,
		Auth:            "enabled",
		DefaultTenant:   "default",
		RequestTimeout:  120 * time.Second,
		LeaseTTL:        memory.DefaultLeaseTTL,
		Workers:         2,
		IdempotencyTTL:  cypher.DefaultOnceTTL,
		Neo4jRetryTime:  1500 * time.Millisecond,
		BodyLimit:       "2M",
		RateLimit:       20,
		RateBurst:       40,
		ModelAttempts:   4,
		QueryCache:      vector.DefaultQueryCache,
		LogLevel:        "info",
		LogFormat:       "text",
		StartupTimeout:  60 * time.Second,
		ShutdownTimeout: 15 * time.Second,
		VectorHNSWM:     vector.DefaultHNSWM,
		VectorWeight:    vector.DefaultFusion.VectorWeight,
		TextWeight:      vector.DefaultFusion.TextWeight,
		GraphWeight:     vector.DefaultFusion.GraphWeight,
		TimeWeight:      vector.DefaultFusion.TimeWeight,
		RRFK:            vector.DefaultFusion.K,
		TextAnalyzer:    cypher.DefaultTextAnalyzer,
		VectorHNSWEf:    vector.DefaultHNSWEfConstruction,
	}
}

// configVars lists every variable, its default and meaning, for -help and the
// README's configuration table.
var configVars = []struct{ name, def, help string }{
	{"NEOMEM_ADDR", ":8080", "HTTP listen address (host:port; port 0 picks a free one)"},
	{"NEO4J_URI", "bolt://localhost:7687", "Neo4j address: bolt://, neo4j:// (routing, clusters, Aura), +s/+ssc for TLS"},
	{"NEO4J_USERNAME", "neo4j", "Neo4j user"},
	{"NEO4J_PASSWORD", "", "Neo4j password (empty: connect without authentication)"},
	{"NEO4J_DATABASE", "", "Neo4j database (empty: the server's default database)"},
	{"NEOMEM_LLM_PROVIDER", "(from the keys)", "none, gemini, openai, anthropic, ollama or openai-compatible; default: the first of GEMINI_API_KEY, OPENAI_API_KEY, ANTHROPIC_API_KEY that is set, else none"},
	{"NEOMEM_LLM_MODEL", "(per provider)", "chat model: gemini-2.5-flash, gpt-4.1-mini, claude-sonnet-4-5; required for ollama and openai-compatible"},
	{"NEOMEM_VISION_MODEL", "(the chat model)", "model that describes images in messages, from the chat provider; default: the chat model for gemini, openai and anthropic, none for ollama and openai-compatible"},
	{"NEOMEM_LLM_BASE_URL", "", "API root of an OpenAI-compatible server, e.g. http://localhost:11434/v1 (the ollama default); also overrides the public endpoints"},
	{"NEOMEM_LLM_API_KEY", "", "API key of an OpenAI-compatible server (optional)"},
	{"NEOMEM_LLM_STRUCTURED", "tools", "how the chat model is asked for structured replies: tools (function calling) or json_schema (the tool's parameters as a JSON schema in response_format, read back from the reply's text: for OpenAI-compatible servers whose tool calling is unreliable, e.g. llama.cpp with a small model); openai, ollama and openai-compatible only"},
	{"NEOMEM_EMBEDDER", "(from the keys)", "local, gemini, openai, ollama or openai-compatible; default: gemini with GEMINI_API_KEY, else openai with OPENAI_API_KEY, else local (all-MiniLM-L6-v2, no key, no network)"},
	{"NEOMEM_EMBEDDING_MODEL", "(per embedder)", "embedding model: text-embedding-004, text-embedding-3-small; required for ollama and openai-compatible"},
	{"NEOMEM_EMBEDDING_BASE_URL", "", "API root of an OpenAI-compatible embedding server (default NEOMEM_LLM_BASE_URL)"},
	{"NEOMEM_EMBEDDING_DIMS", "(per embedder)", "embedding dimension: 384 local, 768 gemini, 1536 openai; required for ollama and openai-compatible. Sizes the vector indexes: a mismatch with existing indexes stops start-up"},
	{"GEMINI_API_KEY", "", "Google Gemini API key"},
	{"OPENAI_API_KEY", "", "OpenAI API key"},
	{"ANTHROPIC_API_KEY", "", "Anthropic API key (chat only; embeddings then stay local)"},
	{"NEOMEM_CACHE", "~/.cache/neomem", "cache of fetched models and runtimes (where the local model is looked for)"},
	{"NEOMEM_LOCAL_MODEL_DIR", "~/.cache/neomem/models/…", "directory with model.onnx and tokenizer.json of the local embedder (make models fetches it)"},
	{"NEOMEM_ONNXRUNTIME_LIB", "~/.cache/neomem/onnxruntime/…", "path of libonnxruntime.so for the local embedder"},
	{"NEOMEM_SEARCH_EXACT_MAX", "5.26: a tenth of the index, 1000 to 10000; 2026.01+: 300", "candidate memories (scope and filters applied) up to which search scans exactly instead of asking the vector index (setting it fixes both); see docs/benchmarks.md"},
	{"NEOMEM_QUERY_CACHE", strconv.Itoa(vector.DefaultQueryCache), "search queries whose vectors are kept, per tenant, so a repeated query is not embedded again (least recently used out; 0 turns it off)"},
	{"NEOMEM_SEARCH_VECTOR_WEIGHT", ftoa(vector.DefaultFusion.VectorWeight), "weight of the vector (embedding similarity) ranking in a search's reciprocal rank fusion (0–100; 0 turns it off); a request's weights.vector overrides it. See docs/evaluation.md for how the defaults were chosen"},
	{"NEOMEM_SEARCH_TEXT_WEIGHT", ftoa(vector.DefaultFusion.TextWeight), "weight of the full-text (BM25) ranking (0–100; 0 turns it off); a request's weights.text overrides it"},
	{"NEOMEM_SEARCH_GRAPH_WEIGHT", ftoa(vector.DefaultFusion.GraphWeight), "weight of the graph ranking: memories that mention entities named in the query, and at a lower weight those of entities one relation away from the top hits' (0–100; 0 turns it off); a request's weights.graph overrides it"},
	{"NEOMEM_SEARCH_TIME_WEIGHT", ftoa(vector.DefaultFusion.TimeWeight), "weight of the time ranking, used when the query names a date or a time (\"on 8 May, 2023\", \"in July 2023\", \"2023-05-08\", \"in 2022\", \"yesterday\", \"last week\"): the memories created then (a day's slack each side), by similarity (0–100; 0 turns it off); a request's weights.time overrides it"},
	{"NEOMEM_SEARCH_RRF_K", strconv.Itoa(vector.DefaultFusion.K), "constant k of reciprocal rank fusion, score = Σ weight / (k + rank) (1–1000; smaller favours the first ranks); a request's weights.rrf_k overrides it"},
	{"NEOMEM_TEXT_ANALYZER", cypher.DefaultTextAnalyzer, "Lucene analyzer of the memory full-text index (english: stemming and stop words; standard, simple, whitespace…: any that CALL db.index.fulltext.listAvailableAnalyzers() lists). Changing it rebuilds the index at start-up"},
	{"NEOMEM_VECTOR_QUANTIZATION", "false", "true: the vector indexes traverse quantised vectors (int8 on Neo4j 5.x, binary on 2026.x: less memory, lower recall for tenants that are a small share of the index); search re-scores exactly either way. Changing it rebuilds the indexes at start-up"},
	{"NEOMEM_VECTOR_HNSW_M", strconv.Itoa(vector.DefaultHNSWM), "links per vector in the HNSW graph (1–512): more raises recall for large tenants, costs memory and insert time. Changing it rebuilds the indexes at start-up"},
	{"NEOMEM_VECTOR_HNSW_EF_CONSTRUCTION", strconv.Itoa(vector.DefaultHNSWEfConstruction), "HNSW candidate list while inserting (1–3200): more builds a better graph, slower. Changing it rebuilds the indexes at start-up"},
	{"NEOMEM_AUTH", "enabled", "enabled: every request needs an API key (neomem keys create); disabled: every request acts as an admin of NEOMEM_DEFAULT_TENANT — for local experiments only, logged loudly"},
	{"NEOMEM_DEFAULT_TENANT", "default", "the tenant of every request when NEOMEM_AUTH=disabled"},
	{"NEOMEM_INSTRUCTIONS", "", "custom instructions added to every extraction prompt (per deployment; requests add their own prompt)"},
	{"NEOMEM_REQUEST_TIMEOUT", "120s", "bound on one request, Neo4j and model calls included"},
	{"NEOMEM_LEASE_TTL", "20s", "how long a scope's lock outlives its holder's last heartbeat (at least 1s): an add renews it every quarter of this while it works, so a crashed server blocks a scope for at most this long"},
	{"NEOMEM_WORKERS", "2", "asynchronous-add workers in this process (0: none; `neomem worker` runs at least one and no HTTP API)"},
	{"NEOMEM_WORKER_TENANTS", "", "comma-separated tenants whose asynchronous adds this process's workers run (empty: every tenant)"},
	{"NEOMEM_IDEMPOTENCY_TTL", "24h", "how long an Idempotency-Key and its recorded answer are kept (at least 1s); expired keys are purged every 10 minutes"},
	{"NEOMEM_NEO4J_RETRY_TIME", "1.5s", "how long one Neo4j transaction is retried on transient errors (deadlocks, a lost connection; the driver pauses about 2s before its first retry, so 1.5s means one retry); while Neo4j is unreachable a request gets its 503 within about 4s. Raise it for clusters whose leader elections take longer"},
	{"NEOMEM_BODY_LIMIT", "2M", "largest request body (e.g. 512K, 2M)"},
	{"NEOMEM_RATE_LIMIT", "20", "requests per second allowed per API key (0: no limit); past it, 429 with Retry-After"},
	{"NEOMEM_RATE_BURST", "40", "burst allowed above NEOMEM_RATE_LIMIT"},
	{"NEOMEM_MODEL_TIMEOUT", "60s", "time-out of one model call (chat or embedding)"},
	{"NEOMEM_MODEL_ATTEMPTS", "4", "tries per model call; rate limits, 5xx and time-outs are retried with backoff and jitter"},
	{"NEOMEM_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"NEOMEM_LOG_FORMAT", "text", "text or json"},
	{"NEOMEM_STARTUP_TIMEOUT", "60s", "how long start-up waits for Neo4j to answer"},
	{"NEOMEM_SHUTDOWN_TIMEOUT", "15s", "how long shutdown waits for requests in flight"},
	{"NEOMEM_PPROF_ADDR", "", "host:port of a separate listener serving Go's runtime profiles (net/http/pprof, /debug/pprof/) without authentication, e.g. 127.0.0.1:6060 (empty: off; never on the API's port)"},
}

func loadConfig(getenv func(string) string) (config, error) {
	c := defaultConfig()
	var errs []string
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	num := func(name string, dst *int) {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q is not an integer", name, v))
				return
			}
			*dst = n
		}
	}
	dur := func(name string, dst *time.Duration) {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q is not a duration such as 30s or 2m", name, v))
				return
			}
			*dst = d
		}
	}
	float := func(name string, dst *float64) {
		if v := getenv(name); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				errs = append(errs, fmt.Sprintf("%s=%q is not a number", name, v))
				return
			}
			*dst = f
		}
	}
	str("NEOMEM_ADDR", &c.Addr)
	str("NEO4J_URI", &c.Neo4jURI)
	str("NEO4J_USERNAME", &c.Neo4jUsername)
	c.Neo4jPassword = getenv("NEO4J_PASSWORD")
	str("NEO4J_DATABASE", &c.Neo4jDatabase)
	num("NEOMEM_EMBEDDING_DIMS", &c.EmbeddingDims)
	str("NEOMEM_LLM_PROVIDER", &c.LLMProvider)
	str("NEOMEM_LLM_MODEL", &c.LLMModel)
	str("NEOMEM_LLM_BASE_URL", &c.LLMBaseURL)
	str("NEOMEM_VISION_MODEL", &c.VisionModel)
	str("NEOMEM_LLM_API_KEY", &c.LLMAPIKey)
	str("NEOMEM_LLM_STRUCTURED", &c.LLMStructured)
	str("NEOMEM_EMBEDDER", &c.Embedder)
	str("NEOMEM_EMBEDDING_MODEL", &c.EmbeddingModel)
	str("NEOMEM_EMBEDDING_BASE_URL", &c.EmbeddingBaseURL)
	str("GEMINI_API_KEY", &c.GeminiAPIKey)
	str("OPENAI_API_KEY", &c.OpenAIAPIKey)
	str("ANTHROPIC_API_KEY", &c.AnthropicAPIKey)
	str("NEOMEM_LOCAL_MODEL_DIR", &c.LocalModelDir)
	str("NEOMEM_ONNXRUNTIME_LIB", &c.ONNXRuntimeLib)
	dur("NEOMEM_MODEL_TIMEOUT", &c.ModelTimeout)
	num("NEOMEM_MODEL_ATTEMPTS", &c.ModelAttempts)
	num("NEOMEM_SEARCH_EXACT_MAX", &c.SearchExactMax)
	num("NEOMEM_QUERY_CACHE", &c.QueryCache)
	float("NEOMEM_SEARCH_VECTOR_WEIGHT", &c.VectorWeight)
	float("NEOMEM_SEARCH_TEXT_WEIGHT", &c.TextWeight)
	float("NEOMEM_SEARCH_GRAPH_WEIGHT", &c.GraphWeight)
	float("NEOMEM_SEARCH_TIME_WEIGHT", &c.TimeWeight)
	num("NEOMEM_SEARCH_RRF_K", &c.RRFK)
	str("NEOMEM_TEXT_ANALYZER", &c.TextAnalyzer)
	if v := getenv("NEOMEM_VECTOR_QUANTIZATION"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("NEOMEM_VECTOR_QUANTIZATION=%q is not true or false", v))
		}
		c.VectorQuantized = b
	}
	num("NEOMEM_VECTOR_HNSW_M", &c.VectorHNSWM)
	num("NEOMEM_VECTOR_HNSW_EF_CONSTRUCTION", &c.VectorHNSWEf)
	str("NEOMEM_AUTH", &c.Auth)
	str("NEOMEM_DEFAULT_TENANT", &c.DefaultTenant)
	str("NEOMEM_INSTRUCTIONS", &c.Instructions)
	dur("NEOMEM_REQUEST_TIMEOUT", &c.RequestTimeout)
	dur("NEOMEM_LEASE_TTL", &c.LeaseTTL)
	num("NEOMEM_WORKERS", &c.Workers)
	str("NEOMEM_WORKER_TENANTS", &c.WorkerTenants)
	dur("NEOMEM_IDEMPOTENCY_TTL", &c.IdempotencyTTL)
	dur("NEOMEM_NEO4J_RETRY_TIME", &c.Neo4jRetryTime)
	str("NEOMEM_BODY_LIMIT", &c.BodyLimit)
	num("NEOMEM_RATE_BURST", &c.RateBurst)
	float("NEOMEM_RATE_LIMIT", &c.RateLimit)
	c.LLMProvider = strings.ToLower(c.LLMProvider)
	c.LLMStructured = strings.ToLower(c.LLMStructured)
	c.Embedder = strings.ToLower(c.Embedder)
	if c.LocalModelDir == "" || c.ONNXRuntimeLib == "" {
		dir, lib := local.DefaultPaths(cacheRoot(getenv))
		if c.LocalModelDir == "" {
			c.LocalModelDir = dir
		}
		if c.ONNXRuntimeLib == "" {
			c.ONNXRuntimeLib = lib
		}
	}
	str("NEOMEM_LOG_LEVEL", &c.LogLevel)
	str("NEOMEM_LOG_FORMAT", &c.LogFormat)
	dur("NEOMEM_STARTUP_TIMEOUT", &c.StartupTimeout)
	dur("NEOMEM_SHUTDOWN_TIMEOUT", &c.ShutdownTimeout)
	str("NEOMEM_PPROF_ADDR", &c.PprofAddr)
	c.LogLevel = strings.ToLower(c.LogLevel)
	c.LogFormat = strings.ToLower(c.LogFormat)
	if len(errs) == 0 {
		errs = validateConfig(c)
	}
	if len(errs) > 0 {
		return config{}, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

var validate = func() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	_ = v.RegisterValidation("neo4juri", func(fl validator.FieldLevel) bool {
		u, err := url.Parse(fl.Field().String())
		if err != nil || u.Host == "" {
			return false
		}
		switch u.Scheme {
		case "bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc":
			return true
		}
		return false
	})
	return v
}()

// validateConfig returns one message per bad variable, naming it.
func validateConfig(c config) []string {
	var out []string
	if c.VectorWeight == 0 && c.TextWeight == 0 && c.GraphWeight == 0 {
		out = append(out, "NEOMEM_SEARCH_VECTOR_WEIGHT, NEOMEM_SEARCH_TEXT_WEIGHT and NEOMEM_SEARCH_GRAPH_WEIGHT must not all be 0")
	}
	if c.TextAnalyzer != "" && !cypher.ValidAnalyzerName(c.TextAnalyzer) {
		out = append(out, fmt.Sprintf("NEOMEM_TEXT_ANALYZER=%q is not an analyzer name such as english or standard-no-stop-words", c.TextAnalyzer))
	}
	err := validate.Struct(c)
	if err == nil {
		return out
	}
	var verrs validator.ValidationErrors
	if !asValidationErrors(err, &verrs) {
		return append(out, err.Error())
	}
	for _, fe := range verrs {
		name := envName(fe.StructField())
		switch fe.Tag() {
		case "required":
			out = append(out, name+" must not be empty")
		case "neo4juri":
			out = append(out, fmt.Sprintf("%s=%q is not a bolt://, neo4j:// (or +s, +ssc) address with a host", name, fe.Value()))
		case "url":
			out = append(out, fmt.Sprintf("%s=%q is not a URL such as http://localhost:11434/v1", name, fe.Value()))
		case "oneof":
			out = append(out, fmt.Sprintf("%s=%q must be one of: %s", name, fe.Value(), fe.Param()))
		default:
			out = append(out, fmt.Sprintf("%s=%v is out of range (%s %s)", name, fe.Value(), fe.Tag(), fe.Param()))
		}
	}
	return out
}

func asValidationErrors(err error, dst *validator.ValidationErrors) bool {
	v, ok := err.(validator.ValidationErrors)
	if ok {
		*dst = v
	}
	return ok
}

// envName returns the variable behind a config field, from its env tag.
func envName(field string) string {
	if f, ok := reflect.TypeOf(config{}).FieldByName(field); ok {
		if n := f.Tag.Get("env"); n != "" {
			return n
		}
	}
	return field
}

// LogValue masks secrets when the configuration is logged. It names the
// chat provider and embedder as resolved from the keys and leaves out the
// settings that are not set (the "models" line then logs the effective
// models and dimension).
func (c config) LogValue() slog.Value {
	var attrs []slog.Attr
	str := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	str("addr", c.Addr)
	str("neo4j_uri", c.Neo4jURI)
	str("neo4j_username", c.Neo4jUsername)
	str("neo4j_password", mask(c.Neo4jPassword))
	str("neo4j_database", c.Neo4jDatabase)
	str("llm_provider", chatProvider(c))
	str("llm_model", c.LLMModel)
	str("llm_base_url", c.LLMBaseURL)
	str("llm_structured", c.LLMStructured)
	str("vision_model", c.VisionModel)
	str("embedder", embedderProvider(c))
	str("embedding_model", c.EmbeddingModel)
	if c.EmbeddingDims > 0 {
		attrs = append(attrs, slog.Int("embedding_dims", c.EmbeddingDims))
	}
	str("gemini_api_key", mask(c.GeminiAPIKey))
	str("openai_api_key", mask(c.OpenAIAPIKey))
	str("anthropic_api_key", mask(c.AnthropicAPIKey))
	str("llm_api_key", mask(c.LLMAPIKey))
	str("auth", c.Auth)
	str("log_level", c.LogLevel)
	attrs = append(attrs,
		slog.Duration("lease_ttl", c.LeaseTTL),
		slog.Int("workers", c.Workers),
		slog.Duration("idempotency_ttl", c.IdempotencyTTL),
		slog.Duration("neo4j_retry_time", c.Neo4jRetryTime),
		slog.Duration("startup_timeout", c.StartupTimeout),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
	)
	return slog.GroupValue(attrs...)
}

// AuthDisabled reports whether requests need no API key.
func (c config) AuthDisabled() bool { return c.Auth == "disabled" }

// mask hides a secret but says whether it is set.
func mask(secret string) string {
	if secret == "" {
		return ""
	}
	return "********"
}

// cacheRoot is where fetched models live: NEOMEM_CACHE, else ~/.cache/neomem.
func cacheRoot(getenv func(string) string) string {
	if c := getenv("NEOMEM_CACHE"); c != "" {
		return c
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".cache", "neomem")
}

// ftoa formats a default number for the settings table.
func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
