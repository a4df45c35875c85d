// Package kit is the plumbing the example servers share: flags, opening the
// store named by -db, the server secret, the -dev clock, strict JSON
// decoding and graceful shutdown. It holds nothing specific to any of the
// three source products; each server's own package holds those.
package kit
