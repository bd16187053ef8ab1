package strictyaml

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

type testConfig struct {
	Addr    string        `yaml:"addr"`
	Timeout time.Duration `yaml:"timeout"`
	Nested  struct {
		Size int `yaml:"size"`
	} `yaml:"nested"`
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    testConfig
		wantErr string
	}{
		{name: "comment only keeps defaults", yaml: "# defaults\n", want: testConfig{Addr: "default"}},
		{name: "empty is refused", yaml: " \n\t\n", wantErr: "f.yaml: the file is empty"},
		{name: "sets keys", yaml: "addr: a\ntimeout: 2s\nnested: {size: 3}\n",
			want: func() testConfig { c := testConfig{Addr: "a", Timeout: 2 * time.Second}; c.Nested.Size = 3; return c }()},
		{name: "unknown key names line", yaml: "addr: a\nbogus: 1\n", wantErr: "f.yaml:2: field bogus not found"},
		{name: "unknown nested key", yaml: "nested:\n  sise: 1\n", wantErr: "f.yaml:2: field sise not found"},
		{name: "wrong type", yaml: "nested: {size: big}\n", wantErr: "f.yaml:1: cannot unmarshal"},
		{name: "bad duration", yaml: "timeout: soon\n", wantErr: "f.yaml:1:"},
		{name: "two documents", yaml: "addr: a\n---\naddr: b\n", wantErr: "a config file holds one YAML document"},
		{name: "syntax error", yaml: "addr: [\n", wantErr: "f.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := testConfig{Addr: "default"}
			err := Decode("f.yaml", []byte(tt.yaml), &got)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeFileMissing(t *testing.T) {
	var c testConfig
	err := DecodeFile(filepath.Join(t.TempDir(), "absent.yaml"), &c)
	if !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("err = %v, want not-exist", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func TestLocate(t *testing.T) {
	data := []byte("addr: x\nnested:\n  size: -1\nlist:\n  - a\n  - b\n")
	err := errors.Join(
		errors.New("nested.size: must be positive"),
		errors.New("list[1]: bad"),
		errors.New("timeout: required"),
	)
	got := Locate("f.yaml", data, err).Error()
	want := "f.yaml:3: nested.size: must be positive\nf.yaml:6: list[1]: bad\nf.yaml: timeout: required"
	if got != want {
		t.Fatalf("Locate:\n%s\nwant:\n%s", got, want)
	}
}

func TestKeyLine(t *testing.T) {
	const doc = `node:
  id: a
  labels: {zone: eu}
controlplane:
  addresses:
    - h:1
    - h:2
overrides:
  weather.eu:
    endpoints: [{url: x}]
proxy: {outlier: {base_ejection: 1s}}
`
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key  string
		want int
	}{
		{"node.id", 2},
		{"node.labels", 3},
		{"controlplane.addresses[1]", 7},
		{"controlplane.addresses[5]", 5},
		{"overrides.weather.eu.endpoints[0].url", 10},
		{"proxy.outlier.base_ejection", 11},
		{"proxy.lb_policy", 11},
		{"cache.max_cost_bytes", 0},
	}
	for _, tt := range tests {
		if got := keyLine(&root, tt.key); got != tt.want {
			t.Errorf("keyLine(%q) = %d, want %d", tt.key, got, tt.want)
		}
	}
}
