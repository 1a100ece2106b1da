# Switchyard build. Everything a developer or CI needs goes through here.
SHELL         := bash
GO            ?= go
BIN           := $(CURDIR)/bin
TOOLS         := $(BIN)/tools
CONFIG        ?= config/switchyard.example.yaml
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS       := -X github.com/switchyard/switchyard/core/app.Version=$(VERSION)

# Pinned tools (installed into bin/tools by `make tools`).
STATICCHECK_VERSION := v0.8.2
STRIPE_MOCK_VERSION := v0.203.0

PLUGINS := $(patsubst plugins/%/main.go,%,$(wildcard plugins/*/main.go))

.PHONY: all build plugins run test bench bench-http proto lint tools clean

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
run: build plugins
	@mkdir -p var
	$(BIN)/switchyard migrate --config $(CONFIG)
	$(BIN)/switchyard demo --config $(CONFIG)
	$(BIN)/switchyard serve --config $(CONFIG)

# make test: vet, the race-enabled unit and integration suites (real SQLite,
# PostgreSQL when SWITCHYARD_TEST_POSTGRES_DSN is set, real plugin binaries).
# The verbose log goes to var/test.log; the console gets package results,
# skips, failures with their logs, and how many SQLite and PostgreSQL
# subtests ran, so a silently skipped database suite is visible.
test: build plugins
	$(GO) vet ./...
	@mkdir -p var
	@set -o pipefail; \
	PATH="$(TOOLS):$$PATH" SWITCHYARD_BIN_DIR=$(BIN) $(GO) test -race -count=1 -v -timeout 20m ./... > var/test.log 2>&1; \
	status=$$?; \
	grep -E '^(ok|FAIL|panic:)|--- SKIP' var/test.log; \
	if [ $$status -ne 0 ]; then \
		echo "---- failures (full log: var/test.log) ----"; \
		grep -vE '^=== (RUN|PAUSE|CONT|NAME)|^\s*--- PASS|^(ok|PASS)' var/test.log | tail -n 400; \
	fi; \
	echo "database suites: $$(grep -cE -- '--- PASS: \S+/sqlite ' var/test.log) SQLite and $$(grep -cE -- '--- PASS: \S+/postgres ' var/test.log) PostgreSQL subtests passed"; \
	exit $$status

bench: build plugins
	PATH="$(TOOLS):$$PATH" SWITCHYARD_BIN_DIR=$(BIN) $(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 30m ./...

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

proto:
	bash sdk/proto/generate.sh

lint: tools
	$(GO) vet ./...
	$(TOOLS)/staticcheck ./...

tools:
	@mkdir -p $(TOOLS)
	@test -x $(TOOLS)/staticcheck || GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@test -x $(TOOLS)/stripe-mock || GOBIN=$(TOOLS) $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)

clean:
	rm -rf $(BIN) var
