package filesource

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// maxFileBytes bounds the size of one registry file.
const maxFileBytes = 32 << 20

// fileLoad is the outcome of reading one registry file, or one directory
// that could not be read (dir set, err set). A fileLoad is a value; its
// entries are shared and never modified.
type fileLoad struct {
	path    string
	dir     bool
	sum     [sha256.Size]byte // of the content
	entries []fileEntry       // when err is nil
	err     error
}

// loadAll reads and parses every registry file of dirs, in path order.
// A file whose content has the same hash as in cache is not parsed again.
// The returned cache holds the parse of every file read this time.
func loadAll(dirs []string, cache map[string]fileLoad) ([]fileLoad, map[string]fileLoad) {
	paths, dirErrs := listFiles(dirs)
	next := make(map[string]fileLoad, len(paths))
	loads := dirErrs
	for _, path := range paths {
		data, err := readFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // removed since it was listed
		case err != nil:
			loads = append(loads, fileLoad{path: path, err: err}) // names path
			continue
		}
		sum := sha256.Sum256(data)
		l, ok := cache[path]
		if !ok || l.sum != sum {
			l = fileLoad{path: path, sum: sum}
			l.entries, l.err = parseFile(path, data)
		}
		next[path] = l
		loads = append(loads, l)
	}
	slices.SortFunc(loads, func(a, b fileLoad) int { return strings.Compare(a.path, b.path) })
	return loads, next
}

// listFiles returns the paths of the registry files in dirs (not in their
// subdirectories), sorted, and a failed fileLoad for each directory that
// could not be read. Registry files end in .yaml, .yml or .json; names
// starting with '.' (editor and Kubernetes ConfigMap internals) are skipped;
// symbolic links are followed.
func listFiles(dirs []string) ([]string, []fileLoad) {
	var paths []string
	var failed []fileLoad
	for _, dir := range dirs {
		des, err := os.ReadDir(dir)
		if err != nil {
			failed = append(failed, fileLoad{path: dir, dir: true, err: fmt.Errorf("read registry directory: %w", err)})
			continue
		}
		for _, de := range des {
			if isRegistryFile(dir, de) {
				paths = append(paths, filepath.Join(dir, de.Name()))
			}
		}
	}
	slices.Sort(paths)
	return slices.Compact(paths), failed
}

// IsRegistryName reports whether path (a file name or a path) names a
// registry file: its base name ends in .yaml, .yml or .json, in any case,
// and does not start with '.'. A watcher of the registry directories filters
// its events with it.
func IsRegistryName(path string) bool {
	name := filepath.Base(path)
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return !strings.HasPrefix(name, ".")
	}
	return false
}

// isRegistryFile reports whether de, in dir, is a registry file.
func isRegistryFile(dir string, de fs.DirEntry) bool {
	name := de.Name()
	if !IsRegistryName(name) {
		return false
	}
	if de.Type()&fs.ModeSymlink != 0 {
		fi, err := os.Stat(filepath.Join(dir, name))
		return err == nil && fi.Mode().IsRegular()
	}
	return de.Type().IsRegular()
}

// readFile reads the file at path, refusing files over maxFileBytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxFileBytes)
	}
	return data, nil
}
