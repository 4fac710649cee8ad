//! The tokio driver of the phone's HFA engine: opens the TCP connection when
//! the engine asks, moves bytes, sleeps until the engine's next deadline,
//! and hands the engine's events to its owner (the CLI or the GUI).

use shared::capture::Capture;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use shared::hfa::Message;
use shared::hfa_engine::phone::{PhoneEngine, PhoneEvent, PhoneInput, PhoneTimers};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::account::HfaAccount;
use crate::media::MediaOptions;
use crate::media::MediaPort;
use crate::media::call::MediaReport;

/// What the owner asks of a running phone.
#[derive(Debug)]
pub enum ClientCommand {
    /// Send a stimulus (key, hook) or media message.
    Send(Message),
    /// Send a DTMF digit in the call's media (RFC 4733).
    Dtmf(char),
    /// Close the connection and end the task.
    Stop,
}

/// A running HFA phone: send it commands, read its events.
#[derive(Debug)]
pub struct HfaClient {
    commands: mpsc::UnboundedSender<ClientCommand>,
    task: JoinHandle<()>,
}

impl HfaClient {
    /// Starts registering `account`, without media; events arrive on the
    /// returned receiver until the client stops (the channel then closes).
    pub fn spawn(
        account: HfaAccount,
        timers: PhoneTimers,
    ) -> (Self, mpsc::UnboundedReceiver<PhoneEvent>) {
        let engine = PhoneEngine::new(account.identity(), timers, seed_from_clock());
        Self::start(engine, account, timers, None)
    }

    /// Like [`HfaClient::spawn`], with media: binds the RTP and RTCP
    /// sockets, announces them after every registration, and runs a call's
    /// media while the system's Set Payload says so.
    pub async fn spawn_with_media(
        account: HfaAccount,
        timers: PhoneTimers,
        media: MediaOptions,
    ) -> std::io::Result<(Self, mpsc::UnboundedReceiver<PhoneEvent>, MediaHandle)> {
        let (reports, report_rx) = mpsc::unbounded_channel();
        let mut media = media;
        // Media leaves from the interface the signalling uses, as a phone's
        // would: what the system (or its SBC) sees matches what it expects.
        if let (true, Some(bind)) = (media.bind.is_unspecified(), account.bind_address) {
            media.bind = bind;
        }
        let port = MediaPort::bind(media, reports).await?;
        let handle = MediaHandle {
            reports: report_rx,
            local_rtp: port.local_rtp()?,
        };
        let mut engine = PhoneEngine::new(account.identity(), timers, seed_from_clock());
        engine.announce_media(port.capabilities()?);
        let (client, events) = Self::start(engine, account, timers, Some(port));
        Ok((client, events, handle))
    }

    fn start(
        engine: PhoneEngine,
        account: HfaAccount,
        timers: PhoneTimers,
        media: Option<MediaPort>,
    ) -> (Self, mpsc::UnboundedReceiver<PhoneEvent>) {
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (events, event_rx) = mpsc::unbounded_channel();
        let connect_timeout = timers.reply_timeout;
        let task = tokio::spawn(drive(
            engine,
            account,
            connect_timeout,
            command_rx,
            events,
            media,
        ));
        (Self { commands, task }, event_rx)
    }

    pub fn send(&self, message: Message) {
        let _ = self.commands.send(ClientCommand::Send(message));
    }

    /// Sends `digit` in the media of the call in progress, as an RFC 4733
    /// telephone event (the desk phone's key stimulus to the system is
    /// separate: [`HfaClient::send`]).
    pub fn send_dtmf(&self, digit: char) {
        let _ = self.commands.send(ClientCommand::Dtmf(digit));
    }

    /// Closes the connection and waits for the task to end.
    pub async fn stop(self) {
        let _ = self.commands.send(ClientCommand::Stop);
        let _ = self.task.await;
    }
}

/// A phone's media, seen from its owner.
#[derive(Debug)]
pub struct MediaHandle {
    /// What the media of each call reports.
    pub reports: mpsc::UnboundedReceiver<MediaReport>,
    /// Where the phone's RTP socket receives.
    pub local_rtp: SocketAddr,
}

struct Connection {
    reader: OwnedReadHalf,
    writer: OwnedWriteHalf,
    /// `--capture`: the capture, this phone's end and the system's.
    capture: Option<(Capture, SocketAddr, SocketAddr)>,
}

