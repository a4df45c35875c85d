package apikey

import "unsafe"

// viewBytes returns a read-only byte view of s without copying. The hot
// path uses it to feed a token to a hash or checksum without allocating;
// callers must never write to the result.
func viewBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
