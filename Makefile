# erpbridge: the targets a newcomer looks for. `make` alone lists them.

GO      ?= go
COMPOSE ?= docker-compose
BIN     := $(CURDIR)/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

# Keep in step with devstack.TemporalCLIVersion (a test checks it).
TEMPORAL_CLI_VERSION := 1.5.1
TEMPORAL_CLI_PKG     := github.com/temporalio/cli/cmd/temporal
# go install leaves the CLI reporting 0.0.0-DEV; stamp the real version.
TEMPORAL_CLI_LDFLAGS := -X=github.com/temporalio/cli/temporalcli.Version=$(TEMPORAL_CLI_VERSION)
WORKFLOWCHECK_PKG    := go.temporal.io/sdk/contrib/tools/workflowcheck@latest
# The Temporal server of the cluster drills (deploy/cluster): the version the
# pinned CLI embeds, so the dev server and the cluster run the same server.
TEMPORAL_SERVER_VERSION := 1.29.1
TEMPORAL_SERVER_PKG     := go.temporal.io/server/cmd/server
TEMPORAL_SQL_TOOL_PKG   := go.temporal.io/server/cmd/tools/sql

.DEFAULT_GOAL := help
.PHONY: help dev dev-tryton build image test test-unit test-cluster fuzz bench bench-e2e lint compose-config alerts temporal-cli temporal-server cluster-up cluster-down clean

help: ## List the targets
	@echo "erpbridge make targets:"
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-15s %s\n", $$1, $$2}'

dev: ## Run everything locally: Temporal dev server, ERP simulator, API, worker, codec server
	$(GO) run ./cmd/erpbridge dev

# Where dev-tryton keeps its Tryton server's database and log.
TRYTON_DIR ?= .data/tryton

dev-tryton: ## Run everything locally against a local Tryton (deploy/tryton/up.sh; needs Debian's tryton-server, see docs/erp-tryton.md)
	@settings="$$(deploy/tryton/up.sh $(TRYTON_DIR))" || exit 1; \
	export $$settings; \
	echo "Tryton is $$TRYTON_URL (database $$TRYTON_DATABASE, user $$TRYTON_USER); it keeps running: deploy/tryton/down.sh $(TRYTON_DIR) stops it"; \
	ERP_KIND=tryton $(GO) run ./cmd/erpbridge dev

build: ## Build bin/erpbridge, stamped with VERSION (`bin/erpbridge version`)
	$(GO) build -ldflags "-X github.com/erpbridge/erpbridge/internal/app.version=$(VERSION)" -o bin/erpbridge ./cmd/erpbridge

image: ## Build the container image erpbridge:local, stamped with VERSION
	docker build --build-arg VERSION=$(VERSION) -t erpbridge:local .

# The packages whose code runs concurrently (the edge and its relay, the
# SQLite write gate and group commit, the codec's keyring, the bulk retry of
# parked records) run again under the race detector.
RACE_PKGS := ./api/... ./intake/... ./store/sqlite/... ./codec/... ./ops/...

test: ## go vet, then every test, then the concurrent code under -race (needs MariaDB on 127.0.0.1:3306, Tryton and promtool; the tests find or build the Temporal CLI)
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...
	$(GO) test -race -count=1 -timeout 15m $(RACE_PKGS)

test-cluster: ## Production cluster drills (deploy/cluster): Temporal as 4 services on PostgreSQL, 2 API + 2 worker replicas, faults under load
	@$(MAKE) --no-print-directory temporal-server temporal-cli
	$(GO) vet -tags cluster ./deploy/cluster/
	$(GO) test -tags cluster -count=1 -timeout 30m -v -run TestDrills ./deploy/cluster/

cluster-up: ## Start that cluster on this machine for a look around (deploy/cluster/cluster.sh; status, env, down)
	deploy/cluster/cluster.sh up

cluster-down: ## Stop it and drop its databases
	deploy/cluster/cluster.sh down --purge

test-unit: ## Quick tests only (-short: no Temporal dev server, CLI build, Chromium, MariaDB or Tryton)
	$(GO) test -short ./...

# How long `make fuzz` runs each fuzz test.
FUZZTIME ?= 30s

fuzz: ## Fuzz the vendors' parsers and the default ERP mappings, FUZZTIME each (their seeds run in make test)
	$(GO) test ./vendors/autox3/ -run '^$$' -fuzz '^FuzzParseEnvelope$$' -fuzztime $(FUZZTIME)
	$(GO) test ./vendors/fenbeitong/ -run '^$$' -fuzz '^FuzzParsePush$$' -fuzztime $(FUZZTIME)
	$(GO) test ./vendors/fenbeitong/ -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./erp/mapping/ -run '^$$' -fuzz '^FuzzDefaultMappings$$' -fuzztime $(FUZZTIME)

