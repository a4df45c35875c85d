package main

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestBinary builds the server, runs it with ADMIN_TOKEN from the
// environment, checks it answers, and checks SIGTERM makes it exit 0.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "projectkeys")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	cmd := exec.Command(bin, "-addr", addr, "-db", "sqlite:"+filepath.Join(dir, "pk.db"), "-rotation-check", "50ms")
	cmd.Env = append(os.Environ(), "ADMIN_TOKEN="+testAdmin, "APIKEY_SECRET=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // after a clean exit: a no-op error

	// Wait for the listener (polling, no timing assertion).
	var res *http.Response
	for i := 0; ; i++ {
		req, _ := http.NewRequest("GET", "http://"+addr+"/v1/whoami", nil)
		req.Header.Set("Authorization", "Bearer "+testAdmin)
		res, err = http.DefaultClient.Do(req)
		if err == nil {
			break
		}
		if i == 200 {
			t.Fatalf("server never answered: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var who map[string]any
	if err := json.NewDecoder(res.Body).Decode(&who); err != nil || res.StatusCode != 200 || who["admin"] != true {
		t.Fatalf("whoami %d %v %v", res.StatusCode, who, err)
	}
	res.Body.Close()
	res, err = http.Post("http://"+addr+"/dev/clock", "application/json", nil)
	if err != nil || res.StatusCode != http.StatusNotFound {
		t.Fatalf("/dev/clock without -dev: %v %v", res, err)
	}
	res.Body.Close()

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30 s after SIGTERM")
	}
}
