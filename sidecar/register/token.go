package register

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// maxTokenFileBytes bounds a token file.
const maxTokenFileBytes = 64 << 10

// LoadToken reads the sidecar's bearer token from the file at path: the
// first word of the first line that is neither blank nor a comment ('#'),
// so that a line of the control plane's tokens file ("<token> <name>
// [scopes]") can be copied as it is. Errors never contain the token.
func LoadToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read token file: %w", err)
	}
	if len(data) > maxTokenFileBytes {
		return "", fmt.Errorf("token file %q: larger than %d bytes", path, maxTokenFileBytes)
	}
	for line := range strings.Lines(string(data)) {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		return fields[0], nil
	}
	return "", fmt.Errorf("token file %q: %w", path, errors.New("no token in it"))
}
