package main

import (
	"os"
	"testing"
)

// TestMain lets tests run this binary's main in a child process: the test
// binary re-executes itself with SIDECARD_TEST_MAIN=1 and the sidecard
// arguments.
func TestMain(m *testing.M) {
	if os.Getenv("SIDECARD_TEST_MAIN") == "1" {
		os.Args = append([]string{"sidecard"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}
