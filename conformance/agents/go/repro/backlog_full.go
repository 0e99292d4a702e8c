// CHAN-CONNECT-4: net.Dial("unix") to a listener whose queue is full fails EAGAIN at once
// instead of waiting (Go connects non-blocking; for AF_UNIX, Linux answers EAGAIN, not EINPROGRESS).
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

func main() {
	l, err := net.Listen("unix", "busy") // never accepts: its queue fills
	if err != nil {
		panic(err)
	}
	defer l.Close()
	for i := 0; i < 10000; i++ {
		c, err := net.Dial("unix", "busy")
		if errors.Is(err, syscall.EAGAIN) {
			fmt.Printf("REPRODUCED: dial #%d to a full queue failed at once: %v\n", i+1, err)
			return
		}
		if err != nil {
			fmt.Println("NOT REPRODUCED:", err)
			os.Exit(1)
		}
		defer c.Close()
	}
	fmt.Println("NOT REPRODUCED: the queue never filled")
	os.Exit(1)
}
