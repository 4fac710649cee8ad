//! The media of one call: the task that moves audio between the audio back
//! end's rings and the call's [`MediaSession`], and datagrams between the
//! session and the RTP/RTCP sockets.
//!
//! The back end runs on the device's clock; this task
//! - sends every complete frame the capture ring holds as soon as the back
//!   end says one is there (and at each poll, every [`POLL_INTERVAL`]), and
//! - plays out a frame into the playback ring just before the device's
//!   next pull (it wakes for that), paced by a [`PlayoutPacer`] that gives
//!   the jitter buffer a steady playout clock in phase with those writes
//!   (see `pacing.rs`).
//!
//! A frame thus leaves a moment after its capture, not up to a poll later,
//! and waits in the playback ring a few milliseconds, with no silence
//! queued ahead.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shared::media::{Channel, FrameSource, MediaEvent, MediaSession, StreamStats};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::time::MissedTickBehavior;

use super::pacing::{MAX_CATCH_UP, POLL_INTERVAL, Pace, PlayoutPacer};
use crate::audio::{AudioEvent, AudioStreams};

/// The most frames one poll plays out or discards: a stall's catch-up, and
/// a frame, with room to spare (a write that cannot happen ends no loop).
const MAX_PACES: u32 = (MAX_CATCH_UP.as_millis() / 10) as u32 + 2;

/// What a running call's media reports to its owner.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaReport {
    /// Media flows with `codec` to `remote`.
    Started { remote: SocketAddr, codec: String },
    /// Quality figures, every few seconds and at the end.
    Quality(StreamStats),
    /// A DTMF digit from the other side.
    Dtmf(char),
    /// The audio device failed or vanished; the call goes on silently.
    Audio(AudioEvent),
    /// Media now leaves from `local` (the device changed network).
    Moved { local: SocketAddr },
    /// Media now goes to `remote` (the system re-anchored the call, e.g.
    /// through its SBC after a move out of the company network).
    Redirected { remote: SocketAddr },
    /// Media stopped; the last figures.
    Stopped(StreamStats),
}

/// Where a call's packets go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    pub rtp: SocketAddr,
    pub rtcp: SocketAddr,
}

/// The RTP and RTCP sockets a call's media uses (replaced when the device
/// changes network).
#[derive(Debug, Clone)]
pub struct Sockets {
    pub rtp: Arc<UdpSocket>,
    pub rtcp: Arc<UdpSocket>,
}

/// What the owner tells a running call's media.
pub struct Controls {
    /// Stop (or the sender dropped).
    pub stop: oneshot::Receiver<()>,
    /// Send a digit as an RFC 4733 telephone event.
    pub dtmf: mpsc::UnboundedReceiver<char>,
    /// Go on with these sockets.
    pub sockets: mpsc::UnboundedReceiver<Sockets>,
    /// Send to this peer from now on (the call was re-anchored).
    pub peer: mpsc::UnboundedReceiver<Peer>,
}

/// Sockets, session and audio of one call.
pub struct CallMedia {
    pub session: MediaSession,
    pub sockets: Sockets,
    pub peer: Peer,
    pub audio: AudioStreams,
    pub ptime: Duration,
    /// How often to report quality.
    pub report_every: Duration,
    /// `--capture FILE`: the datagrams sent and received go into it.
    pub capture: Option<shared::capture::Capture>,
}