async fn drive(
    mut engine: PhoneEngine,
    account: HfaAccount,
    connect_timeout: Duration,
    mut commands: mpsc::UnboundedReceiver<ClientCommand>,
    events: mpsc::UnboundedSender<PhoneEvent>,
    mut media: Option<MediaPort>,
) {
    let mut connection: Option<Connection> = None;
    let mut buffer = vec![0u8; 4096];
    engine.start();
    loop {
        while let Some(event) = engine.poll_event() {
            match event {
                PhoneEvent::Connect => {
                    let result = connect(&account, connect_timeout).await;
                    let input = match result {
                        Ok((stream, local)) => {
                            let system = stream.peer_addr().unwrap_or(local);
                            tracing::info!(gateway = %account.gateway, %local, %system, "HFA connection open");
                            let capture = account.capture.clone().map(|capture| {
                                capture.tcp_open(local, system);
                                (capture, local, system)
                            });
                            let (reader, writer) = stream.into_split();
                            connection = Some(Connection {
                                reader,
                                writer,
                                capture,
                            });
                            PhoneInput::Connected {
                                local_ip: local.ip(),
                            }
                        }
                        Err(why) => {
                            tracing::warn!(gateway = %account.gateway, %why, "HFA connection failed");
                            PhoneInput::ConnectFailed(why.to_string())
                        }
                    };
                    engine.handle_input(now(), input);
                }
                PhoneEvent::Disconnect => {
                    connection = None;
                    // No system, no call: the media of a call ends with it.
                    if let Some(media) = media.as_mut() {
                        media.stop();
                    }
                }
                PhoneEvent::Received(Message::SetPayload(set_payload)) => {
                    if let Some(media) = media.as_mut()
                        && let Err(error) = media.apply(&set_payload)
                    {
                        tracing::warn!("media not started: {error}");
                    }
                    if events
                        .send(PhoneEvent::Received(Message::SetPayload(set_payload)))
                        .is_err()
                    {
                        return;
                    }
                }
                other => {
                    trace_event(&other);
                    if events.send(other).is_err() {
                        return; // nobody listens any more
                    }
                }
            }
        }
        if let Some(open) = connection.as_mut() {
            let mut failed = false;
            while let Some(bytes) = engine.poll_transmit() {
                if open.writer.write_all(&bytes).await.is_err() {
                    failed = true;
                    break;
                }
                if let Some((capture, local, system)) = &open.capture {
                    capture.tcp(*local, *system, &bytes);
                }
            }
            if failed {
                connection = None;
                engine.handle_input(now(), PhoneInput::Closed);
                continue;
            }
        } else {
            while engine.poll_transmit().is_some() {}
        }
        let deadline = engine.poll_timeout().map(Instant::from_std);
        tokio::select! {
            read = read_some(connection.as_mut(), &mut buffer) => match read {
                Some(n) => engine.handle_input(now(), PhoneInput::Received(buffer.get(..n).unwrap_or_default())),
                None => {
                    connection = None;
                    engine.handle_input(now(), PhoneInput::Closed);
                }
            },
            command = commands.recv() => match command {
                Some(ClientCommand::Send(message)) => {
                    tracing::debug!(?message, "HFA send");
                    if let Err(error) = engine.send_message(message) {
                        tracing::warn!("message not sent: {error}");
                    }
                }
                Some(ClientCommand::Dtmf(digit)) => {
                    if let Some(media) = media.as_ref() {
                        media.send_dtmf(digit);
                    }
                }
                Some(ClientCommand::Stop) | None => {
                    engine.stop();
                    return;
                }
            },
            () = sleep_until(deadline) => engine.handle_timeout(now()),
        }
    }
}

/// The client trace's line of an event for the owner (the session id
/// stays out: it is the registration's token).
fn trace_event(event: &PhoneEvent) {
    match event {
        PhoneEvent::StateChanged(state) => tracing::info!(?state, "HFA state"),
        PhoneEvent::Registered { system, .. } => tracing::info!(?system, "HFA registered"),
        PhoneEvent::SoftwareUpdated { from, to } => {
            tracing::info!(%from, %to, "HFA software release delivered");
        }
        PhoneEvent::ConnectionLost(loss) => tracing::warn!(%loss, "HFA connection lost"),
        PhoneEvent::Received(message) => tracing::debug!(?message, "HFA received"),
        PhoneEvent::Connect | PhoneEvent::Disconnect => {}
    }
}

/// Why the TCP connection to the system could not be made.
#[derive(Debug, thiserror::Error)]
enum ConnectError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("no answer within {} s", .0.as_secs())]
    Timeout(Duration),
}

async fn connect(
    account: &HfaAccount,
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr), ConnectError> {
    let attempt = async {
        let targets =
            tokio::net::lookup_host((account.gateway.host.as_str(), account.gateway.port)).await?;
        let mut last_error = None;
        for target in targets {
            match connect_from(account.bind_address, target).await {
                Ok(stream) => return Ok(stream),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| std::io::Error::other("the name has no address")))
    };
    let stream = tokio::time::timeout(timeout, attempt)
        .await
        .map_err(|_| ConnectError::Timeout(timeout))??;
    let _ = stream.set_nodelay(true);
    let local = stream.local_addr()?;
    Ok((stream, local))
}

async fn connect_from(bind: Option<IpAddr>, target: SocketAddr) -> std::io::Result<TcpStream> {
    let Some(local) = bind else {
        return TcpStream::connect(target).await;
    };
    let socket = if local.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.bind(SocketAddr::new(local, 0))?;
    socket.connect(target).await
}

/// Bytes read (at least 1), or `None` when the connection closed or failed.
/// Without a connection it never completes.
async fn read_some(connection: Option<&mut Connection>, buffer: &mut [u8]) -> Option<usize> {
    match connection {
        Some(open) => match open.reader.read(buffer).await {
            Ok(0) | Err(_) => {
                if let Some((capture, local, system)) = &open.capture {
                    capture.tcp_close(*system, *local);
                }
                None
            }
            Ok(n) => {
                if let (Some((capture, local, system)), Some(bytes)) =
                    (&open.capture, buffer.get(..n))
                {
                    capture.tcp(*system, *local, bytes);
                }
                Some(n)
            }
        },
        None => std::future::pending().await,
    }
}

/// Sleeps until `deadline`, or forever without one (a `select!` branch
/// that never fires).
pub(crate) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// The engines' clock (tokio's, which tests may pause).
pub(crate) fn now() -> std::time::Instant {
    Instant::now().into_std()
}

/// Spreads the reconnection jitter of phones started at the same moment.
fn seed_from_clock() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    u64::from(nanos) ^ (u64::from(std::process::id()) << 32)
}
