// Package view keeps an immutable in-memory index of the control plane's
// registry current by following the store's change feed.
//
// A View serves reads (searches, listings) without touching the store. It is
// eventually consistent; WaitFor lets a reader wait until the view has caught
// up with a store revision it knows of, so that a listing after a write sees
// the write. The package does not write to the store and does not serve HTTP.
package view
