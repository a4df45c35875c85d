//go:build !unix

package main

import "time"

// selfCPU is not measured outside Unix systems.
func selfCPU() time.Duration { return 0 }