/// Runs until `stop` fires (or its sender is dropped), then sends RTCP BYE.
pub async fn run(
    mut media: CallMedia,
    reports: mpsc::UnboundedSender<MediaReport>,
    controls: Controls,
) {
    let Controls {
        mut stop,
        mut dtmf,
        mut sockets,
        peer: mut peers,
    } = controls;
    let frame = media.session.samples_per_frame();
    let mut pcm = vec![0i16; frame];
    let mut rtp_in = vec![0u8; 2048];
    let mut rtcp_in = vec![0u8; 2048];
    let mut tick = tokio::time::interval(POLL_INTERVAL);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut pacer = PlayoutPacer::new(media.ptime, frame);
    let mut next_report = Instant::now() + media.report_every;
    // When to write the next frame, just before the device's next pull.
    let mut hold: Option<Instant> = None;
    loop {
        let rtcp_deadline = media.session.poll_timeout();
        tokio::select! {
            due = tick.tick() => {
                let now = Instant::now();
                pacer.woke(now, due.into_std());
                capture(&mut media, &mut pcm, now);
                hold = play(&mut media, &mut pacer, &mut pcm, now);
                if now >= next_report {
                    next_report = now + media.report_every;
                    let _ = reports.send(MediaReport::Quality(stats(&media)));
                }
            }
            () = media.audio.controls.frame_captured() => {
                capture(&mut media, &mut pcm, Instant::now());
            }
            () = sleep_until(hold) => {
                hold = play(&mut media, &mut pacer, &mut pcm, Instant::now());
            }
            received = media.sockets.rtp.recv_from(&mut rtp_in) => {
                if let Ok((len, from)) = received {
                    let bytes = rtp_in.get(..len).unwrap_or_default();
                    record(&media, &media.sockets.rtp, from, bytes);
                    media.session.handle_rtp(Instant::now(), bytes);
                }
            }
            received = media.sockets.rtcp.recv_from(&mut rtcp_in) => {
                if let Ok((len, from)) = received {
                    let bytes = rtcp_in.get(..len).unwrap_or_default();
                    record(&media, &media.sockets.rtcp, from, bytes);
                    media.session.handle_rtcp(Instant::now(), bytes);
                }
            }
            () = sleep_until(rtcp_deadline) => media.session.handle_timeout(Instant::now()),
            Some(digit) = dtmf.recv() => media.session.send_dtmf(Instant::now(), digit),
            Some(moved) = sockets.recv() => media.sockets = moved,
            Some(peer) = peers.recv() => media.peer = peer,
            Some(event) = media.audio.events.recv() => {
                let _ = reports.send(MediaReport::Audio(event));
            }
            _ = &mut stop => break,
        }
        flush(&mut media).await;
        while let Some(event) = media.session.poll_event() {
            if let MediaEvent::Dtmf(digit) = event {
                let _ = reports.send(MediaReport::Dtmf(digit));
            }
        }
    }
    media.session.close(Instant::now());
    flush(&mut media).await;
    let stats = stats(&media);
    // Stopping the back end joins its thread (and finalises a recording):
    // off the async workers, and before saying "stopped", so that whoever
    // waits for it finds the recording complete.
    let guard = media.audio.guard;
    if let Ok(Err(error)) = tokio::task::spawn_blocking(move || guard.stop()).await {
        tracing::warn!("audio back end: {error}");
    }
    let _ = reports.send(MediaReport::Stopped(stats));
}

/// The session's figures and the device's underruns.
fn stats(media: &CallMedia) -> StreamStats {
    StreamStats {
        underruns: media.audio.controls.underruns(),
        ..media.session.stats()
    }
}

/// Sends every complete captured frame.
fn capture(media: &mut CallMedia, pcm: &mut [i16], now: Instant) {
    while media.audio.capture.slots() >= pcm.len() {
        let Ok(chunk) = media.audio.capture.read_chunk(pcm.len()) else {
            break;
        };
        let (first, second) = chunk.as_slices();
        for (out, sample) in pcm.iter_mut().zip(first.iter().chain(second)) {
            *out = *sample;
        }
        chunk.commit_all();
        media.session.send_frame(now, pcm);
    }
}

