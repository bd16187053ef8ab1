package registry

import (
	"fmt"
	"strings"
)

// MaxNameLen is the maximum length of an entry name (a DNS subdomain).
const MaxNameLen = 253

// Label limits, as in Kubernetes.
const (
	maxLabels        = 64 // labels per entry
	maxLabelNameLen  = 63 // the name part of a key
	maxLabelValueLen = 63 // a value
)

// ValidateName reports whether name is a valid entry name: a DNS subdomain
// (RFC 1123, as Kubernetes checks it) of at most 253 characters, made of
// dot-separated labels of lowercase letters, digits and '-', each starting and
// ending with a letter or digit. The error is a *FieldError for field "name".
func ValidateName(name string) error {
	if msg := subdomainProblem(name); msg != "" {
		return fieldErr("name", msg)
	}
	return nil
}

// subdomainProblem describes why s is not a DNS subdomain, or returns "".
func subdomainProblem(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case len(s) > MaxNameLen:
		return fmt.Sprintf("must be at most %d characters", MaxNameLen)
	}
	for label := range strings.SplitSeq(s, ".") {
		if !isDNSLabel(label) {
			return fmt.Sprintf("%q is not a DNS subdomain: use lowercase letters, digits, '-' and '.', "+
				"each dot-separated part starting and ending with a letter or digit", s)
		}
	}
	return ""
}

// isDNSLabel reports whether s is non-empty, made of [a-z0-9-] and starts and
// ends with [a-z0-9].
func isDNSLabel(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerAlnum(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

func isAlnum(c byte) bool { return isLowerAlnum(c) || 'A' <= c && c <= 'Z' }

// DeriveName derives an entry name from an agent card's name: the name is
// lowercased, a lone '.' between letters or digits is kept, every other run
// of characters outside [a-z0-9] becomes one '-', separators at the ends are
// trimmed and the result is cut to 253 characters. It returns "" when nothing
// usable remains. A non-empty result always passes ValidateName.
func DeriveName(cardName string) string {
	lower := strings.ToLower(cardName)
	var b strings.Builder
	b.Grow(min(len(lower), MaxNameLen))
	run := 0 // length in bytes of the current run of separators
	dotOnly := true
	for i := 0; i < len(lower) && b.Len() < MaxNameLen; i++ {
		c := lower[i]
		if !isLowerAlnum(c) {
			run++
			dotOnly = dotOnly && c == '.'
			continue
		}
		if run > 0 && b.Len() > 0 {
			b.WriteByte(separator(run, dotOnly))
		}
		run, dotOnly = 0, true
		if b.Len() < MaxNameLen {
			b.WriteByte(c)
		}
	}
	return strings.TrimRight(b.String(), "-.")
}

// separator is what a run of n non-alphanumeric bytes becomes in a name.
func separator(n int, dotOnly bool) byte {
	if n == 1 && dotOnly {
		return '.'
	}
	return '-'
}

// validateLabel checks one label key and value as Kubernetes does. The key is
// an optional DNS-subdomain prefix and '/', then a name of at most 63
// characters of [A-Za-z0-9_.-] starting and ending with a letter or digit; the
// value is empty or follows the rules of that name.
func validateLabel(key, value string) error {
	field := "labels." + key
	if msg := labelKeyProblem(key); msg != "" {
		return fieldErr(field, "invalid key: "+msg)
	}
	if value != "" && !isLabelName(value) {
		return fieldErr(field, fmt.Sprintf("invalid value %q: at most %d characters of "+
			"[A-Za-z0-9_.-], starting and ending with a letter or digit, or empty", value, maxLabelValueLen))
	}
	return nil
}

// labelKeyProblem describes why key is not a label key, or returns "".
func labelKeyProblem(key string) string {
	name := key
	if prefix, rest, ok := strings.Cut(key, "/"); ok {
		if msg := subdomainProblem(prefix); msg != "" {
			return "prefix " + msg
		}
		name = rest
	}
	if !isLabelName(name) {
		return fmt.Sprintf("name %q must be at most %d characters of [A-Za-z0-9_.-], "+
			"starting and ending with a letter or digit", name, maxLabelNameLen)
	}
	return ""
}

// isLabelName reports whether s is 1 to 63 characters of [A-Za-z0-9_.-]
// starting and ending with a letter or digit.
func isLabelName(s string) bool {
	if s == "" || len(s) > maxLabelNameLen || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}
