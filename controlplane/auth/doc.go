// Package auth authenticates requests to the control plane's HTTP APIs with
// bearer tokens read from a tokens file, and says what each token may do.
//
// It answers "is this Authorization header one of the configured tokens,
// whose is it and which scopes (read, write, admin) does it have"
// (Tokens.Check, Identity), and carries that answer in a request's context
// (NewContext, FromContext). It does not watch the file (the caller reloads
// and swaps the *Tokens it hands out), rate-limit, or decide per entry: the
// API handlers compare scopes, and the store enforces who may change which
// entry.
package auth
