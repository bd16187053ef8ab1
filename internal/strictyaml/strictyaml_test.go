package strictyaml

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
		{name: "empty keeps defaults", yaml: "", want: testConfig{Addr: "default"}},
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
