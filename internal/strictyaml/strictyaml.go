// Package strictyaml decodes configuration files strictly: unknown keys,
// wrong types and extra documents are errors that name the file and line.
//
// It lives under internal/ because both the control plane and the sidecar
// load config files this way and must not import each other (BRIEF §3); it
// knows nothing of what the files configure.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// DecodeFile reads the YAML file at path onto out, which should already hold
// the defaults: keys the file does not set keep their value. A file with
// nothing but white space is an error (ErrEmpty): it is what a reader sees
// between the truncation and the write of an in-place save, and must not
// reset everything to the defaults; a file holding only a comment is fine.
// Errors read "path:line: message", one line per problem.
func DecodeFile(path string, out any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return Decode(path, data, out)
}

// Decode is DecodeFile for data already read; name is used in errors.
func Decode(name string, data []byte, out any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("%s: %w", name, ErrEmpty)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil && !errors.Is(err, io.EOF) {
		return fileError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return fileError(name, err)
		}
		return fmt.Errorf("%s:%d: a config file holds one YAML document", name, extra.Line)
	}
	return nil
}

// ErrEmpty is the error for a config file with nothing but white space.
var ErrEmpty = errors.New("the file is empty (write at least a comment to run on the defaults)")

// errLine matches the "line N: " that yaml.v3 puts in its messages.
var errLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// fileError rewrites a yaml.v3 error as "name:line: message", one line per
// problem.
func fileError(name string, err error) error {
	msgs := []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	out := make([]string, len(msgs))
	for i, m := range msgs {
		if sm := errLine.FindStringSubmatch(m); sm != nil {
			out[i] = name + ":" + sm[1] + ": " + m[len(sm[0]):]
		} else {
			out[i] = name + ": " + m
		}
	}
	return errors.New(strings.Join(out, "\n"))
}
