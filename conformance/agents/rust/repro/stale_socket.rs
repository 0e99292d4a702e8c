// CHAN-LISTEN-3: UnixListener::bind over a stale socket file fails AddrInUse.
fn main() {
    // A stale socket file: std's UnixListener leaves it behind when dropped.
    drop(std::os::unix::net::UnixListener::bind("sock").unwrap());
    match std::os::unix::net::UnixListener::bind("sock") {
        Err(e) => println!("REPRODUCED: bind over a stale socket file: {}", e),
        Ok(_) => {
            println!("NOT REPRODUCED: the stale file was replaced");
            std::process::exit(1);
        }
    }
}
