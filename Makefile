# gale: see README.md. Every target works on a fresh clone with Go 1.26.
GO      ?= go
BIN     := bin/gale
PKGS    := ./...
OUT     := out

.PHONY: all build run test vet fmt-check race long fuzz-smoke bench-smoke bench ci clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/gale

# The main job: the quickstart scenario on the embedded reference broker
# (scenarios/quickstart.yaml): throughput by batch size (1 to 10000 messages a
# batch), a constant-rate latency run at half the best rate found, then a kill
# -9 and restart of the broker under load whose history is checked for
# at-least-once delivery and linearizability. It ends with a one-screen
# summary and writes out/quickstart/{results.json,report.md,report.html,*.png,
# *.svg}. About a minute; exit code as gale run's (0 when all holds).
run: build
	$(BIN) run quickstart --out $(OUT)/quickstart

# The whole test suite: formatting, vet, a short run of every fuzz target, a
# smoke run of every benchmark, then every test under the race detector (last,
# so its summary closes the output).
test: fmt-check vet fuzz-smoke bench-smoke long race

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

race:
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

# Tests too slow under the race detector (they skip themselves there).
long:
	$(GO) test -count=1 -run 'TestMillionRecords' ./broker/kafka/

# Each fuzz target for a few seconds (go test -fuzz takes one target at a time).
# A real finding always writes a "Failing input"; with a short -fuzztime the
# fuzzer sometimes reports only that its workers missed the shutdown deadline,
# which is not a finding.
FUZZ_TIME ?= 5s
fuzz-smoke:
	@mkdir -p $(OUT)
	@for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for t in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
	    echo "fuzz $$pkg $$t"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZ_TIME) $$pkg > $(OUT)/fuzz.log 2>&1 || \
	    if grep -q 'Failing input' $(OUT)/fuzz.log || ! grep -q 'context deadline exceeded' $(OUT)/fuzz.log; then \
	      cat $(OUT)/fuzz.log; exit 1; \
	    else echo "  (go's fuzzer missed its own shutdown deadline; no failing input: not a finding)"; fi; \
	  done; \
	done

bench-smoke:
	@mkdir -p $(OUT)
	$(GO) test -short -run '^$$' -bench . -benchtime 100x $(PKGS) > $(OUT)/bench-smoke.txt 2>&1 || { cat $(OUT)/bench-smoke.txt; exit 1; }
	@echo "benchmarks smoke-ran: $(OUT)/bench-smoke.txt"

# Full benchmarks (several minutes); figures to out/bench.txt.
bench:
	@mkdir -p $(OUT)
	$(GO) test -run '^$$' -bench . -benchmem -count 3 $(PKGS) | tee $(OUT)/bench.txt

ci:
	CI=true bash .ci/run

clean:
	rm -rf bin $(OUT)
