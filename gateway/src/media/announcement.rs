//! The announcement test's media end (and the built-in test trunk's): a
//! recorded prompt, looped, streamed to the phone of each such call.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shared::media::{Channel, Codec, MediaSession, SessionConfig};
use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tokio::time::MissedTickBehavior;
use tracing::warn;

use crate::calls::media::RemoteMedia;

/// The prompt, 8 kHz mono 16-bit (see `gateway/assets/README.md`).
const PROMPT_WAV: &[u8] = include_bytes!("../../assets/announcement.wav");

/// Silence between two plays of the prompt.
const PAUSE: Duration = Duration::from_secs(1);

/// The prompt's samples at 8 kHz, followed by the pause.
pub fn prompt() -> Arc<[i16]> {
    let samples = hound::WavReader::new(PROMPT_WAV)
        .map(|reader| {
            reader
                .into_samples::<i16>()
                .filter_map(Result::ok)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let pause = (PAUSE.as_millis() as usize) * 8;
    samples
        .into_iter()
        .chain(std::iter::repeat_n(0, pause))
        .collect()
}

/// The codec of a payload type the system's ends speak (G.711 only: the
/// prompt is narrowband and every device offers G.711).
pub fn codec(payload_type: shared::hfa::PayloadType) -> Option<Codec> {
    [Codec::Pcma, Codec::Pcmu]
        .into_iter()
        .find(|codec| codec.payload_type().0 == payload_type.0)
}

/// Streams the prompt from `socket` to `to` until `stop` fires, then says
/// RTCP BYE.
pub async fn stream(
    socket: Arc<UdpSocket>,
    rtcp: Arc<UdpSocket>,
    to: RemoteMedia,
    prompt: Arc<[i16]>,
    mut stop: oneshot::Receiver<()>,
) {
    let Some(codec) = codec(to.payload_type) else {
        warn!(
            payload_type = to.payload_type.0,
            "announcement: no prompt in this codec"
        );
        return;
    };
    let mut config = SessionConfig::new(codec, rand::random());
    config.ptime = Duration::from_millis(u64::from(to.packet_ms));
    let mut session = match MediaSession::new(config, Instant::now(), rand::random()) {
        Ok(session) => session,
        Err(error) => {
            warn!("announcement: {error}");
            return;
        }
    };
    let rtcp_to = SocketAddr::new(to.rtp.ip(), to.rtcp_port);
    let frame = session.samples_per_frame();
    let mut position = 0usize;
    let mut pcm = vec![0i16; frame];
    let mut tick = tokio::time::interval(config.ptime);
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                for sample in pcm.iter_mut() {
                    *sample = prompt.get(position).copied().unwrap_or(0);
                    position = (position + 1) % prompt.len().max(1);
                }
                session.send_frame(Instant::now(), &pcm);
            }
            // RTCP reports (to RTP + 1 of a device that announced only
            // RTP) are due at the session's report interval.
            () = report_due(session.poll_timeout()) => session.handle_timeout(Instant::now()),
            _ = &mut stop => break,
        }
        send(&mut session, &socket, &rtcp, to.rtp, rtcp_to).await;
    }
    session.close(Instant::now());
    send(&mut session, &socket, &rtcp, to.rtp, rtcp_to).await;
}

/// When the session's next RTCP report is due (never once closed).
async fn report_due(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}

async fn send(
    session: &mut MediaSession,
    rtp: &UdpSocket,
    rtcp: &UdpSocket,
    rtp_to: SocketAddr,
    rtcp_to: SocketAddr,
) {
    while let Some(transmit) = session.poll_transmit() {
        let _ = match transmit.channel {
            Channel::Rtp => rtp.send_to(&transmit.bytes, rtp_to).await,
            Channel::Rtcp => rtcp.send_to(&transmit.bytes, rtcp_to).await,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_is_several_seconds_of_speech_then_a_pause() {
        let prompt = prompt();
        assert!(prompt.len() > 8000 * 5, "{} samples", prompt.len());
        let loud = prompt.iter().filter(|s| s.unsigned_abs() > 1000).count();
        assert!(loud > 8000, "speech, not silence: {loud} loud samples");
        assert!(
            prompt[prompt.len() - 8000..].iter().all(|s| *s == 0),
            "ends with the pause"
        );
    }

    #[tokio::test]
    async fn streams_g711_at_the_packet_time_until_stopped() {
        let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let rtp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let rtcp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let to = RemoteMedia {
            rtp: phone.local_addr().unwrap(),
            rtcp_port: 9,
            payload_type: shared::hfa::PayloadType::PCMU,
            packet_ms: 20,
        };
        let (stop, stop_rx) = oneshot::channel();
        let task = tokio::spawn(stream(rtp, rtcp, to, prompt(), stop_rx));
        let mut buffer = [0u8; 2048];
        for _ in 0..5 {
            let (len, _) = phone.recv_from(&mut buffer).await.unwrap();
            assert_eq!(len, 12 + 160, "one 20 ms G.711 frame");
            assert_eq!(buffer[1] & 0x7f, 0, "PCMU");
        }
        stop.send(()).unwrap();
        task.await.unwrap();
    }
}
