package apikey

import "time"

// Credits are a key's usage credits (SPEC D1): every successful request
// spends one (or the cost the application passes); at zero the key is
// refused with ErrUsageExceeded until a refill. With RefillInterval set,
// Remaining is reset to RefillAmount at every interval, counted from
// LastRefill on the manager's clock.
//
// In a Key read from the store, Remaining is what the store holds: the
// processes serving the key may each hold a lease of credits taken from it
// and not spent yet (see Manager.FlushCredits).
type Credits struct {
	// Remaining is the number of credits left; 0 to MaxCredits.
	Remaining int64 `json:"remaining"`
	// RefillAmount is what Remaining is reset to at every refill; 0 to
	// MaxCredits. Ignored without RefillInterval.
	RefillAmount int64 `json:"refillAmount,omitempty"`
	// RefillInterval is the time between refills; zero means no refill,
	// otherwise 1 s to one year.
	RefillInterval time.Duration `json:"refillInterval,omitempty"`
	// LastRefill is the instant of the last refill (set at creation when
	// RefillInterval is set): the next one is due at LastRefill +
	// RefillInterval. It also identifies the credit period for leases.
	LastRefill time.Time `json:"lastRefill,omitzero"`
}

// MaxCredits bounds Remaining and RefillAmount (one quadrillion), far from
// int64 overflow whatever the costs added.
const MaxCredits int64 = 1_000_000_000_000_000

// Refilled returns c as it stands at now: when a refill is due, Remaining
// becomes RefillAmount and LastRefill moves forward by whole intervals (so
// refills do not drift with the instant they are noticed). Stores call it
// inside TakeCredits.
func (c Credits) Refilled(now time.Time) Credits {
	if c.RefillInterval <= 0 {
		return c
	}
	if c.LastRefill.IsZero() {
		c.LastRefill = now
		c.Remaining = c.RefillAmount
		return c
	}
	if d := now.Sub(c.LastRefill); d >= c.RefillInterval {
		c.LastRefill = c.LastRefill.Add(d / c.RefillInterval * c.RefillInterval)
		c.Remaining = c.RefillAmount
	}
	return c
}

// NextRefill returns when the next refill is due, or the zero time without
// refills.
func (c Credits) NextRefill() time.Time {
	if c.RefillInterval <= 0 || c.LastRefill.IsZero() {
		return time.Time{}
	}
	return c.LastRefill.Add(c.RefillInterval)
}

// CreditLease is the answer of Store.TakeCredits.
type CreditLease struct {
	// Granted is how many credits were taken (0 when none were left).
	Granted int64
	// Left is what the store holds after the take.
	Left int64
	// Period identifies the credit period the credits belong to (the
	// LastRefill after any refill the take applied); ReturnCredits hands
	// credits back only into the same period.
	Period time.Time
	// Expires, when non-zero, is the next refill: credits of this period
	// must not be spent from that instant on.
	Expires time.Time
	// Unlimited reports that the key has no credits (nothing was taken).
	Unlimited bool
}
