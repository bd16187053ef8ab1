package lease

import "time"

// Clock is the time source of an Expirer. Tests inject a fake one; nil in
// Options means the system clock. It must agree with the clock the store
// sets expiries with (store.Options.Now).
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives once, d from now.
	After(d time.Duration) <-chan time.Time
}

// systemClock is the wall clock.
type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
