// CHAN-LISTEN-3: net.Listen("unix") over a stale socket file fails EADDRINUSE.
package main

import (
	"fmt"
	"net"
	"os"
)

func main() {
	// A stale socket file: bound, then forgotten without Close (as after a crash).
	l, _ := net.Listen("unix", "sock")
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if _, err := net.Listen("unix", "sock"); err != nil {
		fmt.Println("REPRODUCED: listen over a stale socket file:", err)
		return
	}
	fmt.Println("NOT REPRODUCED: the stale file was replaced")
	os.Exit(1)
}
