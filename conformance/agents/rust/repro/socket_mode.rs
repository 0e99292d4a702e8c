// CHAN-LISTEN-1: UnixListener::bind leaves the socket file at 0777 & !umask; std has no umask or
// fchmod-before-bind to make it 0600. Run with umask 0 (the runner sets it).
use std::os::unix::fs::PermissionsExt;
fn main() {
    let _l = std::os::unix::net::UnixListener::bind("sock").unwrap();
    let mode = std::fs::metadata("sock").unwrap().permissions().mode() & 0o777;
    if mode == 0o600 {
        println!("NOT REPRODUCED: 0600");
        std::process::exit(1);
    }
    println!("REPRODUCED: socket file mode {:o} under the runner's umask 0", mode);
}
