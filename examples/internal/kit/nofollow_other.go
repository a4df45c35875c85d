//go:build !unix

package kit

import (
	"fmt"
	"os"
)

// openNoFollow opens path for reading, failing on a symlink (checked with
// Lstat first: there is no O_NOFOLLOW here).
func openNoFollow(path string) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("%s is a symlink", path)
	}
	return os.Open(path)
}