/// Plays out frames as the pacer says (at most `MAX_PACES` a poll);
/// returns when to look again, when the pacer holds the next frame for
/// the device's next pull. The first frame decoded from the other side
/// tells the back end the path is up (a `--play` file may start).
fn play(
    media: &mut CallMedia,
    pacer: &mut PlayoutPacer,
    pcm: &mut [i16],
    now: Instant,
) -> Option<Instant> {
    for _ in 0..MAX_PACES {
        let playback = &mut media.audio.playback;
        let queued = playback.buffer().capacity() - playback.slots();
        match pacer.poll(now, queued, media.audio.controls.last_pull()) {
            Pace::Play { at } => {
                if media.session.playout(at, pcm) == FrameSource::Decoded {
                    media.audio.controls.set_far_end_heard();
                }
                write(&mut media.audio.playback, pcm);
            }
            Pace::Discard { at } => {
                let _: FrameSource = media.session.playout(at, pcm);
            }
            Pace::Wait => return None,
            Pace::Hold { until } => return Some(until),
        }
    }
    None
}

fn write(playback: &mut rtrb::Producer<i16>, pcm: &[i16]) {
    let Ok(mut chunk) = playback.write_chunk(pcm.len()) else {
        return;
    };
    let (first, second) = chunk.as_mut_slices();
    for (out, sample) in first.iter_mut().chain(second.iter_mut()).zip(pcm) {
        *out = *sample;
    }
    chunk.commit_all();
}

async fn flush(media: &mut CallMedia) {
    while let Some(transmit) = media.session.poll_transmit() {
        let (socket, to) = match transmit.channel {
            Channel::Rtp => (&media.sockets.rtp, media.peer.rtp),
            Channel::Rtcp => (&media.sockets.rtcp, media.peer.rtcp),
        };
        // A lost datagram is what RTP is built for; an unreachable peer
        // shows in the quality figures.
        let sent = socket.send_to(&transmit.bytes, to).await.is_ok();
        if sent
            && let Some(capture) = &media.capture
            && let Ok(local) = socket.local_addr()
        {
            capture.udp(local, to, &transmit.bytes);
        }
    }
}

/// `--capture`: a datagram `from` the peer, received on `socket`.
fn record(media: &CallMedia, socket: &UdpSocket, from: SocketAddr, bytes: &[u8]) {
    // The address is asked for only when capturing: a system call per packet.
    if let Some(capture) = &media.capture
        && let Ok(local) = socket.local_addr()
    {
        capture.udp(from, local, bytes);
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}

impl std::fmt::Display for MediaReport {
    /// One line per report, as the headless commands print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Started { remote, codec } => write!(f, "media: {codec} to {remote}"),
            Self::Quality(stats) => write!(f, "quality: {}", quality(stats)),
            Self::Dtmf(digit) => write!(f, "dtmf: {digit}"),
            Self::Audio(AudioEvent::DeviceLost { which, why }) => {
                write!(
                    f,
                    "audio: {which:?} device lost ({why}); the call goes on silently"
                )
            }
            Self::Audio(AudioEvent::PlaybackFinished) => f.write_str("audio: play file finished"),
            Self::Moved { local } => write!(f, "media: now from {local}"),
            Self::Redirected { remote } => write!(f, "media: now to {remote}"),
            Self::Stopped(stats) => write!(f, "media stopped: {}", quality(stats)),
        }
    }
}

/// The figures a person reads: loss, jitter, round trip, playout delay and
/// the E-model's estimate.
fn quality(stats: &StreamStats) -> String {
    let rtt = stats
        .rtt_ms
        .map_or_else(|| "-".to_owned(), |rtt| format!("{rtt:.1} ms"));
    format!(
        "sent {} received {} lost {} ({:.1} %) late {} concealed {} underruns {}, \
         jitter {:.1} ms, rtt {rtt}, playout delay {:.0} ms, MOS {:.2}",
        stats.sent,
        stats.received,
        stats.lost,
        stats.loss_fraction * 100.0,
        stats.late,
        stats.concealed,
        stats.underruns,
        stats.jitter_ms,
        stats.playout_delay_ms,
        stats.mos
    )
}
