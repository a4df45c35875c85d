package apikey

import "fmt"

// minPepperDistinct is the fewest distinct byte values a pepper may hold.
// Thirty-two random bytes hold about 30; a pepper with fewer than 8 is a
// placeholder (zeros, "aaaa...", a short word repeated), not a secret.
const minPepperDistinct = 8

// checkPepperEntropy refuses a pepper that obviously holds no entropy: too
// few distinct byte values, or an arithmetic sequence (0, 1, 2, ...). It
// cannot prove a pepper random; it only catches the placeholders that end
// up in configuration by mistake.
func checkPepperEntropy(pepper []byte) error {
	var seen [256]bool
	distinct := 0
	for _, b := range pepper {
		if !seen[b] {
			seen[b] = true
			distinct++
		}
	}
	if distinct < minPepperDistinct {
		return fmt.Errorf("%w: pepper holds only %d distinct byte values: use %d random bytes", ErrInvalid, distinct, MinPepperLen)
	}
	step := pepper[1] - pepper[0]
	for i := 2; i < len(pepper); i++ {
		if pepper[i]-pepper[i-1] != step {
			return nil
		}
	}
	return fmt.Errorf("%w: pepper is a counting sequence: use %d random bytes", ErrInvalid, MinPepperLen)
}
