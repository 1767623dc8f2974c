//! The listening socket. Bound by hand rather than with `TcpListener::bind`, which asks
//! the kernel for a queue of 128 connections (the standard library's choice): a reconnect
//! storm of thousands overflows that at once, the kernel drops the overflowing handshakes,
//! and their clients wait out TCP's retransmission timers, one, three, seven seconds and
//! more, before the server even sees them.

use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpSocket};

/// Binds `addr` with an accept queue of `backlog` connections (the kernel caps it at
/// `net.core.somaxconn`).
pub fn bind(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // As `TcpListener::bind` does: a restarted server binds again at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The accept queue the kernel gave a listening socket, as `ss` reports it (its
    /// Send-Q column for a socket in LISTEN).
    fn backlog_of(port: u16) -> u32 {
        let out = std::process::Command::new("ss")
            .args(["-Hltn", &format!("sport = :{port}")])
            .output()
            .expect("ss (iproute2) runs");
        let text = String::from_utf8(out.stdout).unwrap();
        let line = text.lines().next().expect("the socket is listed");
        line.split_whitespace().nth(2).unwrap().parse().unwrap()
    }

    #[tokio::test]
    async fn the_listener_gets_the_backlog_asked_for() {
        let listener = bind("127.0.0.1:0".parse().unwrap(), 1000).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_eq!(backlog_of(port), 1000);
        // And the default this replaces was the standard library's 128.
        let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
        assert_eq!(backlog_of(plain.local_addr().unwrap().port()), 128);
    }
}
