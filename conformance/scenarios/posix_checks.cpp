// posix_checks.cpp: the scenarios that check POSIX-only things: through driver checks only POSIX
// has (see NPIPE_POSIX_CHECKS in scenario.hpp: stat, raw AF_UNIX peer, umask, symlinks), or
// behaviour the spec gives a different Windows outcome. The text is the N/A reason, completing
// "not applicable on windows: ...". Against an agent on Windows they are N/A, never FAIL.
// Scenarios whose requirements all apply to posix only (spec requirement lines) are N/A there
// anyway; these are the ones that cite a requirement of every platform but check it through
// something only POSIX has.
#include "scenario.hpp"

namespace npipe::conformance {

// A raw AF_UNIX peer (raw_peer.hpp): the driver itself speaks the wire.
NPIPE_POSIX_CHECKS(chan_wire, "chan_wire.*", "the driver's raw AF_UNIX peer");
NPIPE_POSIX_CHECKS(chan_wire_auth, "chan_wire_auth.*", "the driver's raw AF_UNIX peer");
// A stale AF_UNIX socket file the driver binds itself; stat of the socket file; umask and mode.
NPIPE_POSIX_CHECKS(connect_stale, "chan_listen.connect_without_listener_not_found",
                   "a stale AF_UNIX socket file made by the driver");
NPIPE_POSIX_CHECKS(socket_mode, "chan_listen.socket_mode_0600",
                   "umask and stat of the socket mode");
NPIPE_POSIX_CHECKS(stale_replaced, "chan_listen.stale_socket_replaced",
                   "a stale AF_UNIX socket file made by the driver");
NPIPE_POSIX_CHECKS(non_socket, "chan_listen.non_socket_left_alone",
                   "files, directories and FIFOs made at the address");
NPIPE_POSIX_CHECKS(close_own, "chan_listen.close_removes_own_socket_only",
                   "stat of the socket file and a file made at the address");
// Files, directories, FIFOs, sockets, devices and symlinks the driver makes at the name.
NPIPE_POSIX_CHECKS(fifo_paths, "fifo_paths.*", "files, FIFOs and symlinks made at the path");
NPIPE_POSIX_CHECKS(replaced_name, "fifo_lifetime.remove_spares_a_replaced_name",
                   "file made at the path");
NPIPE_POSIX_CHECKS(leaver, "chan_listen.leaver_before_accept*",
                   "the driver's raw AF_UNIX peer (the leaver)");
NPIPE_POSIX_CHECKS(new_fifo, "fifo_lifetime.remove_spares_a_new_fifo",
                   "stat of the path and its FIFO held open");

// POSIX-only behaviour of a scenario citing an all-platform requirement: the spec's Windows
// outcome differs (FIFO-OPEN-11 (b): the owner's instance exists from create, so a peer's open
// completes at once; FIFO-REMOVE-5: after remove the owner's open end keeps the name, busy).
NPIPE_POSIX_CHECKS(peer_waits_r, "fifo_open.peer_read_waits_for_writer",
                   "peer open waiting for the owner's end (FIFO-OPEN-11 (a), POSIX)");
NPIPE_POSIX_CHECKS(peer_waits_w, "fifo_open.peer_write_waits_for_reader",
                   "peer open waiting for the owner's end (FIFO-OPEN-11 (a), POSIX)");
NPIPE_POSIX_CHECKS(peer_deadline_w, "fifo_open.peer_write_deadline_times_out",
                   "peer open timing out before the owner's end opens (FIFO-OPEN-11 (a), POSIX)");
NPIPE_POSIX_CHECKS(peer_deadline_r, "fifo_open.peer_read_deadline_times_out",
                   "peer open timing out before the owner's end opens (FIFO-OPEN-11 (a), POSIX)");
NPIPE_POSIX_CHECKS(peer_nonblock, "fifo_open.peer_nonblocking_write_would_block",
                   "peer non-blocking open failing before the owner's end opens "
                   "(FIFO-OPEN-4, FIFO-OPEN-11 (a), POSIX)");
NPIPE_POSIX_CHECKS(remove_open, "fifo_lifetime.remove_while_open",
                   "not_found while the owner's end is open (FIFO-REMOVE-1; Windows: "
                   "FIFO-REMOVE-5)");

}  // namespace npipe::conformance

namespace npipe::conformance {
// Names: a FIFO and AF_UNIX listeners the driver makes itself, /proc/net/unix.
NPIPE_POSIX_CHECKS(names_raw, "names_raw.*", "FIFOs and AF_UNIX listeners made by the driver");
}  // namespace npipe::conformance
