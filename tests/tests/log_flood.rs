//! Failed logins by the thousand against the real gateway over loopback
//! must not fill its log: each kind of line from each source is written a
//! few times per minute, and a summary line tells how many more there were.
//!
//! The gateway's log is captured as `gateway run` writes it (the tracing
//! fmt format at `info`); this test binary holds this one test, since the
//! subscriber is the process's.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use e2e_tests::flood::attacker_addresses;
use e2e_tests::portal::PortalOffice;
use e2e_tests::raw::RawPhone;
use e2e_tests::{ANNA, DAN};
use shared::hfa::Message;
use shared::hfa_engine::system::SystemTimers;
use shared::secret::Secret;
use softphone::portal::client::{ClientError, PortalClient};
use softphone::portal::{Network, ServerAddress};

const SOURCES: u8 = 4;
const HFA_TRIES_PER_SOURCE: usize = 250;
const PORTAL_TRIES_PER_SOURCE: usize = 100;
/// Without the limit, each failed try wrote a few hundred bytes (about
/// 580 KB here); with it, a few lines per source and kind.
const LOG_BOUND: usize = 64 * 1024;

/// Everything the gateway logs, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn install() -> Self {
        let captured = Self::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing_subscriber::util::SubscriberInitExt::try_init(subscriber)
            .expect("the only subscriber");
        captured
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

/// Lines logged with `what`, and the counts of the summaries of `kind`.
fn lines_and_suppressed(log: &str, what: &str, kind: &str) -> (usize, u64) {
    let lines = log.lines().filter(|line| line.contains(what)).count();
    let suppressed = log
        .lines()
        .filter(|line| line.contains(&format!("{kind} from ")))
        .filter_map(|line| {
            let (before, _) = line.split_once(" more suppressed in ")?;
            before.rsplit(' ').next()?.parse::<u64>().ok()
        })
        .sum();
    (lines, suppressed)
}

async fn failed_hfa_registration(gateway: SocketAddr, source: IpAddr) {
    let mut phone = RawPhone::connect_from(gateway, source).await;
    let challenge = phone.request_challenge().await;
    phone
        .register(challenge, (ANNA.0, "not-Annas-password"))
        .await;
    match phone.recv().await {
        Some(Message::RegisterDecline(_)) | None => {}
        other => panic!("a wrong password must be declined, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_by_the_thousand_write_a_bounded_log_with_counts() {
    let log = Captured::install();
    let office = PortalOffice::start(SystemTimers::default()).await;
    let hfa = office.gateway.hfa_addr();
    let server = ServerAddress::parse(&office.portal.to_string()).expect("the portal's address");
    let settings = office.dan(office.portal, None, Network::RemoteWifi, e2e_tests::HOME_IP);
    let wrong = Secret::new("not-Dans-password");

    let mut guessers = tokio::task::JoinSet::new();
    for source in attacker_addresses(5, SOURCES) {
        let client = PortalClient::new(&server, Some(source), &office.trust).expect("a client");
        let (wrong, app) = (wrong.clone(), settings.app.clone());
        guessers.spawn(async move {
            for _ in 0..HFA_TRIES_PER_SOURCE {
                failed_hfa_registration(hfa, source).await;
            }
            for _ in 0..PORTAL_TRIES_PER_SOURCE {
                match client.login(DAN.0, &wrong, &app).await {
                    Err(ClientError::Api { .. }) => {}
                    other => panic!("a wrong password must be refused, got {other:?}"),
                }
            }
        });
    }
    while let Some(done) = guessers.join_next().await {
        done.expect("a guesser ran to its end");
    }
    // Stopping writes what is still counted.
    office.stop().await;

    let text = log.text();
    let hfa_tries = (usize::from(SOURCES) * HFA_TRIES_PER_SOURCE) as u64;
    let portal_tries = (usize::from(SOURCES) * PORTAL_TRIES_PER_SOURCE) as u64;
    eprintln!("{} bytes of log:\n{text}", text.len());
    assert!(
        text.len() < LOG_BOUND,
        "{} bytes of log for {hfa_tries} + {portal_tries} failed logins",
        text.len()
    );
    // Every failed try is accounted for: written, or counted in a summary.
    let (written, suppressed) = lines_and_suppressed(
        &text,
        "HFA registration declined:",
        "HFA registration declined",
    );
    assert_eq!(written as u64 + suppressed, hfa_tries);
    assert!(suppressed > 0, "a summary with the count of the rest");
    let (written, suppressed) = lines_and_suppressed(
        &text,
        "myPortal to go request refused:",
        "myPortal to go request refused",
    );
    assert_eq!(written as u64 + suppressed, portal_tries);
    assert!(suppressed > 0, "a summary with the count of the rest");
}