bench: ## Micro-benchmarks (go test -bench): the edge, the parsers, the codec, Persist
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Flags of tools/benche2e, e.g. make bench-e2e BENCH_E2E_ARGS='-store mysql -n 5000 -dup 0.5 -json out.json'
BENCH_E2E_ARGS ?= -n 300 -c 20 -store sqlite

bench-e2e: ## End to end against bare Temporal on one dev server (BENCH_E2E_ARGS: -n -c -store -dup -prefill -json)
	$(GO) run ./tools/benche2e $(BENCH_E2E_ARGS)

lint: ## go vet, gofmt, and workflowcheck when it can be had
	$(GO) vet ./...
	$(GO) vet -tags cluster ./deploy/cluster/
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	@wc="$$(command -v workflowcheck || true)"; \
	if [ -z "$$wc" ] && [ -x "$(BIN)/workflowcheck" ]; then wc="$(BIN)/workflowcheck"; fi; \
	if [ -z "$$wc" ] && GOBIN="$(BIN)" $(GO) install $(WORKFLOWCHECK_PKG) >/dev/null 2>&1; then wc="$(BIN)/workflowcheck"; fi; \
	if [ -z "$$wc" ]; then echo "workflowcheck unavailable (offline?), skipped"; \
	else echo "$$wc ./workflows/..."; "$$wc" ./workflows/...; fi

compose-config: ## Validate docker-compose.yml in every profile, then check its rules (go test ./deploy)
	@for p in "" "--profile dev" "--profile monitoring" "--profile dev --profile monitoring"; do \
		ERP_URL=$${ERP_URL:-https://erp.example.com} $(COMPOSE) $$p config -q || exit 1; \
	done
	$(GO) test -count=1 ./deploy

alerts: ## Check the Prometheus configuration and alert rules and run their unit tests (promtool, Debian's prometheus package)
	cd deploy/prometheus && promtool check config prometheus.yml && promtool check rules alerts.yml && promtool test rules alerts_test.yml

temporal-cli: ## Install the pinned Temporal CLI into bin/ (skipped when already there)
	@if [ -x "$(BIN)/temporal" ] && $(GO) version -m "$(BIN)/temporal" 2>/dev/null | grep -Eq 'mod[[:space:]]+github.com/temporalio/cli[[:space:]]+v$(TEMPORAL_CLI_VERSION)([[:space:]]|$$)'; then \
		echo "bin/temporal is already v$(TEMPORAL_CLI_VERSION)"; \
	else \
		echo "building the Temporal CLI v$(TEMPORAL_CLI_VERSION) into bin/ (about 3-4 minutes)..."; \
		mkdir -p "$(BIN)" && GOBIN="$(BIN)" $(GO) install -ldflags='$(TEMPORAL_CLI_LDFLAGS)' $(TEMPORAL_CLI_PKG)@v$(TEMPORAL_CLI_VERSION); \
	fi

temporal-server: ## Install the pinned Temporal server and its SQL schema tool into bin/ (skipped when already there)
	@if $(GO) version -m "$(BIN)/temporal-server" 2>/dev/null | grep -Eq 'mod[[:space:]]+go.temporal.io/server[[:space:]]+v$(TEMPORAL_SERVER_VERSION)([[:space:]]|$$)' \
		&& $(GO) version -m "$(BIN)/temporal-sql-tool" 2>/dev/null | grep -Eq 'mod[[:space:]]+go.temporal.io/server[[:space:]]+v$(TEMPORAL_SERVER_VERSION)([[:space:]]|$$)'; then \
		echo "bin/temporal-server and bin/temporal-sql-tool are already v$(TEMPORAL_SERVER_VERSION)"; \
	else \
		echo "building the Temporal server v$(TEMPORAL_SERVER_VERSION) into bin/ (about 3 minutes)..."; \
		tmp="$$(mktemp -d)" && trap 'rm -rf "$$tmp"' EXIT && \
		GOBIN="$$tmp" $(GO) install $(TEMPORAL_SERVER_PKG)@v$(TEMPORAL_SERVER_VERSION) $(TEMPORAL_SQL_TOOL_PKG)@v$(TEMPORAL_SERVER_VERSION) && \
		mkdir -p "$(BIN)" && mv "$$tmp/server" "$(BIN)/temporal-server" && mv "$$tmp/sql" "$(BIN)/temporal-sql-tool"; \
	fi

clean: ## Remove build output and local dev state (bin/, .data/), stopping dev-tryton's Tryton first
	@if [ -d "$(TRYTON_DIR)" ]; then deploy/tryton/down.sh $(TRYTON_DIR); fi
	rm -rf bin .data coverage.out
