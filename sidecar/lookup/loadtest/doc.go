// Package loadtest measures the sidecar's lookup API against a bare fasthttp
// reference (BRIEF §8): a synthetic registry (Entries), a reference server
// returning fixed bytes (Reference), and a small HTTP/1.1 keep-alive load
// generator for loopback addresses (Closed, Open) that reports throughput
// and latency percentiles.
//
// The generator speaks just enough HTTP/1.1 for fasthttp servers: requests
// are pre-built bytes, responses must carry Content-Length (or be 204/304).
// It refuses non-loopback addresses and every run is bounded in time and in
// requests. The scenarios of BRIEF §8 run from TestLoad (go test -load).
package loadtest
