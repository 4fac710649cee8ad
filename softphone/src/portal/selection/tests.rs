//! The guide's network changes on a virtual clock.

use super::*;

const LAN: &str = "10.10.0.2:8802";
const WAN: &str = "company.example.com:8802";

struct Rig {
    selection: Selection,
    now: Instant,
}

fn server(text: &str) -> ServerAddress {
    ServerAddress::parse(text).expect("server")
}

fn flags(voip: bool, remote_wifi: bool) -> VoipFlags {
    VoipFlags { voip, remote_wifi }
}

impl Rig {
    fn new(network: Network, flags: VoipFlags, lan: bool) -> Self {
        let now = Instant::now();
        let selection = Selection::new(
            server(WAN),
            lan.then(|| server(LAN)),
            flags,
            network,
            SelectionTimers::default(),
            now,
        );
        Self { selection, now }
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.selection.handle_timeout(self.now);
    }

    /// The one action queued: a registration through `route`.
    fn expect_register(&mut self, route: Route) -> AttemptId {
        match self.selection.poll_action() {
            Some(Action::Register {
                attempt,
                route: asked,
                server: through,
            }) => {
                assert_eq!(asked, route);
                assert_eq!(through, server(if route == Route::Lan { LAN } else { WAN }));
                assert_eq!(self.selection.poll_action(), None);
                attempt
            }
            other => panic!("expected a registration via {route}, got {other:?}"),
        }
    }

    /// Every status change since the last call, as text with elapsed ms.
    fn statuses(&mut self) -> Vec<(String, u128)> {
        std::iter::from_fn(|| self.selection.poll_event())
            .map(|change| (change.status.to_string(), change.elapsed.as_millis()))
            .collect()
    }
}

fn lines(expected: &[(&str, u128)]) -> Vec<(String, u128)> {
    expected
        .iter()
        .map(|(text, ms)| ((*text).to_owned(), *ms))
        .collect()
}

#[test]
fn company_wifi_registers_through_the_lan_server() {
    let mut rig = Rig::new(Network::CompanyWifi, flags(true, false), true);
    let attempt = rig.expect_register(Route::Lan);
    rig.advance(Duration::from_millis(120));
    rig.selection.registered(rig.now, attempt);
    assert_eq!(
        rig.statuses(),
        lines(&[
            ("Registering via LAN server 10.10.0.2:8802", 0),
            ("Registered via LAN server 10.10.0.2:8802", 120),
        ])
    );
    assert_eq!(rig.selection.poll_timeout(), None);
}

#[test]
fn an_unreachable_lan_server_falls_back_to_wan_after_the_timeout() {
    let mut rig = Rig::new(Network::CompanyWifi, flags(true, false), true);
    let lan = rig.expect_register(Route::Lan);
    assert_eq!(
        rig.selection.poll_timeout(),
        Some(rig.now + Duration::from_secs(3))
    );
    rig.advance(Duration::from_millis(2_999));
    assert_eq!(rig.selection.poll_action(), None, "not before 3 s");
    rig.advance(Duration::from_millis(1));
    let wan = rig.expect_register(Route::Wan);
    // The LAN answer that comes too late changes nothing.
    rig.selection.registered(rig.now, lan);
    rig.advance(Duration::from_millis(400));
    rig.selection.registered(rig.now, wan);
    assert_eq!(
        rig.statuses(),
        lines(&[
            ("Registering via LAN server 10.10.0.2:8802", 0),
            ("Registering via WAN server company.example.com:8802", 3_000),
            ("Registered via WAN server company.example.com:8802", 3_400),
        ])
    );
}

#[test]
fn lan_silent_and_wan_refusing_says_both() {
    let mut rig = Rig::new(Network::CompanyWifi, flags(true, false), true);
    let lan = rig.expect_register(Route::Lan);
    rig.selection.failed(rig.now, lan, ServerFailure::NoAnswer);
    let wan = rig.expect_register(Route::Wan);
    rig.advance(Duration::from_millis(50));
    rig.selection.failed(
        rig.now,
        wan,
        ServerFailure::Refused("Internet registration is off (guide 2.2)".into()),
    );
    let last = rig.statuses().pop().expect("a status");
    assert_eq!(
        last.0,
        "Not registered: LAN server 10.10.0.2:8802 did not answer, WAN server \
         company.example.com:8802 refused: Internet registration is off (guide 2.2)"
    );
    // Retried a second later (±25 %), from the LAN server again, or at once
    // if asked.
    rig.advance(Duration::from_millis(1250));
    let lan = rig.expect_register(Route::Lan);
    rig.selection.retry(rig.now);
    assert_eq!(rig.selection.poll_action(), None, "only after a failure");
    rig.selection
        .failed(rig.now, lan, ServerFailure::Refused("Login failed".into()));
    rig.selection.retry(rig.now);
    rig.expect_register(Route::Lan);
}

