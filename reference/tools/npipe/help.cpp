// npipe/help.cpp: the manual printed by --help. The README quotes it; keep the two in step.
#include "commands.hpp"

namespace npipe::cli {

const char* help_text() {
  return R"(npipe: named pipes from the shell, the same words on POSIX and Windows.

Usage:
  npipe mkfifo PATH [--mode OCTAL]
      Create a FIFO and leave it (as mkfifo(1)); mode 600 unless --mode says otherwise,
      applied exactly, whatever the umask. Not available on Windows, where a pipe name
      lives only while its owner runs.

  npipe read PATH [--create | --adopt] [--mode OCTAL] [--timeout SECONDS]
      Open PATH for reading and copy what arrives to standard output until every writer
      has closed (EOF).
  npipe write PATH [--create | --adopt] [--mode OCTAL] [--timeout SECONDS]
      Open PATH for writing and copy standard input into it until standard input ends.

      --create   Be the owner: make the FIFO (it must not exist), wait for the other side,
                 and remove the name on exit, also when stopped by SIGINT, SIGTERM or SIGHUP.
      --adopt    As --create, but take over a FIFO that already exists at PATH (one made by
                 mkfifo(1), Python's os.mkfifo, or left by a dead owner); anything that is not
                 a FIFO there is refused with not_a_pipe, a FIFO of another user with
                 permission_denied.
      --mode     Permission bits (octal) of a FIFO made by --create or --adopt.
      Without --create or --adopt the FIFO must exist and is left in place.

  npipe recv ADDRESS [--authkey-file FILE] [--challenge sha256|md5] [--timeout SECONDS]
      Listen at ADDRESS (an AF_UNIX socket path on POSIX, \\.\pipe\NAME on Windows), accept
      one client, stop listening (the name is removed), and print each message it sends
      followed by a newline, until it closes. Messages are printed as they are, so a message
      holding a newline reads as two lines.
  npipe send ADDRESS [--authkey-file FILE] [--challenge sha256|md5] [--timeout SECONDS] MESSAGE...
      Connect to ADDRESS and send each MESSAGE as one message, then close.
      Wire-compatible with Python's multiprocessing.connection Listener and Client (use
      send_bytes/recv_bytes there).

      --authkey-file  Authenticate with the key made of this file's exact bytes: a trailing
                      newline is part of the key (write it with printf, not echo). Python's
                      authkey must then be the same bytes. An empty file is refused: Python
                      before 3.13 mishandles an empty key (gh-88118). Without this option no
                      handshake takes place (Python's authkey=None).
      --challenge     The challenge this side sends: sha256 (Python 3.12+, the default) or md5
                      (Python 3.11 and older). Either form of answer is accepted whatever this
                      says, so any pair of versions interoperates.

Common options:
  --timeout SECONDS  Limit the wait for the other side: the open (read, write), the accept and
                     handshake (recv), the connect and handshake (send). Decimals allowed
                     (0.25); 0 means do not wait at all (fail with would_block instead).
                     The copy that follows is not limited. Without it: wait forever.
  --                 End of options; later words are arguments even when they start with '-'.
  -h, --help         This text.       --version   The version.

Names: a portable name (1 to 80 characters of A-Z a-z 0-9 . _ -, not starting with '.') is a
path relative to the current directory on POSIX and \\.\pipe\NAME on Windows; anything else is
used as the platform name it is.

Exit status:
   0  success                           14  broken_pipe: the other side has gone
   1  internal error (a bug)            15  not_a_pipe
   2  usage error (bad command line)    16  permission_denied
  10  not_found                         17  invalid_name
  11  already_exists                    18  message_too_long
  12  timeout                           19  auth_failed
  13  would_block                       20  unsupported
                                        21  protocol_error: the peer broke the wire format
                                        22  io_error
  Any error is 9 + its number in the portable vocabulary, and standard error then starts with
  "npipe: <name>: ". A write to a closed standard output is broken_pipe (14), never a signal.
)";
}

}  // namespace npipe::cli
