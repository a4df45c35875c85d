// Package grpcauth is a placeholder.
package grpcauth
