package apikey

import "math/big"

// alphabet is the base62 alphabet of token bodies, in ascending value order.
const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// b62val maps a byte to its base62 value plus one; zero means "not base62".
var b62val = func() (t [256]byte) {
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i + 1)
	}
	return t
}()

// encodeBase62 appends the fixed-width base62 encoding of the big-endian
// number b to dst, left-padded with '0' to width characters.
func encodeBase62(dst []byte, b []byte, width int) []byte {
	n := new(big.Int).SetBytes(b)
	out := make([]byte, width)
	base := big.NewInt(62)
	rem := new(big.Int)
	for i := width - 1; i >= 0; i-- {
		n.QuoRem(n, base, rem)
		out[i] = alphabet[rem.Int64()]
	}
	return append(dst, out...)
}

// encodeUint32 appends v as exactly 6 base62 characters (62^6 > 2^32).
func encodeUint32(dst []byte, v uint32) []byte {
	var out [checksumLen]byte
	x := uint64(v)
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = alphabet[x%62]
		x /= 62
	}
	return append(dst, out[:]...)
}

// decodeUint32 decodes 6 base62 characters; ok is false on a bad character
// or a value that does not fit in 32 bits.
func decodeUint32(s string) (v uint32, ok bool) {
	if len(s) != checksumLen {
		return 0, false
	}
	var x uint64
	for i := 0; i < len(s); i++ {
		d := b62val[s[i]]
		if d == 0 {
			return 0, false
		}
		x = x*62 + uint64(d-1)
	}
	if x > 0xFFFFFFFF {
		return 0, false
	}
	return uint32(x), true
}

// isBase62 reports whether every byte of s is in the base62 alphabet.
func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		if b62val[s[i]] == 0 {
			return false
		}
	}
	return true
}
