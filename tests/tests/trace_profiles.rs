//! Guide 7: the trace profiles, switched on and off through the running
//! gateway's status socket, each writing its own file; and `gateway status`
//! listing every registered device (type, release, source address and
//! port, LAN or internet, SBC channel and latch). Real gateway on loopback,
//! real HFA phones, a real myPortal to go client over HTTPS.

use std::path::Path;
use std::time::Duration;

use e2e_tests::portal::{PortalOffice, temp_dir};
use e2e_tests::{
    ANNA, BEN, DAN, EVE_ABROAD as EVE, HOME_IP, Handset, LAN_IP, PATIENCE, account, eve_abroad,
    phone,
};
use gateway::status::{self, Request};
use gateway::trace::{Profile, Rotation, Traces};
use shared::hfa_engine::phone::PhoneTimers;
use shared::hfa_engine::system::SystemTimers;
use shared::secret::Secret;
use softphone::portal::client::PortalClient;
use softphone::portal::{Network, ServerAddress};
use tracing_subscriber::prelude::*;

fn read(dir: &Path, profile: Profile) -> String {
    std::fs::read_to_string(dir.join(format!("{}.log", profile.name()))).unwrap_or_default()
}

async fn switch(data: &Path, profile: Profile, on: bool) {
    let answer = status::request(data, Request::Trace { profile, on })
        .await
        .expect("the gateway answers");
    let word = if on { "on" } else { "off" };
    assert!(
        answer.starts_with(&format!("trace {profile}: {word}")),
        "{answer}"
    );
}

