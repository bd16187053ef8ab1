GO ?= go
BIN := bin/sidecard
PKGS := ./...

.PHONY: build run test bench fmt lint generate clean

build:
	$(GO) build -o $(BIN) ./cmd/sidecard

# run starts the control plane on the example registry with data in a fresh temp dir.
run:
	$(GO) run ./cmd/sidecard controlplane --registry-dir examples/registry --data "$$(mktemp -d)"

test:
	$(GO) test -race -count=1 $(PKGS)

bench:
	$(GO) test -run='^$$' -bench=. -benchmem $(PKGS)

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