/// The attempts started (the failed ones answered at once) as `now`
/// advances in 50 ms steps for `span`: each attempt's time since the start.
fn attempts_failing_for(rig: &mut Rig, span: Duration) -> Vec<Duration> {
    let start = rig.now;
    let mut times = Vec::new();
    while rig.now - start < span {
        if let Some(Action::Register { attempt, .. }) = rig.selection.poll_action() {
            times.push(rig.now - start);
            rig.selection
                .failed(rig.now, attempt, ServerFailure::NoAnswer);
        }
        rig.advance(Duration::from_millis(50));
    }
    times
}

#[test]
fn retries_back_off_from_a_second_to_thirty_and_start_over_once_registered() {
    let mut rig = Rig::new(Network::RemoteWifi, flags(true, true), false);
    let times = attempts_failing_for(&mut rig, Duration::from_secs(300));
    let waits: Vec<_> = times.windows(2).map(|pair| pair[1] - pair[0]).collect();
    let step = Duration::from_millis(50);
    for (failures, wait) in (1..).zip(&waits) {
        let base = SelectionTimers::default().retry_after(failures);
        assert!(
            *wait >= base.mul_f64(0.75) && *wait <= base.mul_f64(1.25) + step,
            "wait {failures}: {wait:?} (all: {waits:?})"
        );
    }
    assert!(waits.len() > 10, "it keeps trying: {waits:?}");
    assert_eq!(
        SelectionTimers::default().retry_after(100),
        Duration::from_secs(30)
    );
    // The server answers again: found within the wait under way, and the
    // next failure waits a second again.
    let deadline = rig.selection.poll_timeout().expect("a retry is due");
    rig.advance(deadline - rig.now);
    let attempt = rig.expect_register(Route::Wan);
    rig.selection.registered(rig.now, attempt);
    rig.selection.lost(rig.now);
    let again = rig.expect_register(Route::Wan);
    rig.selection
        .failed(rig.now, again, ServerFailure::NoAnswer);
    let wait = rig.selection.poll_timeout().expect("a retry is due") - rig.now;
    assert!(wait <= Duration::from_millis(1250), "{wait:?}");
}

#[test]
fn a_lan_refusal_does_not_go_to_wan() {
    let mut rig = Rig::new(Network::CompanyWifi, flags(true, false), true);
    let lan = rig.expect_register(Route::Lan);
    rig.selection
        .failed(rig.now, lan, ServerFailure::Refused("Login failed".into()));
    assert_eq!(rig.selection.poll_action(), None);
    assert_eq!(
        rig.statuses().pop().expect("a status").0,
        "Not registered: LAN server 10.10.0.2:8802 refused: Login failed"
    );
}

#[test]
fn remote_wifi_needs_its_flag_then_goes_through_wan() {
    let mut rig = Rig::new(Network::CompanyWifi, flags(true, false), true);
    let lan = rig.expect_register(Route::Lan);
    rig.selection.registered(rig.now, lan);
    rig.statuses();

    rig.advance(Duration::from_secs(60));
    rig.selection.set_network(rig.now, Network::RemoteWifi);
    assert_eq!(rig.selection.poll_action(), Some(Action::Unregister));
    assert_eq!(
        rig.statuses(),
        lines(&[("Not registered: VoIP in remote WiFi networks is off", 0)])
    );

    rig.advance(Duration::from_secs(5));
    rig.selection.set_flags(rig.now, flags(true, true));
    let wan = rig.expect_register(Route::Wan);
    rig.advance(Duration::from_millis(250));
    rig.selection.registered(rig.now, wan);
    assert_eq!(
        rig.statuses(),
        lines(&[
            ("Registering via WAN server company.example.com:8802", 0),
            ("Registered via WAN server company.example.com:8802", 250),
        ])
    );
}

