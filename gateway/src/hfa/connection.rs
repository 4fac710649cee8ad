//! The task that drives one phone's TCP connection: bytes between the socket
//! and its [`SystemConnection`] engine, the engine's events to the registrar
//! and the registry, and commands from the rest of the gateway to the phone.

use std::net::SocketAddr;
use std::sync::Arc;

use shared::hfa::{CodecCapabilities, DeclineCause, Message, RegisterResponse, Stimulus};
use shared::hfa_engine::system::{RegistrationRequest, SystemConnection, SystemEvent};
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, warn};

use super::HfaState;
use super::attachment::HfaAttachment;
use super::registrar::Decision;
use super::registry::{ConnectionCommand, ConnectionId, RegisteredPhone};
use super::render;
use crate::admission::Ticket;
use crate::calls::media::MediaOffer;
use crate::calls::{DeviceInput, Origin};
use crate::clock::Clock;
use crate::log_limit;

/// The version the gateway reports in Register Response (OpenScape Business V2R1).
const SYSTEM_MAJOR: u8 = 2;
const SYSTEM_MINOR: u8 = 1;

/// Serves one connection until it closes, the phone is declined or
/// replaced, the connection is closed to make room (not registered yet, see
/// [`crate::admission`]) or the gateway shuts down. Never panics on what
/// the phone sends.
pub(super) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    id: ConnectionId,
    state: Arc<HfaState>,
    ticket: Ticket,
    mut shutdown: watch::Receiver<bool>,
) {
    let local = stream.local_addr().unwrap_or(peer);
    let capture = state.capture.as_ref().map(|capture| Captured {
        capture,
        phone: peer,
        gateway: local,
    });
    if let Some(captured) = &capture {
        captured.capture.tcp_open(peer, local);
    }
    let (mut reader, mut writer) = stream.into_split();
    let (commands, mut command_rx) = mpsc::unbounded_channel();
    let mut engine = SystemConnection::new(state.clock.now(), state.issuer.clone(), state.timers);
    let mut registered_as: Option<String> = None;
    // Frames are decoded as they stream in, so a small buffer only costs a
    // few more reads for a large frame; it is held per connection.
    let mut buffer = vec![0u8; 1024];
    let mut out = Vec::new();
    debug!(%peer, "HFA connection opened");

    'connection: loop {
        loop {
            if flush(&mut engine, &mut writer, &mut out, capture.as_ref())
                .await
                .is_err()
            {
                break 'connection;
            }
            let Some(event) = engine.poll_event() else {
                break;
            };
            match event {
                SystemEvent::RegisterRequest(request) => {
                    if let Some(number) =
                        register(&state, &mut engine, peer, id, &commands, &request)
                    {
                        ticket.prove();
                        registered_as = Some(number);
                    }
                }
                SystemEvent::ChallengeRefused {
                    subscriber,
                    challenge,
                } => {
                    if log_limit::allow("HFA challenge refused", peer.ip()) {
                        warn!(
                            %peer, subscriber = subscriber.as_str(), challenge = challenge.0,
                            "HFA Register with an unknown, expired or reused challenge refused (possible replay)"
                        );
                    }
                }
                SystemEvent::Received(message) => {
                    debug!(%peer, ?message, "HFA message from a registered phone");
                    if let Some(number) = &registered_as {
                        if let Some(input) = device_input(&message) {
                            state.calls.input(number, input);
                        } else if let Message::CodecCapabilities(capabilities) = &message {
                            match media_offer(capabilities, peer) {
                                Some(offer) => state.calls.offer_media(number, offer),
                                None => {
                                    warn!(%peer, "Codec Capabilities without a usable codec entry")
                                }
                            }
                        }
                    }
                }
                SystemEvent::Close(reason) => {
                    let _ = flush(&mut engine, &mut writer, &mut out, capture.as_ref()).await;
                    closed(peer, registered_as.as_deref(), &reason);
                    break 'connection;
                }
            }
        }
        let deadline = engine.poll_timeout();
        tokio::select! {
            read = reader.read(&mut buffer) => match read {
                Ok(0) | Err(_) => {
                    if let Some(captured) = &capture {
                        captured.capture.tcp_close(peer, local);
                    }
                    closed(peer, registered_as.as_deref(), &"closed by the phone");
                    break;
                }
                Ok(n) => {
                    let bytes = buffer.get(..n).unwrap_or_default();
                    if let Some(captured) = &capture {
                        captured.capture.tcp(peer, local, bytes);
                    }
                    engine.handle_input(state.clock.now(), bytes)
                }
            },
            Some(command) = command_rx.recv() => {
                // Everything already queued goes out in one write: a call
                // sends a phone a burst of stimuli at once.
                let mut next = Some(command);
                while let Some(command) = next {
                    match command {
                        ConnectionCommand::Send(message) => {
                            if let Err(error) = engine.send_message(*message) {
                                warn!(%peer, "message to the phone dropped: {error}");
                            }
                        }
                        ConnectionCommand::Terminate(cause) => engine.terminate(cause),
                    }
                    next = command_rx.try_recv().ok();
                }
            }
            () = sleep_until(&state.clock, deadline) => engine.handle_timeout(state.clock.now()),
            () = ticket.evicted() => {
                debug!(%peer, "HFA connection closed to make room: not registered yet");
                break;
            }
            // Like a real system going down: the connection just ends, and
            // the phone reconnects when the system is back.
            _ = shutdown.changed() => break,
        }
    }
    if let Some(number) = registered_as {
        state.registry().remove(&number, id);
        state.calls.detach(&number, id.attachment());
    }
}

