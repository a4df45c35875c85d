package kit

import (
	"time"

	"github.com/apikit/apikey"
)

// AuthThrottle returns the middleware options that throttle failed key
// verifications to perMinute per client address (429 with Retry-After
// beyond), or none when perMinute is 0 or less.
func AuthThrottle(perMinute int) ([]apikey.MiddlewareOption, error) {
	if perMinute <= 0 {
		return nil, nil
	}
	t, err := apikey.NewFailureThrottle(apikey.ThrottleOptions{Failures: perMinute, Per: time.Minute})
	if err != nil {
		return nil, err
	}
	return []apikey.MiddlewareOption{apikey.WithFailureThrottle(t)}, nil
}
