//! The TCP listeners of the gateway's servers (HFA, portal).

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};

/// Listens on `addr` with `backlog` pending connections (tokio's own
/// `bind` asks for 128, too few for a registration storm), reusing the
/// address so a restarted gateway gets its port back at once.
pub fn tcp(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}
