// Command sleeper is proctest's test subject: it serves HTTP on -addr,
// logs to standard error, and on SIGTERM exits with -exit (0 by default).
// With -ignore-term it ignores SIGTERM instead.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	code := flag.Int("exit", 0, "exit status after SIGTERM")
	ignore := flag.Bool("ignore-term", false, "ignore SIGTERM")
	flag.Parse()
	sig := make(chan os.Signal, 1)
	if *ignore {
		signal.Ignore(syscall.SIGTERM)
	} else {
		signal.Notify(sig, syscall.SIGTERM)
	}
	go func() {
		fmt.Fprintln(os.Stderr, "sleeper env:", os.Getenv("PROCTEST_MARK"))
		_ = http.ListenAndServe(*addr, http.NotFoundHandler())
	}()
	<-sig
	fmt.Fprintln(os.Stderr, "sleeper got SIGTERM")
	os.Exit(*code)
}
