package apikey

import (
	"crypto/hmac"
	"crypto/rand"
	"testing"
)

// TestEqualHashMatchesHMACEqual checks equalHash against hmac.Equal: equal
// inputs, one differing bit at every position, and other lengths.
func TestEqualHashMatchesHMACEqual(t *testing.T) {
	a := make([]byte, 32)
	_, _ = rand.Read(a)
	if !equalHash(a, append([]byte(nil), a...)) {
		t.Fatal("equal hashes compare unequal")
	}
	for bit := 0; bit < 32*8; bit++ {
		b := append([]byte(nil), a...)
		b[bit/8] ^= 1 << (bit % 8)
		if equalHash(a, b) || equalHash(b, a) {
			t.Fatalf("hashes differing in bit %d compare equal", bit)
		}
	}
	for _, n := range []int{0, 1, 31, 33, 64} {
		b := make([]byte, n)
		if got, want := equalHash(a, b), hmac.Equal(a, b); got != want {
			t.Errorf("len %d: equalHash = %v, hmac.Equal = %v", n, got, want)
		}
		c := make([]byte, n)
		if got, want := equalHash(c, b), hmac.Equal(c, b); got != want {
			t.Errorf("len %d/%d: equalHash = %v, hmac.Equal = %v", n, n, got, want)
		}
	}
}
