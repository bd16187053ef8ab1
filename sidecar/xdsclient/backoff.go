package xdsclient

import (
	"math/rand/v2"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// jitterBackoff is exponential backoff with full jitter: the n-th wait is
// uniform in (0, min(Max, Initial·2ⁿ)], which spreads the reconnections of
// many sidecars after a control-plane restart. It is not safe for
// concurrent use.
type jitterBackoff struct {
	exp *backoff.ExponentialBackOff // without randomisation: the ceiling
}

var _ backoff.BackOff = (*jitterBackoff)(nil)

func newJitterBackoff(o BackoffOptions) *jitterBackoff {
	return &jitterBackoff{exp: backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(o.Initial),
		backoff.WithMaxInterval(o.Max),
		backoff.WithMultiplier(2),
		backoff.WithRandomizationFactor(0),
		backoff.WithMaxElapsedTime(0), // never give up
	)}
}

// NextBackOff returns the next wait; never backoff.Stop.
func (b *jitterBackoff) NextBackOff() time.Duration {
	ceiling := b.exp.NextBackOff()
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceiling))) + 1
}

// Reset starts over from the initial interval.
func (b *jitterBackoff) Reset() { b.exp.Reset() }
