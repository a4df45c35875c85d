// Package rotation_test holds the scheduled-rotation tests that need real
// SQL engines: several schedulers on one database rotate each due key
// exactly once.
package rotation_test
