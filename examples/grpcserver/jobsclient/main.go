// Command jobsclient is a tiny client of the grpcserver example: it calls
// plangrep.v1.Jobs with the API key from the environment variable API_KEY
// (never a command-line argument, which other users of the machine can
// read) in the authorization metadata.
//
//	API_KEY=pgk_live_... go run ./examples/grpcserver/jobsclient [-addr 127.0.0.1:9090] list
//	API_KEY=pgk_live_... go run ./examples/grpcserver/jobsclient start NAME
//	API_KEY=pgk_live_... go run ./examples/grpcserver/jobsclient watch    # until Ctrl-C
//
// A refused call prints its gRPC code and message and exits 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/apikit/apikey/examples/grpcserver/jobsapi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv("API_KEY"), os.Stdout, os.Stderr))
}

// run is the command: 0 on success, 1 when the call fails, 2 on bad usage.
func run(ctx context.Context, args []string, key string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("jobsclient", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9090", "server address")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cmd := fs.Args()
	if len(cmd) == 0 || (cmd[0] == "start") != (len(cmd) == 2) || len(cmd) > 2 {
		fmt.Fprintln(stderr, "usage: jobsclient [-addr HOST:PORT] list | start NAME | watch")
		return 2
	}
	// Loopback demo: no TLS. Send keys only over TLS anywhere else.
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Fprintln(stderr, "jobsclient:", err)
		return 1
	}
	defer conn.Close()
	if key != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
	}
	c := jobsapi.NewClient(conn)
	switch cmd[0] {
	case "list":
		out, err := c.List(ctx)
		if err != nil {
			return failed(stderr, err)
		}
		for _, v := range out.GetValues() {
			printJSON(stdout, v)
		}
	case "start":
		job, err := c.Start(ctx, cmd[1])
		if err != nil {
			return failed(stderr, err)
		}
		printJSON(stdout, job)
	case "watch":
		s, err := c.Watch(ctx)
		if err != nil {
			return failed(stderr, err)
		}
		for {
			job, err := s.Recv()
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return 0
			}
			if err != nil {
				return failed(stderr, err)
			}
			printJSON(stdout, job)
		}
	default:
		fmt.Fprintf(stderr, "jobsclient: unknown command %q\n", cmd[0])
		return 2
	}
	return 0
}

// printJSON prints m as one line of JSON.
func printJSON(w io.Writer, m proto.Message) {
	b, _ := protojson.Marshal(m)
	fmt.Fprintln(w, string(b))
}

// failed prints a refused call's code and message.
func failed(stderr io.Writer, err error) int {
	st := status.Convert(err)
	fmt.Fprintf(stderr, "jobsclient: %s: %s\n", st.Code(), st.Message())
	return 1
}