#[test]
fn mobile_data_and_voip_off_are_unavailable() {
    let mut rig = Rig::new(Network::RemoteWifi, flags(true, true), true);
    let wan = rig.expect_register(Route::Wan);
    rig.selection.registered(rig.now, wan);
    rig.statuses();

    rig.selection.set_network(rig.now, Network::Mobile);
    assert_eq!(rig.selection.poll_action(), Some(Action::Unregister));
    assert_eq!(
        rig.statuses(),
        lines(&[("Not registered: VoIP is not available on mobile data", 0)])
    );
    // Unavailable stays quiet: no timer, no second unregister.
    assert_eq!(rig.selection.poll_timeout(), None);
    rig.selection.set_flags(rig.now, flags(false, true));
    assert_eq!(rig.selection.poll_action(), None);
    assert_eq!(rig.statuses(), lines(&[("Not registered: VoIP is off", 0)]));

    rig.advance(Duration::from_secs(1));
    rig.selection.set_network(rig.now, Network::CompanyWifi);
    assert_eq!(rig.selection.poll_action(), None, "VoIP is still off");
    rig.selection.set_flags(rig.now, flags(true, true));
    rig.expect_register(Route::Lan);
}

#[test]
fn a_network_change_re_registers_even_through_the_same_server() {
    let mut rig = Rig::new(Network::RemoteWifi, flags(true, true), false);
    let first = rig.expect_register(Route::Wan);
    rig.selection.registered(rig.now, first);
    // Without a LAN server, the company WiFi uses the WAN server too, but
    // from a new local address.
    rig.selection.set_network(rig.now, Network::CompanyWifi);
    let second = rig.expect_register(Route::Wan);
    assert_ne!(first, second);
    // A flag change that does not change the server does nothing.
    rig.selection.set_flags(rig.now, flags(true, false));
    assert_eq!(rig.selection.poll_action(), None);
    rig.selection.set_flags(rig.now, flags(true, true));
    // Another remote WiFi: same kind of network, new address.
    rig.selection.registered(rig.now, second);
    rig.selection.set_network(rig.now, Network::RemoteWifi);
    let third = rig.expect_register(Route::Wan);
    rig.selection.registered(rig.now, third);
    rig.selection.address_changed(rig.now);
    rig.expect_register(Route::Wan);
    // On mobile data a new address changes nothing.
    rig.selection.set_network(rig.now, Network::Mobile);
    assert_eq!(rig.selection.poll_action(), Some(Action::Unregister));
    rig.selection.address_changed(rig.now);
    assert_eq!(rig.selection.poll_action(), None);
}

#[test]
fn a_lost_registration_registers_again() {
    let mut rig = Rig::new(Network::CompanyWifi, flags(true, false), true);
    let lan = rig.expect_register(Route::Lan);
    rig.selection.registered(rig.now, lan);
    rig.statuses();
    rig.advance(Duration::from_secs(100));
    rig.selection.failed(rig.now, lan, ServerFailure::NoAnswer);
    let again = rig.expect_register(Route::Lan);
    rig.advance(Duration::from_millis(80));
    rig.selection.registered(rig.now, again);
    assert_eq!(
        rig.statuses(),
        lines(&[
            ("Registering via LAN server 10.10.0.2:8802", 0),
            ("Registered via LAN server 10.10.0.2:8802", 80),
        ])
    );
}

#[test]
fn logged_out_by_a_login_elsewhere_stays_out_until_the_user_retries() {
    let mut rig = Rig::new(Network::CompanyWifi, flags(true, true), true);
    let lan = rig.expect_register(Route::Lan);
    rig.selection.registered(rig.now, lan);
    rig.statuses();
    rig.selection
        .logged_out(rig.now, "logged in elsewhere".to_owned());
    assert_eq!(
        rig.statuses(),
        lines(&[("Not registered: logged out: logged in elsewhere", 0)])
    );
    // No retry by itself, nor on a network or flag change: logging back in
    // would log the other device out.
    rig.advance(Duration::from_secs(600));
    rig.selection.set_network(rig.now, Network::RemoteWifi);
    rig.selection.address_changed(rig.now);
    rig.selection.set_flags(rig.now, flags(true, false));
    rig.selection.set_flags(rig.now, flags(true, true));
    assert_eq!(rig.selection.poll_action(), None);
    assert_eq!(rig.selection.poll_timeout(), None);
    assert!(rig.statuses().is_empty());
    // The user logs in again: through the server of the network it is on now.
    rig.selection.retry(rig.now);
    rig.expect_register(Route::Wan);
}
