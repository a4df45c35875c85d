// Package storeerr turns store failures into the errors callers of the
// subpackages (rotation, follow) see, as the Manager does for its own
// calls: sentinel errors pass through, anything else becomes
// apikey.ErrStoreUnavailable naming the operation.
package storeerr

import (
	"errors"
	"fmt"

	"github.com/apikit/apikey"
)

// passThrough are the errors a store returns on purpose.
var passThrough = [...]error{apikey.ErrNotFound, apikey.ErrConflict, apikey.ErrAlreadyExists,
	apikey.ErrInvalid, apikey.ErrChangesTrimmed}

// Wrap returns nil for nil, err itself when it is one of the sentinel
// errors a store returns on purpose, and otherwise an error wrapping both
// apikey.ErrStoreUnavailable and err, naming op.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	for _, e := range passThrough {
		if errors.Is(err, e) {
			return err
		}
	}
	return fmt.Errorf("%w: %s: %w", apikey.ErrStoreUnavailable, op, err)
}
