// CHAN-LISTEN-5: UnixListener.Close unlinks its path even when another file replaced the socket.
package main

import (
	"fmt"
	"net"
	"os"
)

func main() {
	l, err := net.Listen("unix", "sock")
	if err != nil {
		panic(err)
	}
	os.Remove("sock")
	os.WriteFile("sock", []byte("someone else's"), 0o600)
	l.Close()
	if _, err := os.Stat("sock"); os.IsNotExist(err) {
		fmt.Println("REPRODUCED: Close() removed a regular file that replaced its socket")
		return
	}
	fmt.Println("NOT REPRODUCED: the file survived")
	os.Exit(1)
}
