//! The demo office's company Internet router, as far as myPortal to go
//! needs one: the port forward of its public address's TCP 8802 to the
//! gateway's HTTPS port in the company LAN (guide 3.1, 4.2). Like a router
//! that forwards without rewriting the source, each connection reaches
//! the gateway from the app's own address, so the gateway tells a LAN
//! app from one at home exactly as it would behind a real router.

use std::net::{IpAddr, SocketAddr};

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;

/// A running port forward; stops when dropped.
#[derive(Debug)]
pub struct PortForward {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl PortForward {
    /// Forwards `public` to `inside`.
    pub async fn start(public: SocketAddr, inside: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(public).await?;
        let address = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((mut outside, peer)) = listener.accept().await {
                tokio::spawn(async move {
                    match connect_from(peer.ip(), inside).await {
                        Ok(mut server) => {
                            let _ = tokio::io::copy_bidirectional(&mut outside, &mut server).await;
                        }
                        Err(error) => {
                            tracing::debug!(%error, %peer, "demo port forward: no way to {inside}");
                        }
                    }
                });
            }
        });
        Ok(Self { address, task })
    }

    /// The public address and port.
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for PortForward {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A connection to `to` from `source` (any port).
async fn connect_from(source: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = match source {
        IpAddr::V4(_) => TcpSocket::new_v4()?,
        IpAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.bind(SocketAddr::new(source, 0))?;
    socket.connect(to).await
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn the_gateway_sees_the_apps_own_address() {
        let inside = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind");
        let public = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 2, 1)), 0);
        let forward = PortForward::start(public, inside.local_addr().expect("address"))
            .await
            .expect("forward");
        let home = IpAddr::V4(Ipv4Addr::new(127, 0, 1, 10));
        let mut app = connect_from(home, forward.address())
            .await
            .expect("connect");
        app.write_all(b"ping").await.expect("write");
        let (mut server, peer) = inside.accept().await.expect("accept");
        assert_eq!(peer.ip(), home);
        let mut buffer = [0u8; 4];
        server.read_exact(&mut buffer).await.expect("read");
        assert_eq!(&buffer, b"ping");
        server.write_all(b"pong").await.expect("write");
        app.read_exact(&mut buffer).await.expect("read");
        assert_eq!(&buffer, b"pong");
    }
}
