// Package auth authenticates writes to the control plane's HTTP API with
// bearer tokens read from a tokens file.
//
// It only answers "is this Authorization header one of the configured
// tokens, and whose is it"; it does not watch the file (the caller reloads
// and swaps the *Tokens it hands out), rate-limit, or authorise per entry.
package auth
