package agent

import (
	"math/rand/v2"
	"time"
)

// Backoff spaces reconnection attempts: "full jitter" exponential backoff,
// a random wait between zero and min(Max, Base·2^attempt), so that
// thousands of agents reconnecting to a restarted hub spread out instead
// of arriving together.
type Backoff struct {
	Base, Max time.Duration
}

// Next is the wait before retry number attempt (0 for the first retry).
func (b Backoff) Next(attempt int) time.Duration {
	ceiling := b.Max
	if attempt < 30 && b.Base<<attempt < ceiling && b.Base<<attempt > 0 {
		ceiling = b.Base << attempt
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceiling))) + 1
}
