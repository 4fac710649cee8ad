//! Unit tests of [`MediaSession`] on its own: configuration, misuse,
//! hostile datagrams, report timing, determinism.

use super::super::rtcp::{self, RtcpPacket};
use super::*;

fn session(config: SessionConfig) -> (MediaSession, Instant) {
    let now = Instant::now();
    (MediaSession::new(config, now, 7).unwrap(), now)
}

#[test]
fn configurations_that_cannot_work_are_refused() {
    let now = Instant::now();
    let base = SessionConfig::new(Codec::Pcma, 1);
    let refused = |config: SessionConfig| MediaSession::new(config, now, 0).err();
    assert!(matches!(
        refused(SessionConfig {
            ptime: Duration::from_millis(25),
            ..base
        }),
        Some(MediaError::UnsupportedPtime { ms: 25, .. })
    ));
    assert_eq!(
        refused(SessionConfig {
            payload_type: 128,
            ..base
        }),
        Some(MediaError::BadPayloadType(128))
    );
    assert_eq!(
        refused(SessionConfig {
            dtmf_payload_type: Some(8),
            ..base
        }),
        Some(MediaError::BadPayloadType(8))
    );
    let jitter = JitterConfig {
        min_delay: Duration::from_secs(1),
        ..JitterConfig::default()
    };
    assert!(matches!(
        refused(SessionConfig { jitter, ..base }),
        Some(MediaError::BadJitterConfig(_))
    ));
    let opus = SessionConfig::new(Codec::Opus(super::super::codec::OpusBandwidth::Wideband), 1);
    let (s, _) = session(opus);
    assert_eq!((s.pcm_rate(), s.samples_per_frame()), (16_000, 320));
}

#[test]
fn misuse_is_counted_not_fatal() {
    let (mut s, now) = session(SessionConfig::new(Codec::Pcmu, 1));
    s.send_frame(now, &[0; 100]);
    s.send_dtmf(now, 'x');
    let mut short = [0i16; 10];
    assert_eq!(s.playout(now, &mut short), FrameSource::Silence);
    assert_eq!(s.stats().usage_errors, 3);
    assert!(s.poll_transmit().is_none());
    let no_dtmf = SessionConfig {
        dtmf_payload_type: None,
        ..SessionConfig::new(Codec::Pcmu, 1)
    };
    let (mut s, now) = session(no_dtmf);
    s.send_dtmf(now, '1');
    assert_eq!(s.stats().usage_errors, 1);
}

#[test]
fn hostile_datagrams_are_counted() {
    let (mut s, now) = session(SessionConfig::new(Codec::Pcma, 1));
    s.handle_rtp(now, &[0x80, 8, 0]);
    s.handle_rtcp(now, &[0x80, 201, 0, 9]);
    // A valid RTP packet of another payload type is discarded.
    s.handle_rtp(now, &[0x80, 0x63, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2]);
    // A G.711 packet of the wrong size too.
    s.handle_rtp(now, &[0x80, 8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2]);
    let stats = s.stats();
    assert_eq!(
        (stats.rtp_errors, stats.rtcp_errors, stats.discarded),
        (1, 1, 2),
        "{stats:?}"
    );
    assert_eq!(stats.remote_ssrc, Some(Ssrc(5)));
}

#[test]
fn reports_go_out_every_few_seconds_rr_until_we_send_then_sr() {
    let (mut s, now) = session(SessionConfig::new(Codec::Pcma, 1));
    let first = s.poll_timeout().unwrap();
    let delay = first - now;
    assert!(
        delay >= Duration::from_millis(1250) && delay < Duration::from_millis(3750),
        "{delay:?}"
    );
    s.handle_timeout(first - Duration::from_millis(1));
    assert!(s.poll_transmit().is_none(), "not due yet");
    s.handle_timeout(first);
    let rr = s.poll_transmit().unwrap();
    assert_eq!((rr.channel, rr.bytes[1]), (Channel::Rtcp, 201));
    let next = s.poll_timeout().unwrap() - first;
    assert!(
        next >= Duration::from_millis(2500) && next < Duration::from_millis(7500),
        "{next:?}"
    );
    s.send_frame(first, &[0; 160]);
    let rtp = s.poll_transmit().unwrap();
    assert_eq!((rtp.channel, rtp.bytes.len()), (Channel::Rtp, 172));
    assert_eq!(rtp.bytes[1], 0x88, "marker and PCMA on the first packet");
    let at = s.poll_timeout().unwrap();
    s.handle_timeout(at);
    assert_eq!(s.poll_transmit().unwrap().bytes[1], 200);
    s.close(at);
    let bye = s.poll_transmit().unwrap();
    assert!(
        rtcp::parse_compound(&bye.bytes)
            .unwrap()
            .iter()
            .any(|p| matches!(p, RtcpPacket::Bye { .. }))
    );
    s.close(at);
    s.send_frame(at, &[0; 160]);
    assert!(s.poll_transmit().is_none());
}

#[test]
fn a_session_can_move_to_a_driver_task() {
    fn send<T: Send>() {}
    send::<MediaSession>();
}

#[test]
fn the_same_seed_gives_the_same_session() {
    let now = Instant::now();
    let packets = |seed| {
        let mut s = MediaSession::new(SessionConfig::new(Codec::Pcma, 1), now, seed).unwrap();
        s.send_frame(now, &[0; 160]);
        (s.poll_transmit().unwrap().bytes, s.poll_timeout())
    };
    assert_eq!(packets(42), packets(42));
    assert_ne!(packets(42).0, packets(43).0);
}

#[test]
fn without_concealment_a_lost_frame_plays_as_silence() {
    let sine: Vec<i16> = (0..160)
        .map(|n| ((n as f64 * 0.785).sin() * 8000.0) as i16)
        .collect();
    let mut played = Vec::new();
    for concealment in [true, false] {
        let config = SessionConfig {
            concealment,
            ..SessionConfig::new(Codec::Pcma, 1)
        };
        let (mut sender, t0) = session(SessionConfig::new(Codec::Pcma, 2));
        let (mut receiver, _) = session(config);
        let mut out = [0i16; 160];
        let mut sources = Vec::new();
        for frame in 0..40u32 {
            let now = t0 + Duration::from_millis(u64::from(frame) * 20);
            sender.send_frame(now, &sine);
            while let Some(transmit) = sender.poll_transmit() {
                // Packet 20 is lost on the way.
                if transmit.channel == Channel::Rtp && frame != 20 {
                    receiver.handle_rtp(now, &transmit.bytes);
                }
            }
            let source = receiver.playout(now, &mut out);
            if source == FrameSource::Concealed {
                sources.push(out.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0));
            }
        }
        played.push(sources);
    }
    let (with, without) = (&played[0], &played[1]);
    assert_eq!(with.len(), 1, "one frame concealed: {with:?}");
    assert!(
        with[0] > 4000,
        "concealment repeats the sine: peak {}",
        with[0]
    );
    assert_eq!(without, &[0], "zero-fill plays silence");
}
