package store

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sidecard/sidecard/registry"
)

// testCard is a valid A2A v0.3 card; %s is its name.
const testCard = `{"protocolVersion":"0.3.0","name":%q,"description":"d","url":"http://10.0.0.7:9001",` +
	`"version":"1.0.0","capabilities":{},"defaultInputModes":["text/plain"],"defaultOutputModes":["text/plain"],` +
	`"skills":[{"id":"forecast","name":"Forecast","description":"d","tags":["weather"]}]}`

// entry returns a valid entry called name with the given labels (key, value pairs).
func entry(t testing.TB, name string, labels ...string) *registry.Entry {
	t.Helper()
	l := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		l[labels[i]] = labels[i+1]
	}
	lj, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	js := fmt.Sprintf(`{"name":%q,"labels":%s,"card":`+testCard+`}`, name, lj, name)
	e := new(registry.Entry)
	if err := json.Unmarshal([]byte(js), e); err != nil {
		t.Fatalf("test entry %q: %v", name, err)
	}
	return e
}

// clock is a fake clock that advances by one second at every reading.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2026, 11, 22, 12, 0, 0, 123456789, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

// openAt opens the store at path and closes it when the test ends (unless the
// test closed it already).
func openAt(t testing.TB, path string, opts Options) *Bolt {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// open opens a store in a fresh temporary directory.
func open(t testing.TB, opts Options) *Bolt {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "registry.db"), opts)
}

// mustPut puts e with p and fails the test on error.
func mustPut(t testing.TB, s *Bolt, e *registry.Entry, p Precondition) *registry.Entry {
	t.Helper()
	stored, _, err := s.Put(t.Context(), e, p)
	if err != nil {
		t.Fatalf("Put %q: %v", e.Name, err)
	}
	return stored
}

// closed reports whether ch is closed, without blocking.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
