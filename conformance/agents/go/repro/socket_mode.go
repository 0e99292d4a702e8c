// CHAN-LISTEN-1: net.Listen("unix") leaves the socket file at 0777 &^ umask.
package main

import (
	"fmt"
	"net"
	"os"
	"syscall"
)

func main() {
	syscall.Umask(0)
	l, err := net.Listen("unix", "sock")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	st, _ := os.Stat("sock")
	if st.Mode().Perm() == 0o600 {
		fmt.Println("NOT REPRODUCED: 0600")
		os.Exit(1)
	}
	fmt.Printf("REPRODUCED: socket file mode %o under umask 0\n", st.Mode().Perm())
}
