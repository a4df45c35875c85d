package apikey

import (
	"fmt"
	"io"
)

// WithTestEntropy makes the Manager draw the random bytes of new tokens
// and key IDs from r instead of crypto/rand, so that a test seeded the
// same way gets the same tokens and IDs on every run (package apikeytest
// does this with a seeded ChaCha8).
//
// FOR TESTS ONLY: NEVER USE IT IN PRODUCTION. Whoever knows or can guess
// r's output can compute every token the Manager issues. New logs a
// warning when it is set. It changes nothing else: hashing, verification
// and webhook secrets are as without it.
func WithTestEntropy(r io.Reader) Option {
	return func(c *config) error {
		if r == nil {
			return fmt.Errorf("%w: WithTestEntropy(nil)", ErrInvalid)
		}
		c.testEntropy = r
		return nil
	}
}
