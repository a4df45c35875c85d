package apikey_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

// WithPepper refuses a pepper that obviously holds no entropy: one byte
// repeated, a handful of distinct bytes, a counting sequence.
func TestWithPepperRefusesNoEntropy(t *testing.T) {
	seq := make([]byte, 32)
	for i := range seq {
		seq[i] = byte(i)
	}
	tests := []struct {
		name   string
		pepper []byte
		ok     bool
	}{
		{"zeros", make([]byte, 32), false},
		{"one letter", bytes.Repeat([]byte("a"), 40), false},
		{"two letters", bytes.Repeat([]byte("ab"), 20), false},
		{"few distinct", bytes.Repeat([]byte("abcdef"), 6), false},
		{"counting", seq, false},
		{"test pepper", pepperV1, true},
		{"hex text", []byte("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", tt.pepper))
			if tt.ok && err != nil || !tt.ok && !errors.Is(err, apikey.ErrInvalid) {
				t.Fatalf("New with pepper %q: %v, want ok=%v", tt.pepper, err, tt.ok)
			}
		})
	}
}