/// The status report once `done` holds for it (bounded by [`PATIENCE`]).
async fn status_until(data: &Path, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let report = status::query(data).await.expect("the gateway answers");
        if done(&report) {
            return report;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} not in the status within {PATIENCE:?}:\n{report}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_switched_at_run_time_and_the_devices_in_the_status() {
    let data = temp_dir("traces");
    let data_path = data.path().to_owned();
    let trace_dir = data_path.join("traces");
    let traces = Traces::new();
    traces.set_directory(
        &trace_dir,
        Rotation {
            max_bytes: 1 << 20,
            files: 2,
        },
    );
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(traces.layer().filtered()),
    )
    .expect("the only subscriber of this test binary");
    let office = PortalOffice::start_traced(
        SystemTimers::default(),
        data,
        traces.clone(),
        vec![eve_abroad()],
    )
    .await;
    let hfa = office.gateway.hfa_addr();

    // Off: nothing is written.
    let mut ben = Handset::register(account(hfa, BEN, LAN_IP), PhoneTimers::default()).await;
    for profile in Profile::ALL {
        assert_eq!(read(&trace_dir, profile), "", "{profile} is off");
    }

    for profile in Profile::ALL {
        switch(&data_path, profile, true).await;
    }
    let status_report = status::query(&data_path).await.expect("status");
    assert!(
        status_report.contains("traces on: Voice_Fax_connection, SIP_Interconnection_Subscriber_ITSP, Calls_with_System_Device_HFA, CSTA_applications, Application"),
        "{status_report}"
    );

    // A wrong password, then Anna at home (127.0.1.x, outside 127.0.0.0/24).
    let (_wrong, mut wrong_events) = phone(
        account(hfa, (ANNA.0, "not-Annas-password"), HOME_IP),
        PhoneTimers::default(),
    );
    wrong_events.declined().await;
    let mut anna = Handset::register(account(hfa, ANNA, HOME_IP), PhoneTimers::default()).await;

    // Dan's app logs in and registers for VoIP from home.
    let server = ServerAddress::parse(&office.portal.to_string()).expect("an address");
    let client = PortalClient::new(&server, Some(HOME_IP), &office.trust).expect("a client");
    let app = office
        .dan(office.portal, None, Network::RemoteWifi, HOME_IP)
        .app;
    let password = Secret::new(DAN.1);
    let session = client
        .login(DAN.0, &password, &app)
        .await
        .expect("Dan logs in");
    client
        .register(&session.token, std::net::SocketAddr::new(HOME_IP, 41000))
        .await
        .expect("Dan registers");

    let report = status_until(&data_path, "Dan's app", |report| {
        report.contains("210 myPortal to go")
    })
    .await;
    let anna_line = report
        .lines()
        .find(|line| line.trim_start().starts_with("201 "))
        .unwrap_or_else(|| panic!("Anna listed:\n{report}"));
    assert!(
        anna_line.contains("OpenStage") || anna_line.contains("(HFA)"),
        "{anna_line}"
    );
    assert!(anna_line.contains("release V"), "{anna_line}");
    assert!(anna_line.contains("from 127.0.1.20:"), "{anna_line}");
    assert!(anna_line.ends_with("(internet)"), "{anna_line}");
    let ben_line = report
        .lines()
        .find(|line| line.trim_start().starts_with("202 "))
        .unwrap_or_else(|| panic!("Ben listed:\n{report}"));
    assert!(ben_line.contains("from 127.0.0.1:"), "{ben_line}");
    assert!(ben_line.ends_with("(LAN)"), "{ben_line}");
    let dan_line = report
        .lines()
        .find(|line| line.trim_start().starts_with("210 "))
        .unwrap_or_else(|| panic!("Dan listed:\n{report}"));
    assert!(
        dan_line.contains(&format!(
            "myPortal to go (android), release {}",
            app.version
        )),
        "{dan_line}"
    );
    assert!(dan_line.contains("from 127.0.1.20:"), "{dan_line}");
    assert!(dan_line.ends_with("(internet)"), "{dan_line}");

    // Anna calls Ben, Ben answers: her side of the call goes through an
    // SBC channel, learning her media (her phone sends none here).
    anna.press("h202");
    ben.until("the ringer", |m| m.ringer()).await;
    ben.press("h");
    anna.until("media", |m| m.media().is_some()).await;
    status_until(&data_path, "Anna's SBC channel, learning", |report| {
        report.lines().any(|line| {
            line.trim_start().starts_with("201 ")
                && line.contains("SBC channel")
                && line.ends_with(": learning")
        })
    })
    .await;
    anna.press("u");

    // Eve calls abroad on the test trunk.
    let mut eve = Handset::register(account(hfa, EVE, LAN_IP), PhoneTimers::default()).await;
    eve.press("h000441234567#");
    eve.until("the trunk's answer", |m| m.display_row(1) == "Connected")
        .await;
    eve.press("u");
    let sip = read(&trace_dir, Profile::SipInterconnection);
    assert!(sip.contains("outgoing call on the test trunk"), "{sip}");
    assert!(sip.contains("number=\"00441234567\""), "{sip}");

    let hfa_trace = read(&trace_dir, Profile::HfaCalls);
    assert!(hfa_trace.contains("HFA phone registered"), "{hfa_trace}");
    assert!(
        hfa_trace.contains("HFA registration declined"),
        "{hfa_trace}"
    );
    // Ben registered while the profile was off.
    assert!(
        !hfa_trace
            .lines()
            .any(|line| line.contains("HFA phone registered") && line.contains("\"202\"")),
        "{hfa_trace}"
    );
    let csta = read(&trace_dir, Profile::Csta);
    assert!(csta.contains("myPortal to go login"), "{csta}");
    assert!(!csta.contains("HFA phone registered"), "{csta}");
    let voice = read(&trace_dir, Profile::VoiceFax);
    assert!(voice.contains("sbc: channel anchored"), "{voice}");
    let application = read(&trace_dir, Profile::Application);
    assert!(
        application.contains("myPortal to go login"),
        "{application}"
    );
    assert!(
        application.contains("HFA phone registered"),
        "{application}"
    );
    // Lines start with the UTC time to the microsecond: 2026-12-07T13:04:05.123456Z.
    let first = hfa_trace.lines().nth(1).expect("a traced line");
    let stamp = first.split(' ').next().expect("a timestamp");
    assert_eq!(stamp.len(), 27, "{first}");
    assert!(
        stamp.ends_with('Z') && stamp.as_bytes()[19] == b'.',
        "{first}"
    );
    let digits = stamp.replace(['-', ':', 'T', '.', 'Z'], "");
    assert!(
        digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()),
        "{first}"
    );

    // No password, session token or proof in any trace.
    for profile in Profile::ALL {
        let text = read(&trace_dir, profile);
        for secret in [
            ANNA.1,
            BEN.1,
            DAN.1,
            EVE.1,
            "not-Annas-password",
            session.token.expose(),
        ] {
            assert!(!text.contains(secret), "{profile} holds a secret");
        }
        assert!(!text.to_lowercase().contains("proof"), "{profile}: {text}");
    }

    // The HFA profile off: Anna registering again is in the application
    // trace only.
    switch(&data_path, Profile::HfaCalls, false).await;
    let hfa_before = read(&trace_dir, Profile::HfaCalls);
    let app_before = read(&trace_dir, Profile::Application).len();
    drop(anna);
    let _anna = Handset::register(account(hfa, ANNA, HOME_IP), PhoneTimers::default()).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !read(&trace_dir, Profile::Application)[app_before..].contains("HFA phone registered") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the new registration reached the application trace"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(read(&trace_dir, Profile::HfaCalls), hfa_before);
    assert!(hfa_before.ends_with("Calls_with_System_Device_HFA switched off\n"));
    office.stop().await;
}
