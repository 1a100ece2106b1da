# Switchyard build. Everything a developer or CI needs goes through here.
SHELL         := bash
GO            ?= go
BIN           := $(CURDIR)/bin
TOOLS         := $(BIN)/tools
CONFIG        ?= config/switchyard.example.yaml
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS       := -X github.com/switchyard/switchyard/core/app.Version=$(VERSION)

# Go: the `go 1.26.10` line in go.mod is the minimum toolchain (the patch
# release with the standard-library security fixes). With an older go
# installed, `auto` lets the go command fetch go1.26.10 through the module
# proxy, even where `go env` says GOTOOLCHAIN=local; a GOTOOLCHAIN set in the
# environment wins.
export GOTOOLCHAIN ?= auto

# Pinned tools (installed into bin/tools by `make tools`).
STATICCHECK_VERSION := v0.8.2
STRIPE_MOCK_VERSION := v0.203.0
GOVULNCHECK_VERSION := v1.10.0

# make vuln: the vulnerability database is vuln.go.dev when it answers;
# otherwise it is built from the golang.org/x/vulndb module (its OSV files,
# indexed by its own cmd/indexdb), which the module proxy serves. The data
# version is pinned like a tool so CI is reproducible; run
# `make vuln VULNDB_VERSION=latest` for the newest advisories.
VULNDB_URL      ?= https://vuln.go.dev
VULNDB_VERSION  ?= v0.0.0-20261105234957-e22db6528018
INDEXDB_VERSION := v0.0.0-20261105234957-e22db6528018
# Advisories reached by the code that have no fixed release, each accepted
# with its reason in docs/decisions.md; any other finding fails `make vuln`.
VULN_ACCEPT := GO-2026-6872,GO-2026-6875
# The SDK module (what third-party plugins depend on) accepts none: echo is
# not among its requirements.
VULN_ACCEPT_SDK :=
# Both modules are scanned with the toolchain the root builds with (go.mod's
# go line): sdk/go.mod asks only for go 1.26.0, so with an older go installed
# `auto` would scan the SDK against that older standard library, which is not
# what `make build` ships. A GOTOOLCHAIN set in the environment still wins.
SCAN_TOOLCHAIN := $(if $(filter auto local,$(GOTOOLCHAIN)),go$(shell sed -n 's/^go //p' go.mod),$(GOTOOLCHAIN))

