package faultstore

import "github.com/apikit/apikey"

// Corruption damages a record on its way out of the store. It receives the
// caller's own copy of a non-nil record and returns what the caller gets.
type Corruption func(k *apikey.Key) *apikey.Key

// UnknownVersion is the hash version UnknownHashVersion writes: no Manager
// registers it.
const UnknownVersion = "faultstore-unknown"

// WrongHash flips one bit of the stored hash, as a torn write or a bad
// replica would.
func WrongHash(k *apikey.Key) *apikey.Key {
	if len(k.Hash) == 0 {
		k.Hash = []byte{1}
		return k
	}
	h := append([]byte(nil), k.Hash...)
	h[len(h)-1] ^= 1
	k.Hash = h
	return k
}

// EmptyHash drops the stored hash.
func EmptyHash(k *apikey.Key) *apikey.Key {
	k.Hash = nil
	return k
}

// TruncatedHash keeps only the first half of the stored hash.
func TruncatedHash(k *apikey.Key) *apikey.Key {
	k.Hash = append([]byte(nil), k.Hash[:len(k.Hash)/2]...)
	return k
}

// UnknownHashVersion names a hash version no Manager registers.
func UnknownHashVersion(k *apikey.Key) *apikey.Key {
	k.HashVersion = UnknownVersion
	return k
}

// Substitute returns a copy of other in place of every record: the store
// answers a lookup with another key's record (another Lookup, ID and hash).
func Substitute(other *apikey.Key) Corruption {
	other = other.Clone()
	return func(*apikey.Key) *apikey.Key { return other.Clone() }
}

// Chain applies cs in order.
func Chain(cs ...Corruption) Corruption {
	return func(k *apikey.Key) *apikey.Key {
		for _, c := range cs {
			if k == nil {
				return nil
			}
			k = c(k)
		}
		return k
	}
}
