//! Dynamic DNS (guide 3.2): the company's public address changes while a
//! home phone stays registered. The gateway looks its DNS name up again and
//! the phone's next call is sent to the new address, without a restart
//! and without the phone registering again. The name is resolved by a
//! resolver the test controls (the DNS server's part); the sockets, the
//! SBC and the phone are real.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use e2e_tests::{ANNA, HOME_IP, Handset, LAN_IP, account, next_rtp_range, office_config_on_any};
use gateway::gateway::{Gateway, StartOptions};
use gateway::public_ip::{Lookup, Resolver};
use softphone::media::call::MediaReport;

const NAME: &str = "company.example.test";
/// Two public addresses the company router might get; both reach the
/// gateway listening on 0.0.0.0 over loopback.
const FIRST: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 3, 1));
const SECOND: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 3, 2));

/// The dynamic DNS entry of the company router.
#[derive(Debug)]
struct DynDns(Mutex<IpAddr>);

impl DynDns {
    fn point_to(&self, ip: IpAddr) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = ip;
    }
}

impl Resolver for DynDns {
    fn lookup<'a>(&'a self, name: &'a str) -> Lookup<'a> {
        let answer = if name == NAME {
            Ok(vec![*self.0.lock().unwrap_or_else(PoisonError::into_inner)])
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{name}: unknown"),
            ))
        };
        Box::pin(async move { answer })
    }
}

/// Anna calls the echo test; where her phone is told to send media.
async fn media_target_of_a_call(anna: &mut Handset) -> SocketAddr {
    anna.press("h*98");
    let report = anna
        .media_report("media", |r| matches!(r, MediaReport::Started { .. }))
        .await;
    let MediaReport::Started { remote, .. } = report else {
        unreachable!("matched above")
    };
    anna.media_report("a quality report", |r| matches!(r, MediaReport::Quality(_)))
        .await;
    anna.press("u");
    anna.media_report("media to stop", |r| matches!(r, MediaReport::Stopped(_)))
        .await;
    remote
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_public_address_reaches_a_registered_phones_next_call() {
    let dns = Arc::new(DynDns(Mutex::new(FIRST)));
    let options = StartOptions {
        hfa_listen: Some(SocketAddr::new(LAN_IP, 0)),
        rtp_range: Some(next_rtp_range()),
        resolver: Some(dns.clone()),
        ..StartOptions::default()
    };
    let gateway = Gateway::start(office_config_on_any(NAME), options)
        .await
        .expect("the gateway starts");
    assert_eq!(gateway.public_ip(), Some(FIRST));

    let mut anna =
        Handset::register_without_sound(account(gateway.hfa_addr(), ANNA, HOME_IP)).await;
    let first = media_target_of_a_call(&mut anna).await;
    assert_eq!(first.ip(), FIRST);

    // The provider hands the company router a new address; the DNS entry
    // follows, and the gateway's next lookup sees it.
    dns.point_to(SECOND);
    assert_eq!(gateway.refresh_public_ip().await.ok(), Some(SECOND));
    assert_eq!(gateway.public_ip(), Some(SECOND));

    let second = media_target_of_a_call(&mut anna).await;
    assert_eq!(second.ip(), SECOND, "the next call uses the new address");

    anna.client.stop().await;
    gateway.stop().await;
}
