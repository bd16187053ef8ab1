package cache

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sidecard/sidecard/registry"
)

// savedSnapshot returns a snapshot with three entries, one removed again
// so that the revision is above every remaining entry's.
func savedSnapshot(t *testing.T) *Snapshot { return savedSnapshotFor(t) }

func savedSnapshotFor(t testing.TB) *Snapshot {
	t.Helper()
	r, _, clk := newTestReplica(t)
	r.ApplyDelta(Delta{
		Upserts:       []*registry.Entry{testEntry(t, "a", 1), testEntry(t, "b", 2), testEntry(t, "c", 3)},
		Versions:      map[string]string{"a": "va", "b": "vb", "c": "vc"},
		SystemVersion: "sys-7",
	})
	clk.Advance(time.Second)
	return r.Apply(nil, nil, []string{"c"})
}

func TestFileRoundTrip(t *testing.T) {
	want := savedSnapshot(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "replica.json")
	if err := writeFile(path, want, want.UpdatedAt().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, got, []string{"a", "b"}, map[string]string{"a": "va", "b": "vb"}, 3)
	if !got.UpdatedAt().Equal(want.UpdatedAt()) || got.SystemVersion() != "sys-7" {
		t.Errorf("UpdatedAt %v system %q, want %v %q", got.UpdatedAt(), got.SystemVersion(), want.UpdatedAt(), "sys-7")
	}
	for _, name := range []string{"a", "b"} {
		w, _ := want.Index().Get(name)
		g, _ := got.Index().Get(name)
		wj, _ := json.Marshal(w)
		gj, _ := json.Marshal(g)
		if !bytes.Equal(wj, gj) {
			t.Errorf("entry %q:\n got %s\nwant %s", name, gj, wj)
		}
	}
	if des, _ := os.ReadDir(dir); len(des) != 1 {
		t.Errorf("directory holds %d files after a write, want 1", len(des))
	}
}

func TestLoadFileMissing(t *testing.T) {
	_, err := LoadFile(filepath.Join(t.TempDir(), "replica.json"))
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want fs.ErrNotExist and not ErrCorrupt", err)
	}
}

func TestLoadFileIgnoresTempFiles(t *testing.T) {
	good := encoded(t, savedSnapshot(t))
	dir := t.TempDir()
	path := filepath.Join(dir, "replica.json")
	mustWrite(t, path, good)
	// A write that crashed before its rename leaves a partial temp file.
	mustWrite(t, path+tempInfix+"123", good[:len(good)/2])
	got, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != 2 {
		t.Errorf("Len = %d, want 2", got.Len())
	}
}

func TestLoadFileCorrupt(t *testing.T) {
	good := encoded(t, savedSnapshot(t))
	lines := strings.SplitAfter(string(good), "\n")
	header, entryA := lines[0], lines[1]
	tests := []struct {
		name string
		data []byte
	}{
		{"empty file", nil},
		{"not JSON", []byte("hello\n")},
		{"truncated in the header", good[:10]},
		{"truncated in an entry", good[:len(header)+len(entryA)/2]},
		{"truncated before the trailer", []byte(strings.Join(lines[:len(lines)-2], ""))},
		{"truncated in the trailer", good[:len(good)-4]},
		{"no final newline", good[:len(good)-1]},
		{"a changed byte", bytes.Replace(good, []byte("Forecasts"), []byte("Forecastz"), 1)},
		{"data after the trailer", append(slices.Clone(good), "{}\n"...)},
		{"another format", bytes.Replace(good, []byte(fileFormat), []byte("other"), 1)},
		{"fewer entries than announced", crafted(strings.Replace(header, `"entries":2`, `"entries":3`, 1), lines[1], lines[2])},
		{"an invalid entry", crafted(header, strings.Replace(entryA, `"name":"a"`, `"name":"Not A Name!"`, 1), lines[2])},
		{"a duplicate name", crafted(header, entryA, entryA)},
		{"an entry line without an entry", crafted(header, `{"version":"x"}`+"\n", lines[2])},
		{"an unknown field", crafted(header, strings.Replace(entryA, `{"version"`, `{"extra":1,"version"`, 1), lines[2])},
		{"no checksum", []byte(header + entryA + lines[2] + "{}\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "replica.json")
			mustWrite(t, path, tt.data)
			s, err := LoadFile(path)
			if !errors.Is(err, ErrCorrupt) || s != nil {
				t.Fatalf("LoadFile = %v, %v; want nil and an ErrCorrupt error", s, err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// encoded returns s in the replica file format.
func encoded(t testing.TB, s *Snapshot) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := encodeFile(&buf, s, s.UpdatedAt()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// crafted returns lines followed by a trailer with their correct checksum.
func crafted(lines ...string) []byte {
	body := strings.Join(lines, "")
	return []byte(body + fmt.Sprintf(`{"crc32c":%d}`+"\n", crc32.Checksum([]byte(body), crcTable)))
}

func mustWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// FuzzDecodeFile checks that no input makes the replica file parser panic
// and that whatever it accepts survives a write and a read unchanged.
func FuzzDecodeFile(f *testing.F) {
	good := encoded(f, savedSnapshotFor(f))
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeFile(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return
		}
		again, err := decodeFile(bufio.NewReader(bytes.NewReader(encoded(t, s))))
		if err != nil {
			t.Fatalf("re-reading an accepted file: %v", err)
		}
		if !maps.Equal(again.Versions(), s.Versions()) || again.Revision() != s.Revision() {
			t.Fatal("an accepted file changed through a write and a read")
		}
	})
}
