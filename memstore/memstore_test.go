package memstore_test

import (
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) apikey.Store { return memstore.New() })
}
