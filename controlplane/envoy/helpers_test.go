package envoy

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protopath"
	"google.golang.org/protobuf/reflect/protorange"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current output")

// validator is what protoc-gen-validate generates for every Envoy message.
type validator interface{ Validate() error }

// validateAll calls Validate on m and, recursively, on every message packed
// in a google.protobuf.Any below it (Validate does not look inside an Any).
func validateAll(m proto.Message) error {
	v, ok := m.(validator)
	if !ok {
		return fmt.Errorf("%T has no Validate method", m)
	}
	if err := v.Validate(); err != nil {
		return fmt.Errorf("%T: %w", m, err)
	}
	return protorange.Options{Resolver: (*protoregistry.Types)(nil)}.Range(m.ProtoReflect(),
		func(p protopath.Values) error {
			msg, ok := p.Index(-1).Value.Interface().(protoreflect.Message)
			if !ok {
				return nil
			}
			a, ok := msg.Interface().(*anypb.Any)
			if !ok {
				return nil
			}
			inner, err := a.UnmarshalNew()
			if err != nil {
				return fmt.Errorf("%s: %w", p.Path, err)
			}
			return validateAll(inner)
		}, nil)
}

// goldenJSON renders msgs as a JSON array of Any (so each names its type),
// with stable formatting: protojson's output is deliberately unstable, so it
// is compacted and re-indented with encoding/json.
func goldenJSON(t *testing.T, msgs []proto.Message) []byte {
	t.Helper()
	raws := make([]json.RawMessage, len(msgs))
	for i, m := range msgs {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatalf("pack %T: %v", m, err)
		}
		if raws[i], err = (protojson.MarshalOptions{Multiline: true, Indent: "  "}).Marshal(a); err != nil {
			t.Fatalf("marshal %T: %v", m, err)
		}
	}
	compact, err := json.Marshal(raws)
	if err != nil {
		t.Fatalf("marshal golden: %v", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		t.Fatalf("indent golden: %v", err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// checkGolden compares got with testdata/<name>.golden.json, or rewrites the
// file with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update %s: %v", path, err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v (go test ./controlplane/envoy -update writes it)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./controlplane/envoy -update rewrites it): %s", path, firstDiff(got, want))
	}
}

// firstDiff describes the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d: got %q, want %q", i+1, gl, wl)
		}
	}
	return "same lines"
}
