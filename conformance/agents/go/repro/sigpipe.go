// FIFO-PIPE-1 (note, not a deviation): the Go runtime catches SIGPIPE itself; a write to a broken
// pipe on a descriptor other than 1 and 2 returns EPIPE instead of killing the process, so the
// suite cannot see whether a library on Go would die of it.
package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

func main() {
	r, w, _ := os.Pipe()
	r.Close()
	_, err := w.Write([]byte("x"))
	if errors.Is(err, syscall.EPIPE) {
		fmt.Println("REPRODUCED: a write with no reader returns EPIPE; the runtime handled SIGPIPE")
		return
	}
	fmt.Println("NOT REPRODUCED:", err)
	os.Exit(1)
}
