# GridHall build / test entry points.  `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build
.DELETE_ON_ERROR:
MAKEFLAGS += --no-print-directory

# Go: whatever is on PATH, else the standard /usr/local/go install.
GO := $(or $(shell command -v go 2>/dev/null),/usr/local/go/bin/go)
export PATH := $(patsubst %/,%,$(dir $(GO))):$(PATH)
GOFMT := $(shell $(GO) env GOROOT 2>/dev/null)/bin/gofmt
GOPATH_BIN := $(shell $(GO) env GOPATH 2>/dev/null)/bin

STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(GOPATH_BIN)/staticcheck

VERSION ?= $(or $(shell git describe --always --dirty 2>/dev/null),dev)
BIN := bin/gridhall
VENDOR_DIR := internal/web/static/vendor
PG_BIN := /usr/lib/postgresql/15/bin
CHROMIUM := /usr/bin/chromium
FUZZTIME ?= 10s

NPM_CI := npm ci --no-audit --no-fund

.PHONY: help deps system-deps node-deps staticcheck assets build run demo bench-locate lint \
	test test-go test-durability e2e bench fuzz clean distclean

help:
	@echo "make deps      install missing system packages, npm packages, staticcheck"
	@echo "make assets    copy front-end libraries into $(VENDOR_DIR)"
	@echo "make build     build $(BIN) (CGO_ENABLED=0, version $(VERSION))"
	@echo "make run       build and run '$(BIN) serve' (127.0.0.1:8080, SQLite in ./data)"
	@echo "make lint      gofmt check, go vet, staticcheck"
	@echo "make test      deps, assets, lint, Go tests (-race, SQLite + PostgreSQL 15), build, browser tests"
	@echo "make test-go   only the Go tests (throwaway PostgreSQL cluster via scripts/pg-cluster.sh)"
	@echo "make test-durability  SIGKILL during writes (SQLite), PostgreSQL outage, three nodes (real processes)"
	@echo "make e2e       only the browser tests (needs $(CHROMIUM))"
	@echo "make bench     benchmarks"
	@echo "make fuzz      every Fuzz* target for FUZZTIME=$(FUZZTIME)"
	@echo "make clean     remove build outputs (distclean: also node_modules)"

# ---------------------------------------------------------------- deps

deps:
	@$(MAKE) system-deps
	@$(MAKE) node-deps staticcheck

# apt-get only when something is actually missing.
system-deps:
	@missing=""; \
	[ -x $(PG_BIN)/initdb ] || missing="$$missing postgresql-15"; \
	[ -x $(CHROMIUM) ] || missing="$$missing chromium"; \
	[ -n "$$(fc-list :lang=zh 2>/dev/null)" ] || missing="$$missing fonts-noto-cjk"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	command -v gcc >/dev/null 2>&1 || missing="$$missing gcc libc6-dev"; \
	command -v git >/dev/null 2>&1 || missing="$$missing git"; \
	if [ -z "$$missing" ]; then echo "deps: system packages present"; exit 0; fi; \
	echo "deps: installing:$$missing"; \
	sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
	if command -v pgrep >/dev/null 2>&1; then \
		for i in $$(seq 1 180); do \
			pgrep -x 'apt-get|apt|dpkg|unattended-upgr' >/dev/null || break; \
			[ $$i -gt 1 ] || echo "deps: waiting for another apt/dpkg run to finish"; \
			sleep 5; \
		done; \
	fi; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 update; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y $$missing

node-deps: web/node_modules/.package-lock.json e2e/node_modules/.package-lock.json
	@:

# npm ci only when node_modules is missing or older than the lockfile.
web/node_modules/.package-lock.json: web/package-lock.json web/package.json
	cd web && $(NPM_CI)
	touch $@

e2e/node_modules/.package-lock.json: e2e/package-lock.json e2e/package.json
	cd e2e && $(NPM_CI)
	touch $@

staticcheck: $(STATICCHECK)
	@:

$(STATICCHECK):
	GOBIN=$(GOPATH_BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# ---------------------------------------------------------------- build

assets: web/node_modules/.package-lock.json
	node web/copy-assets.mjs

build: assets
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/gridhall

run: build
	./$(BIN) serve

# The demo of Community Y's street, seeded once under ./demo-data.
demo: build
	./$(BIN) demo

# ---------------------------------------------------------------- checks

lint: assets $(STATICCHECK)
	@echo "gofmt -l"; \
	files=$$(find . -path ./.git -prune -o -name node_modules -prune -o -name '*.go' -print | xargs -r $(GOFMT) -l); \
	if [ -n "$$files" ]; then \
		echo "gofmt: these files are not formatted (run: gofmt -w <file>):"; \
		echo "$$files" | sed 's/^/  /'; \
		exit 1; \
	fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	$(GO) vet -tags durability ./internal/durability/
	$(STATICCHECK) -tags durability ./internal/durability/

# Sequential on purpose (also under make -j); the first failure stops it.
test:
	@$(MAKE) deps
	@$(MAKE) assets
	@$(MAKE) lint
	@$(MAKE) test-go
	@$(MAKE) build
	@$(MAKE) test-durability
	@$(MAKE) e2e
	@echo "make test: all passed"

test-go: assets
	GO=$(GO) scripts/test-all.sh go

# Real processes killed and real databases stopped; see internal/durability.
test-durability: build
	GO=$(GO) GRIDHALL_BIN=$(abspath $(BIN)) scripts/test-all.sh durability

e2e: build e2e/node_modules/.package-lock.json
	GRIDHALL_BIN=$(abspath $(BIN)) scripts/test-all.sh e2e

bench: assets
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The point→grid locator beside PostGIS on the same polygons and points.
bench-locate:
	scripts/bench-locate.sh

fuzz: assets
	@targets=$$($(GO) test -list '^Fuzz' ./... | awk ' \
		/^Fuzz/ { n[++c] = $$1; next } \
		/^ok[ \t]/ { for (i = 1; i <= c; i++) print $$2, n[i]; c = 0; next } \
		{ c = 0 }'); \
	if [ -z "$$targets" ]; then echo "fuzz: no Fuzz* targets found"; exit 0; fi; \
	while read -r pkg fn; do \
		echo "==> fuzz $$pkg $$fn ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) "$$pkg" </dev/null; \
	done <<< "$$targets"

# ---------------------------------------------------------------- clean

clean:
	rm -rf bin $(VENDOR_DIR) e2e/test-results e2e/screenshots coverage.out coverage.html *.coverprofile

distclean: clean
	rm -rf web/node_modules e2e/node_modules
