//! Arbitrary bytes as RTP and RTCP datagrams, into the parsers and into
//! media sessions of every codec. Nothing may panic; a parsed RTP packet
//! must write back to the same header and payload; a session's figures
//! must stay in range.
//!
//! The whole input is first one datagram (so a seed file from
//! `shared/tests/corpus/media` is a useful input as it is), then a sequence
//! of records `[flags][length][bytes]`: flags bit 0 RTP or RTCP, bits 1-3
//! the codec's session (modulo their number), bits 4-7 milliseconds to
//! advance the clock.

#![no_main]

use std::time::{Duration, Instant};

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use shared::media::dtmf::TelephoneEvent;
use shared::media::{Codec, MediaSession, OpusBandwidth, SessionConfig, rtcp, rtp};

const CODECS: [Codec; 5] = [
    Codec::Pcma,
    Codec::Pcmu,
    Codec::G722,
    Codec::Opus(OpusBandwidth::Narrowband),
    Codec::Opus(OpusBandwidth::Wideband),
];

fn check_parsers(bytes: &[u8]) {
    if let Ok(packet) = rtp::parse(bytes) {
        let mut out = BytesMut::new();
        rtp::write(&packet.header, packet.payload, &mut out).expect("a parsed header writes");
        assert_eq!(rtp::parse(&out), Ok(packet));
    }
    let _ = rtcp::parse_compound(bytes);
    let _ = TelephoneEvent::parse(bytes);
}

struct Rig {
    session: MediaSession,
    next_playout: Instant,
    out: Vec<i16>,
}

impl Rig {
    fn feed(&mut self, now: Instant, bytes: &[u8], as_rtp: bool) {
        if as_rtp {
            self.session.handle_rtp(now, bytes);
        } else {
            self.session.handle_rtcp(now, bytes);
        }
        while self.next_playout <= now {
            self.session.playout(self.next_playout, &mut self.out);
            self.session
                .send_frame(self.next_playout, &self.out.clone());
            self.next_playout += Duration::from_millis(20);
        }
        if self.session.poll_timeout().is_some_and(|at| at <= now) {
            self.session.handle_timeout(now);
        }
        while self.session.poll_transmit().is_some() {}
        while self.session.poll_event().is_some() {}
        let stats = self.session.stats();
        assert!((1.0..=4.5).contains(&stats.mos));
        assert!((0.0..=1.0).contains(&stats.loss_fraction));
        assert_eq!(stats.usage_errors, 0);
    }
}

fuzz_target!(|data: &[u8]| {
    let t0 = Instant::now();
    let mut rigs: Vec<Rig> = CODECS
        .iter()
        .map(|&codec| {
            let session = MediaSession::new(SessionConfig::new(codec, 0x1234_5678), t0, 9)
                .expect("a valid configuration");
            let out = vec![0; session.samples_per_frame()];
            Rig {
                session,
                next_playout: t0,
                out,
            }
        })
        .collect();

    check_parsers(data);
    for rig in &mut rigs {
        rig.feed(t0, data, true);
        rig.feed(t0, data, false);
    }

    let mut now = t0;
    let mut rest = data;
    while let [flags, len, tail @ ..] = rest {
        let take = usize::from(*len).min(tail.len());
        let (datagram, tail) = tail.split_at(take);
        rest = tail;
        now += Duration::from_millis(u64::from(flags >> 4));
        check_parsers(datagram);
        let rig = &mut rigs[usize::from((flags >> 1) & 7) % CODECS.len()];
        rig.feed(now, datagram, flags & 1 == 1);
    }
});