PLUGINS := $(patsubst plugins/%/main.go,%,$(wildcard plugins/*/main.go))

# The repository holds two Go modules: the root and the plugin SDK (sdk/, its
# own module so third parties depend on it alone; the root requires it
# through a replace). `go test ./...` stops at a module boundary, so every
# command that walks packages runs once per module.
GOMODULES := . sdk
# in_modules CMD: run CMD in every module, all of them even after a failure;
# fails if any did.
in_modules = status=0; for m in $(GOMODULES); do (cd $$m && $(1)) || status=1; done; test $$status = 0

.PHONY: all build plugins run test bench bench-http bench-pgbench bench-sqlite proto lint tools vuln private-var clean

all: build plugins

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/switchyard ./cmd/switchyard

plugins:
	@mkdir -p $(BIN)/plugins
	@for p in $(PLUGINS); do \
		echo "building plugin $$p"; \
		$(GO) build -o $(BIN)/plugins/$$p ./plugins/$$p || exit 1; \
	done

# make run: build everything, migrate the embedded SQLite database, bootstrap
# a demo merchant with a fresh test key, and serve.
run: build plugins private-var
	$(BIN)/switchyard migrate --config $(CONFIG)
	$(BIN)/switchyard demo --config $(CONFIG)
	$(BIN)/switchyard serve --config $(CONFIG)

# make test: vet, the race-enabled unit and integration suites (real SQLite,
# PostgreSQL when SWITCHYARD_TEST_POSTGRES_DSN is set, real plugin binaries).
# The verbose log goes to var/test.log; the console gets package results,
# skips, failures with their logs, and how many SQLite and PostgreSQL
# subtests ran, so a silently skipped database suite is visible.
test: build plugins private-var
	@$(call in_modules,$(GO) vet ./...)
	@set -o pipefail; \
	export PATH="$(TOOLS):$$PATH" SWITCHYARD_BIN_DIR=$(BIN); \
	( $(call in_modules,$(GO) test -race -count=1 -v -timeout 20m ./...) ) > var/test.log 2>&1; \
	status=$$?; \
	grep -E '^(ok|FAIL|panic:)|--- SKIP' var/test.log; \
	if [ $$status -ne 0 ]; then \
		echo "---- failures (full log: var/test.log) ----"; \
		grep -vE '^=== (RUN|PAUSE|CONT|NAME)|^\s*--- PASS|^(ok|PASS)' var/test.log | tail -n 400; \
	fi; \
	echo "database suites: $$(grep -cE -- '--- PASS: \S+/sqlite ' var/test.log) SQLite and $$(grep -cE -- '--- PASS: \S+/postgres ' var/test.log) PostgreSQL subtests passed"; \
	exit $$status

bench: build plugins
	export PATH="$(TOOLS):$$PATH" SWITCHYARD_BIN_DIR=$(BIN); \
	$(call in_modules,$(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 30m ./...)

# make bench-http: black-box throughput and latency of the real binary with
# wrk (Debian's, installed when missing), A/B against a bare echo/v4 binary
# decoding the same JSON, on SQLite and — when SWITCHYARD_TEST_POSTGRES_DSN
# is set — PostgreSQL; plus provider-webhook intake through /hooks.
# BENCH_HTTP_FLAGS passes options (e.g. -pairs 5 -duration 20s -dbs sqlite).
bench-http: build plugins
	@command -v wrk >/dev/null 2>&1 || { \
		echo "installing wrk (Debian package)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk; }
	$(GO) build -o $(BIN)/bench/bareecho ./internal/benchhttp/bareecho
	$(GO) run ./internal/benchhttp -switchyard $(BIN)/switchyard -bare $(BIN)/bench/bareecho -plugins $(BIN)/plugins $(BENCH_HTTP_FLAGS)

# make bench-pgbench: what PostgreSQL alone does with the statements of one
# session create (pgbench, 32 clients), the ceiling for make bench-http's
# PostgreSQL rows.
bench-pgbench: build
	bash internal/benchhttp/pgbench/run.sh $(BIN)/switchyard "$${SWITCHYARD_TEST_POSTGRES_DSN:?set SWITCHYARD_TEST_POSTGRES_DSN}" $${SECONDS_PER_RUN:-10}

# make bench-sqlite: what SQLite alone does with the statements of one
# session create (core/store BenchmarkCreateStatements: the same Store, group
# commit and pragmas, 32 goroutines, no HTTP), the ceiling for make
# bench-http's SQLite rows. The database lives under var/, on the disk serve
# would use. SECONDS_PER_RUN (default 10) and RUNS (default 3) set its length.
bench-sqlite: private-var
	@mkdir -p var/bench-sqlite
	TMPDIR=$(CURDIR)/var/bench-sqlite $(GO) test -run '^$$' -bench 'CreateStatements/sqlite' \
		-benchtime $${SECONDS_PER_RUN:-10}s -count $${RUNS:-3} ./core/store/

proto:
	bash sdk/proto/generate.sh

lint: tools
	$(call in_modules,$(GO) vet ./... && $(TOOLS)/staticcheck ./...)

tools:
	@mkdir -p $(TOOLS)
	@test -x $(TOOLS)/staticcheck || GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@test -x $(TOOLS)/stripe-mock || GOBIN=$(TOOLS) $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)
	@test -x $(TOOLS)/govulncheck || GOBIN=$(TOOLS) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)

# make vuln: govulncheck over every package of both modules (the root and
# sdk/, which plugin authors build against alone), each judged by
# internal/vulngate (fails on any vulnerability the code reaches that is not
# accepted for that module: VULN_ACCEPT, VULN_ACCEPT_SDK). Both are scanned
# even when the first fails.
vuln: tools private-var
	@set -euo pipefail; \
	db="$(VULNDB_URL)"; \
	if ! curl -fsS --max-time 15 -o /dev/null "$(VULNDB_URL)/index/db.json" 2>/dev/null; then \
		echo "$(VULNDB_URL) is unreachable: building the database from golang.org/x/vulndb@$(VULNDB_VERSION) (module proxy)"; \
		test -x $(TOOLS)/indexdb || GOBIN=$(TOOLS) $(GO) install golang.org/x/vulndb/cmd/indexdb@$(INDEXDB_VERSION); \
		src=$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
		test -d "$$src/data/osv" || { echo "no data/osv in golang.org/x/vulndb@$(VULNDB_VERSION)"; exit 1; }; \
		rm -rf var/vulndb; \
		$(TOOLS)/indexdb -vulns "$$src/data/osv" -out var/vulndb; \
		db="file://$(CURDIR)/var/vulndb"; \
	fi; \
	status=0; \
	for m in $(GOMODULES); do \
		if [ "$$m" = . ]; then name=root; accept="$(VULN_ACCEPT)"; else name=$$m; accept="$(VULN_ACCEPT_SDK)"; fi; \
		echo "govulncheck $(GOVULNCHECK_VERSION) against $$db: module $$m"; \
		(cd $$m && GOTOOLCHAIN=$(SCAN_TOOLCHAIN) $(TOOLS)/govulncheck -db "$$db" -format json ./...) > var/govulncheck-$$name.json; \
		$(GO) run ./internal/vulngate -accept "$$accept" < var/govulncheck-$$name.json || status=1; \
	done; \
	test $$status = 0

# var/ holds the SQLite database of make run, test logs and scan results:
# private to the user (an existing var/ made 0755 by an older Makefile is
# narrowed too).
private-var:
	@mkdir -p var && chmod 0700 var

clean:
	rm -rf $(BIN) var
