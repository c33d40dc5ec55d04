package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runPipe runs the CLI in-process and returns its exit code, stdout and stderr.
func runPipe(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		stdout  string // substring expected on stdout
		stderr  string // substring expected on stderr
		oneLine bool   // the error is one line (plus the usage hint)
	}{
		{name: "help", args: []string{"--help"}, code: exitOK, stdout: "Start here"},
		{name: "version", args: []string{"version"}, code: exitOK, stdout: "pipe "},
		{name: "unknown subcommand", args: []string{"frobnicate"}, code: exitUsage, stderr: "unknown command"},
		{name: "unknown flag", args: []string{"inspect", "--nope", "x"}, code: exitUsage, stderr: "--nope"},
		{name: "bad log level", args: []string{"--log-level", "loud", "version"}, code: exitUsage, stderr: "--log-level"},
		{name: "bad log format", args: []string{"--log-format", "xml", "version"}, code: exitUsage, stderr: "--log-format"},
		{name: "inspect needs a path", args: []string{"inspect"}, code: exitUsage, stderr: "arg"},
		{name: "inspect missing file", args: []string{"inspect", "no-such-file.parquet"}, code: exitRuntime, stderr: "no-such-file.parquet", oneLine: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runPipe(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) {
				t.Errorf("stdout %q does not contain %q", stdout, tc.stdout)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.stderr)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Errorf("stderr shows a panic or stack:\n%s", stderr)
			}
			if tc.oneLine {
				if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
					t.Errorf("error is %d lines, want 1:\n%s", n+1, stderr)
				}
			}
		})
	}
}
