//go:build unix

package kit

import (
	"os"
	"syscall"
)

// openNoFollow opens path for reading, failing on a symlink (O_NOFOLLOW).
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
}
