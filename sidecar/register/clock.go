package register

import "time"

// Clock is the time source of a Registrar and of a Client's backoff. Tests
// inject a fake one; nil in options means the real clock.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives once, d from now.
	After(d time.Duration) <-chan time.Time
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// clockOrReal returns c, or the real clock when c is nil.
func clockOrReal(c Clock) Clock {
	if c == nil {
		return realClock{}
	}
	return c
}
