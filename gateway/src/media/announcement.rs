//! The announcement test's media end (and the built-in test trunk's): a
//! recorded prompt, looped, streamed to the phone of each such call, at
//! 16 kHz when the call is G.722 and at 8 kHz when it is G.711.

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

/// The same prompt synthesised at 16 kHz, for G.722 calls.
const PROMPT_16K_WAV: &[u8] = include_bytes!("../../assets/announcement-16k.wav");

/// Silence between two plays of the prompt.
const PAUSE: Duration = Duration::from_secs(1);

/// The prompt at both rates the system's codecs run at.
#[derive(Debug, Clone)]
pub struct Prompts {
    narrowband: Arc<[i16]>,
    wideband: Arc<[i16]>,
}

impl Prompts {
    /// Both prompts, each followed by the pause.
    pub fn load() -> Self {
        Self {
            narrowband: prompt(PROMPT_WAV, 8000),
            wideband: prompt(PROMPT_16K_WAV, 16_000),
        }
    }

    /// The prompt at `codec`'s PCM rate.
    pub fn for_codec(&self, codec: Codec) -> Arc<[i16]> {
        if codec.pcm_rate() == 16_000 {
            self.wideband.clone()
        } else {
            self.narrowband.clone()
        }
    }
}

/// The samples of `wav` (at `rate`), followed by the pause.
fn prompt(wav: &[u8], rate: usize) -> Arc<[i16]> {
    let samples = hound::WavReader::new(wav)
        .map(|reader| {
            reader
                .into_samples::<i16>()
                .filter_map(Result::ok)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let pause = (PAUSE.as_millis() as usize) * rate / 1000;
    samples
        .into_iter()
        .chain(std::iter::repeat_n(0, pause))
        .collect()
}

/// The codec of a payload type the system's ends speak: G.722 and G.711
/// (every device offers G.711; OpenStage phones G.722 too).
pub fn codec(payload_type: shared::hfa::PayloadType) -> Option<Codec> {
    [Codec::G722, Codec::Pcma, Codec::Pcmu]
        .into_iter()
        .find(|codec| codec.payload_type().0 == payload_type.0)
}

/// Streams the prompt from `socket` to `to` until `stop` fires, then says
/// RTCP BYE.
pub async fn stream(
    socket: Arc<UdpSocket>,
    rtcp: Arc<UdpSocket>,
    to: RemoteMedia,
    prompts: Prompts,
    mut stop: oneshot::Receiver<()>,
) {
    let Some(codec) = codec(to.payload_type) else {
        warn!(
            payload_type = to.payload_type.0,
            "announcement: no prompt in this codec"
        );
        return;
    };
    let prompt = prompts.for_codec(codec);
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
    fn the_prompt_is_several_seconds_of_speech_then_a_pause_at_both_rates() {
        let prompts = Prompts::load();
        for (codec, rate) in [(Codec::Pcma, 8000), (Codec::G722, 16_000)] {
            let prompt = prompts.for_codec(codec);
            assert!(prompt.len() > rate * 9, "{} samples", prompt.len());
            let loud = prompt.iter().filter(|s| s.unsigned_abs() > 1000).count();
            assert!(loud > rate, "speech, not silence: {loud} loud samples");
            assert!(
                prompt[prompt.len() - rate..].iter().all(|s| *s == 0),
                "ends with a second of pause"
            );
        }
    }

    /// Receives the stream for 10 packets of `payload_type` and checks
    /// they carry the prompt at the codec's rate, encoded as a fresh
    /// encoder of the codec encodes it, with the RTP clock of the codec.
    async fn streams_the_prompt(payload_type: shared::hfa::PayloadType) {
        let codec = codec(payload_type).unwrap();
        let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let rtp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let rtcp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let to = RemoteMedia {
            rtp: phone.local_addr().unwrap(),
            rtcp_port: 9,
            payload_type,
            packet_ms: 20,
        };
        let (stop, stop_rx) = oneshot::channel();
        let task = tokio::spawn(stream(rtp, rtcp, to, Prompts::load(), stop_rx));
        let prompt = Prompts::load().for_codec(codec);
        let frame = codec.samples_per_frame(Duration::from_millis(20));
        let mut encoder = shared::media::coder::Encoder::new(codec).unwrap();
        let mut expected = Vec::new();
        let mut buffer = [0u8; 2048];
        let mut timestamps = Vec::new();
        for pcm in prompt.chunks(frame).take(10) {
            let (len, _) = phone.recv_from(&mut buffer).await.unwrap();
            assert_eq!(buffer[1] & 0x7f, payload_type.0);
            encoder.encode(pcm, &mut expected).unwrap();
            assert_eq!(&buffer[12..len], expected.as_slice(), "{codec:?}");
            timestamps.push(u32::from_be_bytes([
                buffer[4], buffer[5], buffer[6], buffer[7],
            ]));
        }
        assert!(
            timestamps
                .windows(2)
                .all(|t| t[1].wrapping_sub(t[0]) == 160),
            "8 kHz RTP clock for G.711 and G.722 alike: {timestamps:?}"
        );
        stop.send(()).unwrap();
        task.await.unwrap();
    }

    #[tokio::test]
    async fn streams_g711_at_8_khz_until_stopped() {
        streams_the_prompt(shared::hfa::PayloadType::PCMU).await;
    }

    #[tokio::test]
    async fn streams_g722_at_16_khz_until_stopped() {
        streams_the_prompt(shared::hfa::PayloadType::G722).await;
    }
}
