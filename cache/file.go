package cache

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sidecard/sidecard/registry"
)

// The replica file is JSON lines:
//
//	{"format":"sidecard-replica","format_version":1,"revision":42,...,"entries":2}
//	{"version":"41","entry":{...the entry in API form, card verbatim...}}
//	{"version":"42","entry":{...}}
//	{"crc32c":1234567890}
//
// The header announces the number of entry lines; the trailer holds the
// CRC-32C of every byte before it. A file cut short anywhere, or altered,
// fails to load.
const (
	fileFormat        = "sidecard-replica"
	fileFormatVersion = 1
	// tempInfix marks the temporary files a write goes through; LoadFile
	// never reads them and a Persister removes leftovers when it starts.
	tempInfix = ".tmp-"
)

// ErrCorrupt is wrapped by LoadFile's errors when the file exists but is
// not a complete, well-formed replica file.
var ErrCorrupt = errors.New("corrupt replica file")

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// fileHeader is the first line of a replica file.
type fileHeader struct {
	Format        string    `json:"format"`
	FormatVersion int       `json:"format_version"`
	Revision      int64     `json:"revision"`
	UpdatedAt     time.Time `json:"updated_at"`
	SavedAt       time.Time `json:"saved_at"`
	SystemVersion string    `json:"system_version,omitempty"`
	Entries       int       `json:"entries"`
}

// fileRecord is an entry line as written.
type fileRecord struct {
	Version string          `json:"version"`
	Entry   *registry.Entry `json:"entry"`
}

// fileRecordIn is an entry line as read: the entry is decoded separately so
// that its errors can be told apart from the line's.
type fileRecordIn struct {
	Version string          `json:"version"`
	Entry   json.RawMessage `json:"entry"`
}

// fileTrailer is the last line of a replica file.
type fileTrailer struct {
	CRC32C *uint32 `json:"crc32c"`
}

// LoadFile reads a replica file written by a Persister and returns its
// snapshot, ready for Replica.Restore. The snapshot's UpdatedAt is the time
// of the last update before the save. A missing file gives an error
// wrapping fs.ErrNotExist; a truncated or corrupt file, or one holding an
// invalid entry, gives an error wrapping ErrCorrupt. It never panics on bad
// input.
func LoadFile(path string) (*Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load replica file %q: %w", path, err)
	}
	defer f.Close()
	s, err := decodeFile(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("load replica file %q: %w: %w", path, ErrCorrupt, err)
	}
	return s, nil
}

// decodeFile parses a replica file from r.
func decodeFile(r *bufio.Reader) (*Snapshot, error) {
	crc := crc32.New(crcTable)
	var h fileHeader
	if err := readJSONLine(r, crc, &h); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if h.Format != fileFormat || h.FormatVersion != fileFormatVersion {
		return nil, fmt.Errorf("header: format %q version %d, want %q version %d",
			h.Format, h.FormatVersion, fileFormat, fileFormatVersion)
	}
	if h.Entries < 0 {
		return nil, fmt.Errorf("header: negative entry count %d", h.Entries)
	}
	s := &Snapshot{versions: newVersionTree(), revision: h.Revision,
		updatedAt: h.UpdatedAt, systemVersion: h.SystemVersion}
	entries := make([]*registry.Entry, 0, min(h.Entries, 1<<16))
	for i := range h.Entries {
		e, version, err := readRecord(r, crc)
		if err != nil {
			return nil, fmt.Errorf("entry line %d: %w", i+1, err)
		}
		if _, dup := s.versions.ReplaceOrInsert(versionItem{name: e.Name, version: version}); dup {
			return nil, fmt.Errorf("entry line %d: duplicate name %q", i+1, e.Name)
		}
		entries = append(entries, e)
		s.revision = max(s.revision, e.Revision)
	}
	if err := readTrailer(r, crc.Sum32()); err != nil {
		return nil, err
	}
	s.index = registry.NewIndex(entries...)
	return s, nil
}

// readRecord reads and validates one entry line.
func readRecord(r *bufio.Reader, crc hash.Hash32) (*registry.Entry, string, error) {
	var rec fileRecordIn
	if err := readJSONLine(r, crc, &rec); err != nil {
		return nil, "", err
	}
	if len(rec.Entry) == 0 {
		return nil, "", errors.New("no entry")
	}
	e := new(registry.Entry)
	if err := json.Unmarshal(rec.Entry, e); err != nil {
		return nil, "", fmt.Errorf("entry: %w", err)
	}
	if err := e.Validate(); err != nil {
		return nil, "", fmt.Errorf("entry %q: %w", e.Name, err)
	}
	return e, rec.Version, nil
}

// readTrailer reads the trailer, checks it against sum and checks that
// nothing follows it.
func readTrailer(r *bufio.Reader, sum uint32) error {
	var t fileTrailer
	if err := readJSONLine(r, nil, &t); err != nil {
		return fmt.Errorf("trailer: %w", err)
	}
	if t.CRC32C == nil {
		return errors.New("trailer: no checksum")
	}
	if *t.CRC32C != sum {
		return fmt.Errorf("trailer: checksum %08x, content has %08x", *t.CRC32C, sum)
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return errors.New("data after the trailer")
	}
	return nil
}

// readJSONLine reads one newline-terminated line, adds it to crc (when not
// nil) and decodes it into v, rejecting unknown fields.
func readJSONLine(r *bufio.Reader, crc hash.Hash32, v any) error {
	line, err := r.ReadBytes('\n')
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	if err != nil {
		return err
	}
	if crc != nil {
		crc.Write(line)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// writeFile writes s to path atomically: a temporary file in the same
// directory is written, fsynced and renamed over path, then the directory
// is fsynced. On error path is unchanged and the temporary file removed.
func writeFile(path string, s *Snapshot, savedAt time.Time) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, base+tempInfix+"*")
	if err != nil {
		return fmt.Errorf("write replica file %q: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("write replica file %q: %w", path, err)
		}
	}()
	w := bufio.NewWriterSize(f, 64<<10)
	if err := encodeFile(w, s, savedAt); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// encodeFile writes s in the replica file format to w.
func encodeFile(w io.Writer, s *Snapshot, savedAt time.Time) error {
	crc := crc32.New(crcTable)
	enc := json.NewEncoder(io.MultiWriter(w, crc))
	enc.SetEscapeHTML(false)
	h := fileHeader{Format: fileFormat, FormatVersion: fileFormatVersion, Revision: s.revision,
		UpdatedAt: s.updatedAt, SavedAt: savedAt, SystemVersion: s.systemVersion, Entries: s.Len()}
	if err := enc.Encode(h); err != nil {
		return err
	}
	var err error
	s.index.Range(func(e *registry.Entry) bool {
		v, _ := s.Version(e.Name)
		err = enc.Encode(fileRecord{Version: v, Entry: e})
		return err == nil
	})
	if err != nil {
		return err
	}
	sum := crc.Sum32()
	tail := json.NewEncoder(w)
	return tail.Encode(fileTrailer{CRC32C: &sum})
}

// syncDir fsyncs directory dir so that a rename in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// removeTemps removes temporary files left in path's directory by writes
// that did not finish (a crash between create and rename).
func removeTemps(path string) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("remove temporary replica files: %w", err)
	}
	var errs []error
	for _, de := range des {
		if !de.IsDir() && strings.HasPrefix(de.Name(), base+tempInfix) {
			if err := os.Remove(filepath.Join(dir, de.Name())); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
