// Package lease drives the expiry of registry leases over time: an
// Expirer sleeps until the store's next lease expiry, then has the store
// delete every expired entry, each deletion a normal change that reaches
// every sidecar through the change feed.
//
// The package holds no lease state: expiries, renewals and the grace period
// after a restart live in the store (package store), which persists them.
// It is not the API's heartbeat either; the API renews leases through the
// store directly.
package lease
