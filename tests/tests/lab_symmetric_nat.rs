//! A home router with symmetric NAT (guide section 5: "The Home router must
//! provide VoIP enabled NAT (no symmetric NAT)"), in the lab's real NAT:
//!
//! - How the user learns it: the NAT check from home (`softphone
//!   nat-check`, the same discovery) says symmetric NAT and that
//!   Device@Home will not work with it, in the guide's words.
//! - What fails: the router gives the phone's RTP socket a different
//!   public port for the company than the port the phone announced, so the
//!   SBC cannot latch the announced port; it waits out its 1 s preference
//!   for it (docs/sbc.md, latching rule 3) before it takes the NAT's port,
//!   and until then drops the phone's media and has nowhere to send the
//!   office's: the first second of every call is lost both ways. On an
//!   endpoint-independent router the same call loses nothing
//!   (`lab_hfa_call.rs`).
//!
//! Needs root; real time (~12 s of speech).

use std::net::SocketAddr;

use e2e_tests::netlab::office::Office;
use e2e_tests::netlab::{HOME_PUBLIC, HomeNat, STUN_PORT, STUN_PRIMARY};
use e2e_tests::speech::{read_wav, reference, temp};
use gateway::sbc::LatchStatus;
use shared::stun::{Mapping, Retransmission};
use softphone::audio::AudioEvent;
use softphone::media::call::MediaReport;

/// RTP packets per second of a 20 ms G.711 stream.
const PACKETS_PER_SECOND: u64 = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_symmetric_home_nat_the_check_warns_and_each_call_loses_its_first_second() {
    let office = Office::start(HomeNat::Symmetric).await;

    // What the user is told.
    let behaviour = office
        .home
        .run(gateway::stun::nat_behaviour(
            SocketAddr::from((STUN_PRIMARY, STUN_PORT)),
            Retransmission::DISCOVERY,
        ))
        .await
        .expect("the NAT check from home");
    let report = behaviour.report("home router");
    eprintln!("{}", report.join("\n"));
    assert_eq!(behaviour.mapping, Ok(Mapping::AddressAndPortDependent));
    assert!(
        report.iter().any(|line| line.starts_with(
            "WARNING: the home router does symmetric NAT. Device@Home will not work with it"
        )),
        "{report:#?}"
    );

    // What happens to a call.
    let (reference_file, _) = reference();
    let (anna_file, ben_file) = (temp("symmetric-anna.wav"), temp("symmetric-ben.wav"));
    let (mut anna, mut ben) = office
        .speech_call(reference_file, &anna_file, &ben_file)
        .await;
    anna.media_report("a quality report (2 s)", |r| {
        matches!(r, MediaReport::Quality(_))
    })
    .await;
    let announced = anna.local_rtp();
    let mapped = office
        .home_mapping(announced.port())
        .expect("the home router tracks Anna's RTP");
    let channel = office
        .gateway
        .sbc()
        .stats()
        .channels
        .into_iter()
        .find(|c| c.anchored)
        .expect("Anna's leg runs through an SBC channel");
    eprintln!(
        "Anna announced RTP port {}; the router sends it as {HOME_PUBLIC}:{mapped}; {channel:?}",
        announced.port()
    );
    assert_ne!(mapped, announced.port(), "symmetric NAT changes the port");
    let LatchStatus::Latched { source, .. } = channel.latch else {
        panic!("the channel latched the NAT's port after its preference: {channel:?}")
    };
    assert_eq!(source, SocketAddr::from((HOME_PUBLIC, mapped)));
    let dropped = channel.call.dropped;
    assert!(
        dropped.probation >= PACKETS_PER_SECOND / 2,
        "Anna's first packets were dropped while the SBC waited for her announced port: \
         {dropped:?}"
    );
    assert!(
        dropped.no_destination >= PACKETS_PER_SECOND / 2,
        "Ben's first packets had nowhere to go: {dropped:?}"
    );

    for (who, phone) in [("Anna", &mut anna), ("Ben", &mut ben)] {
        phone
            .media_report(&format!("{who}'s speech to end"), |r| {
                matches!(r, MediaReport::Audio(AudioEvent::PlaybackFinished))
            })
            .await;
    }
    anna.press("u");
    ben.media_report("media to stop", |r| matches!(r, MediaReport::Stopped(_)))
        .await;
    ben.press("u");
    anna.client.stop().await;
    ben.client.stop().await;
    office.stop().await;

    // After the first second the call is clean: what was relayed arrived.
    let (anna_heard, ben_heard) = (read_wav(&anna_file), read_wav(&ben_file));
    let _ = (
        std::fs::remove_file(&anna_file),
        std::fs::remove_file(&ben_file),
    );
    for (who, heard) in [("Anna", &anna_heard), ("Ben", &ben_heard)] {
        let silent_start = heard
            .iter()
            .position(|sample| sample.unsigned_abs() > 1000)
            .expect("speech was heard") as f64
            / 8000.0;
        eprintln!("{who} heard the first speech {silent_start:.2} s into the call");
    }
}
