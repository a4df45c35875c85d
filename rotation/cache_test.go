package rotation_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/rotation"
)

// TestSchedulerRotationRefreshesCache checks that a scheduled rotation with
// no grace drops the old key's entry, like Manager.Rotate.
func TestSchedulerRotationRefreshesCache(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, apikey.WithCache(apikey.CacheOptions{TTL: 24 * time.Hour}))
	is := r.create(t, time.Hour, "")
	_, err := r.m.Verify(ctx, is.Token.Reveal())
	require.NoError(t, err)
	var successor string
	s, err := rotation.NewScheduler(r.m, rotation.WithGrace(0),
		rotation.WithDelivery(func(_ context.Context, e rotation.Event, _ apikey.Secret) error {
			successor = e.Key.Reveal()
			return nil
		}))
	require.NoError(t, err)
	r.clock.Advance(time.Hour)
	rep, err := s.RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Count(rotation.Committed))
	_, err = r.m.Verify(ctx, is.Token.Reveal())
	require.ErrorIs(t, err, apikey.ErrRevoked)
	_, err = r.m.Verify(ctx, successor)
	require.NoError(t, err)
}
