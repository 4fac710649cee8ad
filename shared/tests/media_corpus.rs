//! The RTP/RTCP parsers and a media session over the seed corpus in
//! `tests/corpus/media/`, and over seeded random mutations of it.
//!
//! File names say what each datagram is and what to expect:
//! - `rtp-ok-*.bin` / `rtp-err-*.bin`: an RTP datagram that parses (and
//!   writes back to the same header and payload) / that is rejected;
//! - `rtcp-ok-*.bin` / `rtcp-err-*.bin`: the same for a compound RTCP
//!   datagram.
//!
//! Whatever the bytes, nothing may panic, and a session keeps counting.
//! The same files seed the cargo-fuzz target (`fuzz/`,
//! `cargo fuzz run media_rtp ../shared/tests/corpus/media`).

mod support;

use support::{Rng, corpus};

use std::time::{Duration, Instant};

use bytes::BytesMut;
use shared::media::dtmf::TelephoneEvent;
use shared::media::{Codec, FrameSource, MediaSession, OpusBandwidth, SessionConfig, rtcp, rtp};

const CODECS: [Codec; 4] = [
    Codec::Pcma,
    Codec::Pcmu,
    Codec::Opus(OpusBandwidth::Narrowband),
    Codec::Opus(OpusBandwidth::Wideband),
];

/// The parsers on one datagram: a parsed RTP packet writes back to the same
/// header and payload; nothing panics. Returns whether RTP and RTCP parsed.
fn check_parsers(bytes: &[u8]) -> (bool, bool) {
    let rtp_ok = match rtp::parse(bytes) {
        Ok(packet) => {
            let mut out = BytesMut::new();
            rtp::write(&packet.header, packet.payload, &mut out).expect("a parsed header writes");
            assert_eq!(rtp::parse(&out), Ok(packet), "{bytes:02x?}");
            true
        }
        Err(_) => false,
    };
    let _ = TelephoneEvent::parse(bytes);
    (rtp_ok, rtcp::parse_compound(bytes).is_ok())
}

/// A session fed datagrams on a virtual clock, playing out as it goes.
struct Rig {
    session: MediaSession,
    now: Instant,
    next_playout: Instant,
    out: Vec<i16>,
}

impl Rig {
    fn new(codec: Codec) -> Self {
        let now = Instant::now();
        let session = MediaSession::new(SessionConfig::new(codec, 0x1234_5678), now, 9)
            .expect("a valid configuration");
        let out = vec![0; session.samples_per_frame()];
        Self {
            session,
            now,
            next_playout: now,
            out,
        }
    }

    fn feed(&mut self, bytes: &[u8], as_rtp: bool, advance: Duration) {
        self.now += advance;
        if as_rtp {
            self.session.handle_rtp(self.now, bytes);
        } else {
            self.session.handle_rtcp(self.now, bytes);
        }
        while self.next_playout <= self.now {
            let source = self.session.playout(self.next_playout, &mut self.out);
            if source == FrameSource::Silence {
                assert!(self.out.iter().all(|&s| s == 0));
            }
            self.session
                .send_frame(self.next_playout, &self.out.clone());
            self.next_playout += Duration::from_millis(20);
        }
        if self.session.poll_timeout().is_some_and(|at| at <= self.now) {
            self.session.handle_timeout(self.now);
        }
        while self.session.poll_transmit().is_some() {}
        while self.session.poll_event().is_some() {}
        let stats = self.session.stats();
        assert!((1.0..=4.5).contains(&stats.mos), "{stats:?}");
        assert!((0.0..=1.0).contains(&stats.loss_fraction), "{stats:?}");
        assert_eq!(stats.usage_errors, 0, "{stats:?}");
    }
}

#[test]
fn every_corpus_file_parses_as_its_name_says() {
    let files = corpus("media");
    assert!(files.len() >= 40, "corpus has {} files", files.len());
    for (name, bytes) in &files {
        let (rtp_ok, rtcp_ok) = check_parsers(bytes);
        let expected = if name.starts_with("rtp-ok-") {
            rtp_ok
        } else if name.starts_with("rtp-err-") {
            !rtp_ok
        } else if name.starts_with("rtcp-ok-") {
            rtcp_ok
        } else if name.starts_with("rtcp-err-") {
            !rtcp_ok
        } else {
            panic!("corpus file {name} has no rtp-/rtcp- ok-/err- prefix");
        };
        assert!(expected, "{name}: rtp {rtp_ok}, rtcp {rtcp_ok}");
    }
}

#[test]
fn corpus_files_into_sessions_of_every_codec() {
    for codec in CODECS {
        let mut rig = Rig::new(codec);
        for (name, bytes) in corpus("media") {
            rig.feed(&bytes, name.starts_with("rtp-"), Duration::from_millis(7));
            rig.feed(&bytes, !name.starts_with("rtp-"), Duration::from_millis(7));
        }
        let stats = rig.session.stats();
        assert!(
            stats.rtp_errors > 0 && stats.rtcp_errors > 0,
            "{codec:?}: {stats:?}"
        );
        assert!(stats.received > 0, "{codec:?}: {stats:?}");
    }
}

fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>, other: &[u8]) {
    for _ in 0..=rng.below(3) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(8) {
            0 if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
            1 if at < bytes.len() => bytes[at] = rng.next() as u8,
            2 => bytes.insert(at, rng.next() as u8),
            3 if at < bytes.len() => {
                bytes.remove(at);
            }
            4 => bytes.truncate(at),
            5 => bytes.extend_from_slice(other),
            // Plausible header damage: sequence number, timestamp, SSRC,
            // or an RTCP length field.
            6 if bytes.len() >= 12 => {
                let field = 2 + 2 * rng.below(5);
                bytes[field] = rng.next() as u8;
            }
            _ if bytes.len() >= 4 => {
                let len = (rng.below(bytes.len() / 4 + 4)) as u16;
                bytes[2..4].copy_from_slice(&len.to_be_bytes());
            }
            _ => {}
        }
    }
}

#[test]
fn mutated_datagrams_never_panic_and_sessions_keep_counting() {
    let seeds: Vec<(String, Vec<u8>)> = corpus("media");
    let mut rng = Rng(0x5eed_4d45_4449_4101);
    let mut rigs: Vec<Rig> = CODECS.iter().map(|&c| Rig::new(c)).collect();
    let (mut rtp_parsed, mut rtcp_parsed) = (0, 0);
    for i in 0..20_000 {
        let (name, seed) = &seeds[rng.below(seeds.len())];
        let mut bytes = seed.clone();
        let other = &seeds[rng.below(seeds.len())].1;
        mutate(&mut rng, &mut bytes, other);
        let (rtp_ok, rtcp_ok) = check_parsers(&bytes);
        rtp_parsed += usize::from(rtp_ok);
        rtcp_parsed += usize::from(rtcp_ok);
        let rig = &mut rigs[i % CODECS.len()];
        let advance = Duration::from_millis(rng.below(25) as u64);
        rig.feed(&bytes, name.starts_with("rtp-"), advance);
    }
    assert!(
        rtp_parsed > 4000 && rtcp_parsed > 800,
        "mutations too destructive: {rtp_parsed} RTP, {rtcp_parsed} RTCP parsed"
    );
    for rig in &rigs {
        let stats = rig.session.stats();
        assert!(
            stats.received + stats.discarded > 100
                && stats.rtp_errors > 100
                && stats.rtcp_errors > 100,
            "{stats:?}"
        );
    }
}
