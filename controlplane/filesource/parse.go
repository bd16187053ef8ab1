package filesource

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/sidecard/sidecard/registry"
)

// fileEntry is one entry read from a registry file.
type fileEntry struct {
	entry *registry.Entry
	index int // position in the file, from 0
	line  int // line the entry starts on
}

// parseFile parses the content of the registry file at path (which only
// names it in errors and picks the format by its extension) into entries.
//
// A file holds one entry (a mapping) or a list of entries (a sequence); a
// YAML file may hold several documents, each one entry or a list, numbered
// on across documents. An entry is the API form of an entry or a bare card,
// as registry.ParseEntry reads them, without ttl_seconds: a file entry is not
// a lease (nothing could renew it, so it would expire and come back at every
// Sync), and ttl_seconds other than 0 is an error. A file holding only
// comments holds no entries; a file with nothing but white space is an
// error, since that is what a reader sees between the truncation and the
// write of an in-place save, and its previous entries must stay until the
// write lands. The same name twice in a file is an error. Errors read
// "path:line: entry[i]: field: message".
func parseFile(path string, data []byte) ([]fileEntry, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s: the file is empty; its previous entries stay (delete the file, "+
			"or leave only a comment, to remove them)", path)
	}
	docs, err := documents(path, data)
	if err != nil {
		return nil, located(path, err)
	}
	items, err := entryValues(docs)
	if err != nil {
		return nil, located(path, err)
	}
	entries := make([]fileEntry, 0, len(items))
	seen := make(map[string]int, len(items)) // name → index in entries
	for i, item := range items {
		e, err := registry.ParseEntry(item.encode(), "")
		if err != nil {
			line := item.line
			if fe, ok := registry.AsFieldError(err); ok {
				line = item.lineOf(fe.Field)
			}
			return nil, fmt.Errorf("%s:%d: entry[%d]: %w", path, line, i, err)
		}
		if e.TTLSeconds != 0 {
			return nil, fmt.Errorf("%s:%d: entry[%d]: ttl_seconds: not allowed in a registry file: "+
				"an entry of a file lives as long as the file defines it (a lease is for API writes)",
				path, item.lineOf("ttl_seconds"), i)
		}
		if j, dup := seen[e.Name]; dup {
			return nil, fmt.Errorf("%s:%d: entry[%d]: name %q already defined at line %d (entry[%d])",
				path, item.line, i, e.Name, entries[j].line, j)
		}
		seen[e.Name] = len(entries)
		entries = append(entries, fileEntry{entry: e, index: i, line: item.line})
	}
	return entries, nil
}

// documents parses data as JSON or YAML, by the extension of path.
func documents(path string, data []byte) ([]*value, error) {
	if strings.EqualFold(filepath.Ext(path), ".json") {
		doc, err := jsonDocument(data)
		if doc == nil || err != nil {
			return nil, err
		}
		return []*value{doc}, nil
	}
	return yamlDocuments(data)
}

// entryValues returns the entries the documents hold: a mapping is one
// entry, a sequence a list of them.
func entryValues(docs []*value) ([]*value, error) {
	var items []*value
	for _, doc := range docs {
		switch doc.kind {
		case kindObject:
			items = append(items, doc)
		case kindArray:
			for _, it := range doc.items {
				if it.kind != kindObject {
					return nil, errAt(it.line, "entry[%d]: an entry must be a mapping", len(items))
				}
				items = append(items, it)
			}
		default:
			return nil, errAt(doc.line, "expected an entry (a mapping) or a list of entries (a sequence)")
		}
	}
	return items, nil
}

// located prefixes err with path, and its line when it has one.
func located(path string, err error) error {
	var le *lineError
	if errors.As(err, &le) {
		return fmt.Errorf("%s:%d: %s", path, le.line, le.msg)
	}
	return fmt.Errorf("%s: %w", path, err)
}