/// Logs the end of a connection; of one that never registered, only a few
/// lines per source and minute (idle connections come by the thousand).
fn closed(peer: SocketAddr, subscriber: Option<&str>, reason: &dyn std::fmt::Display) {
    match subscriber {
        Some(subscriber) => info!(%peer, subscriber, "HFA connection closed: {reason}"),
        None => {
            if log_limit::allow("HFA connection closed before registering", peer.ip()) {
                info!(%peer, "HFA connection closed before registering: {reason}");
            }
        }
    }
}

/// Where and how the phone receives media, from its Codec Capabilities. A
/// phone that does not know its address (0.0.0.0) is reached at the
/// address its signalling comes from.
fn media_offer(capabilities: &CodecCapabilities, peer: SocketAddr) -> Option<MediaOffer> {
    let first = capabilities.codecs().next()?;
    let address = if first.address.is_unspecified() {
        peer.ip()
    } else {
        first.address
    };
    let codecs = capabilities
        .codecs()
        .map(|entry| (entry.payload_type, entry.packet_ms))
        .collect();
    Some(MediaOffer {
        rtp: SocketAddr::new(address, first.rtp_port),
        rtcp_port: first.rtcp_port,
        codecs,
    })
}

/// What a registered phone's message means to call control: hook switch,
/// dial keys and the feature keys; everything else is not for it.
fn device_input(message: &Message) -> Option<DeviceInput> {
    let Message::Stimulus(stimulus) = message else {
        return None;
    };
    match stimulus {
        Stimulus::OffHook => Some(DeviceInput::OffHook),
        Stimulus::OnHook => Some(DeviceInput::OnHook),
        Stimulus::KeyPress(key) => key
            .digit()
            .map(DeviceInput::Digit)
            .or_else(|| render::feature_key(*key).map(DeviceInput::Feature)),
        _ => None,
    }
}

/// Applies the registrar's decision; returns the number registered.
fn register(
    state: &HfaState,
    engine: &mut SystemConnection,
    peer: SocketAddr,
    id: ConnectionId,
    commands: &mpsc::UnboundedSender<ConnectionCommand>,
    request: &RegistrationRequest,
) -> Option<String> {
    let number = request.subscriber.as_str().to_owned();
    let (decision, lockouts) =
        state
            .registrar()
            .decide(&state.config, state.clock.now(), peer.ip(), request);
    for lockout in lockouts {
        if log_limit::allow("login lockout", peer.ip()) {
            warn!(%peer, "{lockout} (possible password guessing)");
        }
    }
    let delivery = match decision {
        Decision::Accept => None,
        Decision::Update { release } => {
            info!(
                %peer, subscriber = number, from = request.software_version, to = %release,
                "firmware below the minimum, connected internally: delivering {release} (guide 1.3.4)"
            );
            Some(release.to_string())
        }
        Decision::Decline { cause, detail } => {
            if log_limit::allow("HFA registration declined", peer.ip()) {
                warn!(%peer, subscriber = number, cause = cause.describe(), "HFA registration declined: {detail}");
            }
            let _ = engine.decline(cause);
            return None;
        }
    };
    let mut registry = state.registry();
    let Some(session) = registry.allocate_session() else {
        warn!(%peer, subscriber = number, "HFA registration declined: no session id left");
        let _ = engine.decline(DeclineCause::SYSTEM_BUSY);
        return None;
    };
    let mut response = RegisterResponse::openscape_business(SYSTEM_MAJOR, SYSTEM_MINOR);
    response.software_delivery = delivery;
    if engine.accept(state.clock.now(), session, response).is_err() {
        return None;
    }
    let phone = RegisteredPhone {
        connection: id,
        session,
        source: peer,
        release: request.software_version.clone(),
        commands: commands.clone(),
    };
    if let Some(old) = registry.insert(&number, phone) {
        info!(subscriber = number, old = %old.source, new = %peer, "HFA registration replaces the previous one");
        let _ = old
            .commands
            .send(ConnectionCommand::Terminate(DeclineCause::REPLACED));
    }
    drop(registry);
    let sink = Box::new(HfaAttachment::new(id, commands.clone()));
    let origin = Origin {
        ip: peer.ip(),
        internet: !state.config.is_company_lan(peer.ip()),
    };
    state.calls.attach(&number, sink, origin);
    info!(
        %peer, subscriber = number, session = session.0, version = request.software_version,
        lan = state.config.is_company_lan(peer.ip()), "HFA phone registered"
    );
    Some(number)
}

/// Writes every frame the engine has queued, in one write.
async fn flush(
    engine: &mut SystemConnection,
    writer: &mut OwnedWriteHalf,
    out: &mut Vec<u8>,
    capture: Option<&Captured<'_>>,
) -> std::io::Result<()> {
    out.clear();
    while let Some(bytes) = engine.poll_transmit() {
        out.extend_from_slice(&bytes);
    }
    if out.is_empty() {
        return Ok(());
    }
    writer.write_all(out).await?;
    if let Some(captured) = capture {
        captured.capture.tcp(captured.gateway, captured.phone, out);
    }
    Ok(())
}

/// `gateway run --capture`: this connection's capture and its two ends.
struct Captured<'a> {
    capture: &'a shared::capture::Capture,
    phone: SocketAddr,
    gateway: SocketAddr,
}

async fn sleep_until(clock: &Clock, deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep(clock.until(deadline)).await,
        None => std::future::pending().await,
    }
}
