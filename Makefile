GO ?= go
BIN := bin/sidecard
PKGS := ./...

.PHONY: build run test bench fmt lint generate clean

build:
	$(GO) build -o $(BIN) ./cmd/sidecard

# run starts a control plane and a sidecar in one process on the example registry.
run:
	$(GO) run ./cmd/sidecard dev

test:
	$(GO) test -race -count=1 $(PKGS)

# bench runs the Go benchmarks, then the loopback load tests of BRIEF §8
# (sidecar lookups against a bare fasthttp reference; wrk when installed) and
# the xDS propagation scenario (our registry cache against LinearCache).
bench:
	$(GO) test -run='^$$' -bench=. -benchmem $(PKGS)
	$(GO) test -count=1 -run='^TestLoad$$' -v ./sidecar/lookup/loadtest -load -load.wrk
	$(GO) run ./cmd/sidecard-xdsload -streams 100 -entries 10000 -writes 200 -cache both

fmt:
	gofmt -s -w .

lint:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed:"; gofmt -l .; exit 1)

# generate needs protoc (Debian's protobuf-compiler); protoc-gen-go is pinned in go.mod.
generate:
	@command -v protoc >/dev/null || (echo "protoc not found: apt-get install protobuf-compiler"; exit 1)
	$(GO) build -o bin/protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go
	$(GO) generate ./...

clean:
	rm -rf bin
