// NAME-3: net.Listen("unix", "x\x00y") binds (the kernel reads sun_path up to the NUL: "x"), and
// syscall.Mkfifo("") fails ENOENT rather than as an invalid name.
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

func main() {
	l, err := net.Listen("unix", "x\x00y")
	if err != nil {
		fmt.Println("NOT REPRODUCED:", err)
		os.Exit(1)
	}
	_, statErr := os.Lstat("x")
	l.Close()
	mk := syscall.Mkfifo("", 0o600)
	if statErr == nil && errors.Is(mk, syscall.ENOENT) {
		fmt.Println("REPRODUCED: Listen(\"x\\x00y\") bound \"x\"; Mkfifo(\"\") fails ENOENT (a missing file, not an invalid name)")
		return
	}
	fmt.Println("NOT REPRODUCED:", statErr, mk)
	os.Exit(1)
}
