//! Call control on a virtual clock: every flow, asserting what each device
//! is told, in order.

use std::time::{Duration, Instant};

use super::control::{CallControl, CallEvent, CallTimers, DeviceInput, Output};
use super::indication::{
    ClockKind, DisplayRow, FeatureKey, Indication, Lamp, MediaIndication, Tone,
};
use super::media::MediaPolicy;
use super::model::Failure;
use crate::config::{ValidatedConfig, cos::BarReason};
use crate::testing::{self, PASSWORDS, Subscriber};

/// 201 Anna and 202 Ben may call nationally, 203 Clara locally, 204 Dora
/// abroad.
pub(super) fn office_config() -> ValidatedConfig {
    let hfa =
        |number, name, device, password| Subscriber::hfa(number, name, device).password(password);
    testing::Office::x3()
        .loopback_lan()
        .subscriber(hfa("201", "Anna", "OpenStage 60", PASSWORDS[0]).class_of_service("national"))
        .subscriber(hfa("202", "Ben", "OpenStage 40", PASSWORDS[1]).class_of_service("national"))
        .subscriber(hfa("203", "Clara", "OpenStage 20", PASSWORDS[2]))
        .subscriber(
            hfa("204", "Dora", "OpenStage 60", PASSWORDS[3]).class_of_service("international"),
        )
        .validated()
}

pub(super) struct Office {
    pub cc: CallControl,
    pub now: Instant,
    pub events: Vec<CallEvent>,
    /// Indications per device, in order, since the last `take`.
    pub shown: Vec<(String, Indication)>,
    /// What the SBC's data plane was told.
    pub sbc: Vec<super::control::SbcCommand>,
    /// What the system's media ends were told.
    pub service_media: Vec<(
        super::CallId,
        super::model::Party,
        Option<super::media::RemoteMedia>,
    )>,
}

pub(super) fn office_with_trunk(channels: usize) -> Office {
    let config = office_config();
    let timers = CallTimers {
        inter_digit: Duration::from_secs(5),
        no_answer: Duration::from_secs(30),
        trunk_answer: Duration::from_secs(1),
        failure_display: Duration::from_secs(10),
    };
    let mut office = Office {
        cc: CallControl::new(&config, timers, plan(channels, 10), MediaPolicy::default()),
        now: Instant::now(),
        events: Vec::new(),
        shown: Vec::new(),
        service_media: Vec::new(),
        sbc: Vec::new(),
    };
    for number in ["201", "202", "203", "204"] {
        office.cc.attach(number, origin(false));
    }
    office.drain();
    office.shown.clear();
    office
}

/// A pool of `channels` RTP proxy channels (public ports from 30274, inner
/// sides on 10.10.0.2) and `internet_calls` simultaneous internet calls.
pub(super) fn plan(channels: usize, internet_calls: usize) -> super::channels::ChannelPlan {
    let address = |i: usize| super::channels::ChannelAddresses {
        public_rtp_port: 30274 + 2 * i as u16,
        inner_rtp: std::net::SocketAddr::from(([10, 10, 0, 2], 40000 + 2 * i as u16)),
        inner_rtcp: std::net::SocketAddr::from(([10, 10, 0, 2], 40001 + 2 * i as u16)),
    };
    super::channels::ChannelPlan {
        public_ip: Some(std::net::IpAddr::from([203, 0, 113, 10])),
        channels: (0..channels).map(address).collect(),
        internet_calls,
    }
}

fn office() -> Office {
    office_with_trunk(2)
}

impl Office {
    pub fn drain(&mut self) {
        while let Some(output) = self.cc.poll_output() {
            match output {
                Output::Indicate { device, indication } => self.shown.push((device, indication)),
                Output::Event(event) => self.events.push(event),
                Output::ServiceMedia {
                    call,
                    party,
                    send_to,
                } => self.service_media.push((call, party, send_to)),
                Output::Sbc(command) => self.sbc.push(command),
            }
        }
    }

    pub fn input(&mut self, number: &str, input: DeviceInput) {
        self.cc.handle_input(self.now, number, input);
        self.drain();
    }

    pub fn dial(&mut self, number: &str, digits: &str) {
        for digit in digits.chars() {
            self.input(number, DeviceInput::Digit(digit));
        }
    }

    pub fn press(&mut self, number: &str, key: FeatureKey) {
        self.input(number, DeviceInput::Feature(key));
    }

    pub fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while let Some(at) = self.cc.poll_timeout().filter(|at| *at <= end) {
            self.now = self.now.max(at);
            self.cc.handle_timeout(self.now);
            self.drain();
        }
        self.now = end;
    }

    /// What `device` was told since the last call, in order.
    pub fn take(&mut self, device: &str) -> Vec<Indication> {
        let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.shown)
            .into_iter()
            .partition(|(d, _)| d == device);
        self.shown = rest;
        mine.into_iter().map(|(_, indication)| indication).collect()
    }

    fn top(&self, device: &str) -> String {
        self.cc
            .screen(device)
            .map(|s| s.top.clone())
            .unwrap_or_default()
    }

    fn tone(&self, device: &str) -> Tone {
        self.cc.screen(device).map_or(Tone::Silence, |s| s.tone)
    }
}

fn top(text: &str) -> Indication {
    Indication::Display {
        row: DisplayRow::Top,
        text: text.into(),
    }
}

fn bottom(text: &str) -> Indication {
    Indication::Display {
        row: DisplayRow::Bottom,
        text: text.into(),
    }
}

fn lamp(key: FeatureKey, lamp: Lamp) -> Indication {
    Indication::Lamp { key, lamp }
}

#[test]
fn a_device_attaching_gets_its_whole_idle_screen() {
    let config = office_config();
    let mut cc = CallControl::new(
        &config,
        CallTimers::from_config(&config),
        plan(1, 1),
        MediaPolicy::default(),
    );
    cc.attach("201", origin(false));
    let expected: Vec<Indication> = [
        top("201 Anna"),
        bottom(""),
        Indication::Clock(ClockKind::TimeOfDay),
    ]
    .into_iter()
    .chain(FeatureKey::ALL.map(|key| Indication::Label {
        key,
        text: key.label().into(),
    }))
    .chain([
        lamp(FeatureKey::Line, Lamp::Off),
        lamp(FeatureKey::Hold, Lamp::Off),
        lamp(FeatureKey::Forward, Lamp::Off),
        Indication::Media(MediaIndication::Stop),
        Indication::Ringer(false),
        Indication::Tone(Tone::Silence),
    ])
    .collect();
    let shown: Vec<_> = std::iter::from_fn(|| cc.poll_output())
        .map(|output| match output {
            Output::Indicate { device, indication } if device == "201" => indication,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(shown, expected);
}

#[test]
fn an_internal_call_from_off_hook_to_release() {
    let mut o = office();
    o.input("201", DeviceInput::OffHook);
    assert_eq!(
        o.take("201"),
        [
            top("Enter number"),
            Indication::Clock(ClockKind::Hidden),
            lamp(FeatureKey::Line, Lamp::On),
            Indication::Tone(Tone::Dial)
        ]
    );
    o.dial("201", "20");
    assert_eq!(
        o.take("201"),
        [bottom("2"), Indication::Tone(Tone::Silence), bottom("20")]
    );
    o.dial("201", "2");
    assert_eq!(
        o.take("201"),
        [
            top("Calling 202 Ben"),
            bottom(""),
            Indication::Tone(Tone::RingBack)
        ]
    );
    assert_eq!(
        o.take("202"),
        [
            top("Call from 201 Anna"),
            Indication::Clock(ClockKind::Hidden),
            lamp(FeatureKey::Line, Lamp::Flashing),
            Indication::Ringer(true)
        ]
    );
    o.input("202", DeviceInput::OffHook);
    let call = super::CallId(1);
    assert_eq!(
        o.take("202"),
        [
            top("201 Anna"),
            bottom("Connected"),
            Indication::Clock(ClockKind::CallTimer),
            lamp(FeatureKey::Line, Lamp::On),
            Indication::Media(MediaIndication::Start { call, remote: None }),
            Indication::Ringer(false),
        ]
    );
    assert_eq!(
        o.take("201"),
        [
            top("202 Ben"),
            bottom("Connected"),
            Indication::Clock(ClockKind::CallTimer),
            Indication::Media(MediaIndication::Start { call, remote: None }),
            Indication::Tone(Tone::Silence),
        ]
    );
    o.input("201", DeviceInput::OnHook);
    assert_eq!(
        o.take("201"),
        [
            top("201 Anna"),
            bottom(""),
            Indication::Clock(ClockKind::TimeOfDay),
            lamp(FeatureKey::Line, Lamp::Off),
            Indication::Media(MediaIndication::Stop),
        ]
    );
    assert_eq!(
        o.take("202"),
        [
            top("Call ended"),
            bottom(""),
            Indication::Clock(ClockKind::Hidden),
            lamp(FeatureKey::Line, Lamp::Off),
            Indication::Media(MediaIndication::Stop),
            Indication::Tone(Tone::Busy),
        ]
    );
    o.input("202", DeviceInput::OnHook);
    assert_eq!(o.top("202"), "202 Ben");
    assert_eq!(o.cc.calls(), 0);
    assert!(o.events.iter().any(
        |e| matches!(e, CallEvent::Connected { a, b, .. } if a == "201 Anna" && b == "202 Ben")
    ));
}

#[test]
fn a_busy_callee_gives_busy_tone_and_the_reason() {
    let mut o = office();
    o.input("202", DeviceInput::OffHook);
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "202");
    assert_eq!(o.top("201"), "202 busy");
    assert_eq!(o.tone("201"), Tone::Busy);
    assert_eq!(o.cc.calls(), 0);
    o.input("201", DeviceInput::OnHook);
    assert_eq!(o.top("201"), "201 Anna");
}

#[test]
fn unknown_numbers_and_unregistered_callees_are_refused_in_words() {
    let mut o = office();
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "29");
    assert_eq!(
        (o.top("201"), o.tone("201")),
        ("Unknown number".into(), Tone::Congestion)
    );
    o.input("201", DeviceInput::OnHook);
    o.cc.detach("203");
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "203");
    assert_eq!(
        (o.top("201"), o.tone("201")),
        ("203 not reachable".into(), Tone::Congestion)
    );
}

#[test]
fn no_answer_within_the_configured_time() {
    let mut o = office();
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "202");
    o.advance(Duration::from_secs(29));
    assert_eq!(o.top("202"), "Call from 201 Anna");
    o.advance(Duration::from_secs(1));
    assert_eq!(o.top("201"), "202 no answer");
    assert_eq!(o.top("202"), "202 Ben");
    assert!(!o.cc.screen("202").is_some_and(|s| s.ringer));
    assert_eq!(o.cc.calls(), 0);
}

#[test]
fn deadlines_stay_as_few_as_the_calls_in_progress_however_many_came_before() {
    let mut o = office();
    for _ in 0..1000 {
        // Answered or abandoned long before its no-answer deadline; each
        // call also leaves its dialling deadline behind.
        o.input("201", DeviceInput::OffHook);
        o.dial("201", "202");
        o.input("202", DeviceInput::OffHook);
        o.input("201", DeviceInput::OnHook);
        o.input("202", DeviceInput::OnHook);
        o.input("203", DeviceInput::OffHook);
        o.dial("203", "204");
        o.input("203", DeviceInput::OnHook);
        o.advance(Duration::from_millis(10));
    }
    assert_eq!(o.cc.calls(), 0);
    assert!(
        o.cc.pending_deadlines() <= 2,
        "{} deadlines left after 2,000 calls",
        o.cc.pending_deadlines()
    );
}

#[test]
fn the_caller_hanging_up_while_it_rings_stops_the_ringer() {
    let mut o = office();
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "202");
    o.take("202");
    o.input("201", DeviceInput::OnHook);
    assert_eq!(
        o.take("202"),
        [
            top("202 Ben"),
            Indication::Clock(ClockKind::TimeOfDay),
            lamp(FeatureKey::Line, Lamp::Off),
            Indication::Ringer(false)
        ]
    );
    assert_eq!(o.cc.calls(), 0);
}

#[test]
fn both_hanging_up_at_once_leaves_nothing_behind() {
    for first in ["201", "202"] {
        let mut o = office();
        o.input("201", DeviceInput::OffHook);
        o.dial("201", "202");
        o.input("202", DeviceInput::OffHook);
        let second = if first == "201" { "202" } else { "201" };
        o.input(first, DeviceInput::OnHook);
        o.input(second, DeviceInput::OnHook);
        assert_eq!(o.cc.calls(), 0);
        assert_eq!(o.top("201"), "201 Anna");
        assert_eq!(o.top("202"), "202 Ben");
    }
}

#[test]
fn a_vanished_phone_releases_the_other_party() {
    let mut o = office();
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "202");
    o.input("202", DeviceInput::OffHook);
    o.cc.detach("202");
    o.drain();
    assert_eq!(o.top("201"), "Call ended");
    assert_eq!(o.cc.calls(), 0);
}

#[test]
fn answering_handsfree_with_the_line_key_and_releasing_with_it() {
    let mut o = office();
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "202");
    o.press("202", FeatureKey::Line);
    assert_eq!(
        o.cc.screen("202").map(|s| s.bottom.as_str()),
        Some("Connected")
    );
    o.press("202", FeatureKey::Line);
    assert_eq!(o.top("202"), "202 Ben");
    assert_eq!(o.top("201"), "Call ended");
}

#[test]
fn hold_and_retrieve() {
    let mut o = office();
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "202");
    o.input("202", DeviceInput::OffHook);
    o.take("201");
    o.take("202");
    o.press("201", FeatureKey::Hold);
    assert_eq!(
        o.take("201"),
        [
            top("Consultation"),
            bottom(""),
            Indication::Clock(ClockKind::Hidden),
            Indication::Label {
                key: FeatureKey::Hold,
                text: "Retrieve".into()
            },
            lamp(FeatureKey::Hold, Lamp::Winking),
            Indication::Media(MediaIndication::Stop),
            Indication::Tone(Tone::Dial),
        ]
    );
    assert_eq!(
        o.take("202"),
        [
            bottom("On hold"),
            Indication::Clock(ClockKind::Hidden),
            Indication::Media(MediaIndication::Stop)
        ]
    );
    o.press("201", FeatureKey::Hold);
    assert_eq!(
        o.cc.screen("201")
            .map(|s| (s.bottom.as_str(), s.hold_label)),
        Some(("Connected", "Hold"))
    );
    assert_eq!(
        o.cc.screen("202").map(|s| s.bottom.as_str()),
        Some("Connected")
    );
    assert_eq!(o.cc.calls(), 1);
}

#[test]
fn consultation_transfer_connects_the_held_party() {
    let mut o = office();
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "202");
    o.input("202", DeviceInput::OffHook);
    o.press("201", FeatureKey::Hold);
    o.dial("201", "204");
    assert_eq!(o.top("201"), "Calling 204 Dora");
    o.input("204", DeviceInput::OffHook);
    o.press("201", FeatureKey::Transfer);
    assert_eq!(o.top("201"), "201 Anna");
    assert_eq!(
        o.cc.screen("202")
            .map(|s| (s.top.as_str(), s.bottom.as_str())),
        Some(("204 Dora", "Connected"))
    );
    assert_eq!(
        o.cc.screen("204")
            .map(|s| (s.top.as_str(), s.bottom.as_str())),
        Some(("202 Ben", "Connected"))
    );
    assert_eq!(o.cc.calls(), 1);
    o.input("201", DeviceInput::OnHook);
    o.input("204", DeviceInput::OnHook);
    assert_eq!(o.top("202"), "Call ended");
    o.input("202", DeviceInput::OnHook);
    assert_eq!(o.cc.calls(), 0);
}

#[test]
fn transfer_while_the_consultation_rings() {
    let mut o = office();
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "202");
    o.input("202", DeviceInput::OffHook);
    o.press("201", FeatureKey::Hold);
    o.dial("201", "204");
    o.press("201", FeatureKey::Transfer);
    assert_eq!(o.top("204"), "Call from 202 Ben");
    assert_eq!(o.top("202"), "Calling 204 Dora");
    o.advance(Duration::from_secs(30));
    assert_eq!(o.top("202"), "204 no answer");
    assert_eq!(o.cc.calls(), 0);
}

#[test]
fn forwarding_redirects_calls_and_can_be_cleared() {
    let mut o = office();
    o.press("202", FeatureKey::Forward);
    assert_eq!(o.top("202"), "Forward to:");
    o.dial("202", "204");
    assert_eq!(
        o.cc.screen("202")
            .map(|s| (s.bottom.as_str(), s.forward_lamp)),
        Some(("Forwarded to 204", Lamp::On))
    );
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "202");
    assert_eq!(o.top("201"), "Calling 204 Dora");
    assert_eq!(
        o.cc.screen("204")
            .map(|s| (s.top.as_str(), s.bottom.as_str())),
        Some(("Call from 201 Anna", "for 202 Ben"))
    );
    o.input("201", DeviceInput::OnHook);
    o.press("202", FeatureKey::Forward);
    assert_eq!(o.cc.screen("202").map(|s| s.forward_lamp), Some(Lamp::Off));
}

#[test]
fn class_of_service_bars_international_and_premium_numbers_and_logs_them() {
    let mut o = office();
    for dialled in ["000441234567", "00900123456"] {
        o.input("201", DeviceInput::OffHook);
        o.dial("201", dialled);
        o.input("201", DeviceInput::Digit('#'));
        assert_eq!(
            (o.top("201"), o.tone("201")),
            ("Not allowed".into(), Tone::Congestion),
            "{dialled}"
        );
        o.input("201", DeviceInput::OnHook);
    }
    let barred: Vec<_> = o
        .events
        .iter()
        .filter_map(|e| match e {
            CallEvent::Barred {
                subscriber,
                number,
                reason,
                forwarding: false,
            } => Some((subscriber.as_str(), number.dialled.as_str(), *reason)),
            _ => None,
        })
        .collect();
    assert_eq!(
        barred,
        [
            ("201", "00441234567", BarReason::NoInternational),
            ("201", "0900123456", BarReason::Premium)
        ]
    );
    assert_eq!(o.cc.trunk_calls(), 0);
    // A national number is within 201's class of service.
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "0089123456#");
    assert_eq!(o.top("201"), "Calling 089123456");
    o.advance(Duration::from_secs(1));
    assert_eq!(
        o.cc.screen("201").map(|s| s.bottom.as_str()),
        Some("Connected")
    );
}

#[test]
fn premium_numbers_are_barred_even_for_international_clients() {
    let mut o = office();
    o.input("204", DeviceInput::OffHook);
    o.dial("204", "00900123456#");
    assert_eq!(o.top("204"), "Not allowed");
}

#[test]
fn forwarding_to_a_premium_number_is_refused_and_logged() {
    let mut o = office();
    o.press("201", FeatureKey::Forward);
    o.dial("201", "00900666666#");
    assert_eq!(o.top("201"), "Not allowed");
    assert!(
        o.cc.screen("201")
            .is_some_and(|s| s.forward_lamp == Lamp::Off)
    );
    assert!(o.events.iter().any(|e| matches!(e, CallEvent::Barred { subscriber, forwarding: true, reason: BarReason::Premium, .. } if subscriber == "201")));
}

#[test]
fn an_internal_only_client_cannot_reach_the_trunk() {
    let mut o = office();
    o.input("203", DeviceInput::OffHook);
    o.dial("203", "04711#");
    assert_eq!(o.top("203"), "Not allowed");
    assert!(o.events.iter().any(|e| matches!(e, CallEvent::Barred { subscriber, reason: BarReason::NoExternal, .. } if subscriber == "203")));
}

#[test]
fn the_trunk_counts_its_channels() {
    let mut o = office_with_trunk(1);
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "04711#");
    assert_eq!(o.cc.trunk_calls(), 1);
    o.input("204", DeviceInput::OffHook);
    o.dial("204", "04712#");
    assert_eq!(
        (o.top("204"), o.tone("204")),
        ("No line free".into(), Tone::Congestion)
    );
    assert!(o.events.iter().any(|e| matches!(
        e,
        CallEvent::Failed {
            failure: Failure::NoLineFree,
            ..
        }
    )));
    o.input("201", DeviceInput::OnHook);
    o.input("204", DeviceInput::OnHook);
    o.input("204", DeviceInput::OffHook);
    o.dial("204", "04712");
    o.advance(Duration::from_secs(5 + 1));
    assert_eq!(
        o.cc.screen("204").map(|s| s.bottom.as_str()),
        Some("Connected"),
        "dialled by the inter-digit timeout"
    );
    assert_eq!(o.cc.trunk_calls(), 1);
}

#[test]
fn service_numbers_answer_at_once() {
    let mut o = office();
    for (code, name) in [("*98", "Echo test"), ("*99", "Announcement test")] {
        o.input("201", DeviceInput::OffHook);
        o.dial("201", code);
        assert_eq!(
            o.cc.screen("201")
                .map(|s| (s.top.as_str(), s.bottom.as_str())),
            Some((name, "Connected"))
        );
        o.input("201", DeviceInput::OnHook);
        assert_eq!(o.cc.calls(), 0);
    }
}

#[test]
fn a_handsfree_failure_clears_by_itself() {
    let mut o = office();
    o.dial("201", "29");
    assert_eq!(o.top("201"), "Unknown number");
    o.advance(Duration::from_secs(10));
    assert_eq!(o.top("201"), "201 Anna");
}

/// What a device shows, built only from the indications it was sent.
#[derive(Debug, Default)]
struct View {
    top: String,
    bottom: String,
    clock: Option<ClockKind>,
    tone: Option<Tone>,
    ringer: bool,
    media: Option<(super::CallId, Option<super::media::RemoteMedia>)>,
    lamps: std::collections::HashMap<FeatureKey, Lamp>,
    hold_label: String,
}

impl View {
    fn apply(&mut self, indication: &Indication) {
        match indication {
            Indication::Display {
                row: DisplayRow::Top,
                text,
            } => self.top = text.clone(),
            Indication::Display {
                row: DisplayRow::Bottom,
                text,
            } => self.bottom = text.clone(),
            Indication::Tone(tone) => self.tone = Some(*tone),
            Indication::Ringer(on) => self.ringer = *on,
            Indication::Lamp { key, lamp } => {
                self.lamps.insert(*key, *lamp);
            }
            Indication::Label {
                key: FeatureKey::Hold,
                text,
            } => self.hold_label = text.clone(),
            Indication::Label { .. } => {}
            Indication::Media(MediaIndication::Start { call, remote }) => {
                self.media = Some((*call, *remote))
            }
            Indication::Media(MediaIndication::Stop) => self.media = None,
            Indication::Clock(kind) => self.clock = Some(*kind),
        }
    }

    fn agrees_with(&self, screen: &super::screen::Screen) -> bool {
        self.top == screen.top
            && self.bottom == screen.bottom
            && self.clock == Some(screen.clock)
            && self.tone == Some(screen.tone)
            && self.ringer == screen.ringer
            && self.media == screen.media
            && self.lamps.get(&FeatureKey::Line) == Some(&screen.line_lamp)
            && self.lamps.get(&FeatureKey::Hold) == Some(&screen.hold_lamp)
            && self.lamps.get(&FeatureKey::Forward) == Some(&screen.forward_lamp)
            && self.hold_label == screen.hold_label
    }
}

#[test]
fn random_keys_and_hooks_never_break_call_control() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    const PHONES: [&str; 4] = ["201", "202", "203", "204"];
    const KEYS: [char; 10] = ['0', '1', '2', '3', '4', '7', '8', '9', '*', '#'];
    const NUMBERS: [&str; 8] = [
        "201", "202", "203", "204", "*98", "04711#", "0090012#", "29",
    ];
    for seed in 0..200u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let config = office_config();
        let timers = CallTimers::from_config(&config);
        let mut cc = CallControl::new(&config, timers, plan(4, 3), MediaPolicy::default());
        let mut now = Instant::now();
        let mut views: std::collections::HashMap<&str, View> =
            PHONES.iter().map(|p| (*p, View::default())).collect();
        let mut attached = PHONES.map(|_| true);
        for phone in PHONES {
            cc.attach(phone, origin(phone == "201"));
        }
        for step in 0..300 {
            let index = rng.random_range(0..PHONES.len());
            let phone = PHONES[index];
            match rng.random_range(0..100) {
                0..=14 => cc.handle_input(now, phone, DeviceInput::OffHook),
                15..=29 => cc.handle_input(now, phone, DeviceInput::OnHook),
                30..=49 => cc.handle_input(
                    now,
                    phone,
                    DeviceInput::Digit(KEYS[rng.random_range(0..KEYS.len())]),
                ),
                50..=69 => {
                    for digit in NUMBERS[rng.random_range(0..NUMBERS.len())].chars() {
                        cc.handle_input(now, phone, DeviceInput::Digit(digit));
                    }
                }
                70..=89 => cc.handle_input(
                    now,
                    phone,
                    DeviceInput::Feature(FeatureKey::ALL[rng.random_range(0..5)]),
                ),
                90..=94 => {
                    now += Duration::from_secs(rng.random_range(1..40));
                    cc.handle_timeout(now);
                }
                _ => {
                    // The phone vanishes, or comes back.
                    if attached[index] {
                        cc.detach(phone);
                    } else {
                        cc.attach(phone, origin(phone == "201"));
                        views.insert(phone, View::default());
                    }
                    attached[index] = !attached[index];
                }
            }
            while let Some(output) = cc.poll_output() {
                if let Output::Indicate { device, indication } = output {
                    views
                        .get_mut(device.as_str())
                        .expect("known phone")
                        .apply(&indication);
                }
            }
            if let Err(problem) = cc.check_consistency() {
                panic!("seed {seed} step {step}: {problem}");
            }
            for (phone, view) in &views {
                if let Some(screen) = cc.screen(phone) {
                    assert!(
                        view.agrees_with(screen),
                        "seed {seed} step {step}: {phone} shows {view:?}, gateway has {screen:?}"
                    );
                }
            }
        }
        // Everyone hangs up and time passes: nothing may be left.
        for phone in PHONES {
            cc.handle_input(now, phone, DeviceInput::OnHook);
        }
        now += Duration::from_secs(120);
        cc.handle_timeout(now);
        assert_eq!(cc.calls(), 0, "seed {seed}: calls left behind");
        assert_eq!(
            cc.channels().in_use(),
            0,
            "seed {seed}: RTP proxy channels left behind"
        );
        assert_eq!(cc.trunk_calls(), 0, "seed {seed}");
    }
}

/// Where a device registered from: its home NAT's public address over the
/// internet, an office address on the LAN.
pub(super) fn origin(internet: bool) -> super::model::Origin {
    let ip: [u8; 4] = if internet {
        [198, 51, 100, 7]
    } else {
        [10, 10, 0, 20]
    };
    super::model::Origin {
        ip: ip.into(),
        internet,
    }
}

/// What the SBC learns from for a device at `origin(true)` that announced
/// media at `port` (RTCP one above).
pub(super) fn home_device(port: u16) -> crate::sbc::DeviceSource {
    crate::sbc::DeviceSource {
        ip: origin(true).ip,
        announced: Some(crate::sbc::AnnouncedPorts {
            rtp: port,
            rtcp: port + 1,
        }),
    }
}

fn offer(ip: [u8; 4], port: u16, codecs: &[shared::hfa::PayloadType]) -> super::media::MediaOffer {
    super::media::MediaOffer {
        rtp: std::net::SocketAddr::from((ip, port)),
        rtcp_port: port + 1,
        codecs: codecs.iter().map(|pt| (*pt, 20)).collect(),
    }
}

fn media_of(o: &Office, number: &str) -> Option<super::media::RemoteMedia> {
    o.cc.screen(number)
        .and_then(|screen| screen.media)
        .and_then(|(_, remote)| remote)
}

#[test]
fn connected_phones_are_told_each_others_address_and_the_common_codec() {
    use shared::hfa::PayloadType;
    let mut o = office();
    o.cc.offer_media(
        "201",
        offer(
            [192, 168, 178, 20],
            5004,
            &[PayloadType::OPUS, PayloadType::PCMA],
        ),
    );
    o.cc.offer_media(
        "202",
        offer(
            [10, 10, 0, 31],
            6000,
            &[PayloadType::PCMU, PayloadType::PCMA],
        ),
    );
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "202");
    o.input("202", DeviceInput::OffHook);
    let to_ben = media_of(&o, "201").expect("201 knows where to send");
    assert_eq!(
        (to_ben.rtp.to_string(), to_ben.rtcp_port),
        ("10.10.0.31:6000".into(), 6001)
    );
    assert_eq!(
        to_ben.payload_type,
        PayloadType::PCMA,
        "G.711 A-law: Ben offers no Opus"
    );
    let to_anna = media_of(&o, "202").expect("202 knows where to send");
    assert_eq!(to_anna.rtp.to_string(), "192.168.178.20:5004");
    // Anna's phone moves (a new address after re-registering): Ben follows.
    o.take("202");
    o.cc.offer_media(
        "201",
        offer([192, 168, 178, 21], 5008, &[PayloadType::PCMA]),
    );
    o.drain();
    let moved = o.take("202");
    assert!(
        matches!(&moved[..], [Indication::Media(MediaIndication::Start { remote: Some(remote), .. })] if remote.rtp.port() == 5008),
        "{moved:?}"
    );
}

#[test]
fn opus_when_both_phones_offer_it() {
    use shared::hfa::PayloadType;
    let mut o = office();
    let both = [PayloadType::OPUS, PayloadType::PCMA];
    o.cc.offer_media("201", offer([127, 0, 0, 1], 5004, &both));
    o.cc.offer_media("202", offer([127, 0, 0, 1], 6000, &both));
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "202");
    o.input("202", DeviceInput::OffHook);
    assert_eq!(
        media_of(&o, "201").map(|m| m.payload_type),
        Some(PayloadType::OPUS)
    );
    assert_eq!(
        media_of(&o, "202").map(|m| m.payload_type),
        Some(PayloadType::OPUS)
    );
}

#[test]
fn the_system_end_of_a_service_call_is_told_where_to_send_and_when_to_stop() {
    use shared::hfa::PayloadType;
    let config = office_config();
    let g711 = [PayloadType::PCMA, PayloadType::PCMU];
    let media = MediaPolicy {
        services: super::media::ServiceEndpoints {
            echo_test: Some(offer([10, 10, 0, 2], 40000, &g711)),
            announcement: Some(offer([10, 10, 0, 2], 40002, &g711)),
            trunk: Some(offer([10, 10, 0, 2], 40004, &g711)),
        },
        ..MediaPolicy::default()
    };
    let mut o = office();
    o.cc = CallControl::new(&config, CallTimers::from_config(&config), plan(1, 1), media);
    o.cc.attach("201", origin(false));
    o.cc.offer_media("201", offer([192, 168, 178, 20], 5004, &g711));
    o.drain();
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "*99");
    assert_eq!(
        media_of(&o, "201").map(|m| m.rtp.port()),
        Some(40002),
        "the phone sends to the announcement"
    );
    let (call, party, send_to) = o
        .service_media
        .last()
        .cloned()
        .expect("the announcement is told");
    assert_eq!(
        party,
        super::model::Party::Service(super::dialplan::Service::AnnouncementTest)
    );
    assert_eq!(
        send_to.map(|m| (m.rtp.to_string(), m.payload_type)),
        Some(("192.168.178.20:5004".into(), PayloadType::PCMA))
    );
    o.input("201", DeviceInput::OnHook);
    assert_eq!(
        o.service_media.last().map(|(c, _, to)| (*c, *to)),
        Some((call, None)),
        "and told to stop"
    );
}

mod moving;
mod toll_fraud;

mod proxy {
    //! The RTP proxy's channels as call control takes, addresses and gives
    //! them back (guide 1.3.5, 2.3, 3.1).

    use super::*;
    use crate::calls::channels::{ChannelId, Refusal};
    use crate::calls::control::SbcCommand;
    use shared::hfa::PayloadType;

    const G711: [PayloadType; 2] = [PayloadType::PCMA, PayloadType::PCMU];

    /// 201 at home, 202, 203, 204 in the office, all announcing media.
    fn office_with_home_phone(channels: usize, internet_calls: usize) -> Office {
        office_with_phones_at_home(channels, internet_calls, &["201"])
    }

    /// The office with the phones of `at_home` registered from the internet.
    fn office_with_phones_at_home(
        channels: usize,
        internet_calls: usize,
        at_home: &[&str],
    ) -> Office {
        let config = office_config();
        let mut o = office();
        o.cc = CallControl::new(
            &config,
            CallTimers::from_config(&config),
            plan(channels, internet_calls),
            MediaPolicy::default(),
        );
        for (number, port) in [("201", 5004), ("202", 6000), ("203", 6100), ("204", 6200)] {
            o.cc.attach(number, origin(at_home.contains(&number)));
            o.cc.offer_media(
                number,
                offer([192, 168, 1, 20 + (port / 100) as u8], port, &G711),
            );
        }
        o.drain();
        o.shown.clear();
        o
    }

    fn connect(o: &mut Office, caller: &str, callee: &str) {
        o.input(caller, DeviceInput::OffHook);
        o.dial(caller, callee);
        o.input(callee, DeviceInput::OffHook);
    }

    #[test]
    fn a_phone_at_home_sends_to_the_public_port_and_the_office_to_the_inner_side() {
        let mut o = office_with_home_phone(60, 10);
        connect(&mut o, "201", "202");
        let home = media_of(&o, "201").expect("201's media");
        assert_eq!(
            home.rtp.to_string(),
            "203.0.113.10:30274",
            "the public address and channel 0's RTP port"
        );
        assert_eq!(home.rtcp_port, 30275);
        let office = media_of(&o, "202").expect("202's media");
        assert_eq!(
            office.rtp.to_string(),
            "10.10.0.2:40000",
            "channel 0's inner side"
        );
        assert_eq!(
            o.sbc,
            [SbcCommand::Anchor {
                channel: ChannelId(0),
                inner_peer: Some((
                    "192.168.1.80:6000".parse().unwrap(),
                    "192.168.1.80:6001".parse().unwrap()
                )),
                device: home_device(5004),
            }],
            "learning from the address 201 registered from, preferring the port it announced"
        );
        assert_eq!((o.cc.channels().in_use(), o.cc.internet_calls()), (1, 1));
        o.input("202", DeviceInput::OnHook);
        assert_eq!(
            o.sbc.last(),
            Some(&SbcCommand::Release {
                channel: ChannelId(0)
            })
        );
        assert_eq!(o.cc.channels().in_use(), 0);
    }

    #[test]
    fn two_phones_at_home_take_two_channels_and_two_internet_calls() {
        let mut o = office_with_phones_at_home(60, 3, &["201", "202"]);
        connect(&mut o, "201", "202");
        assert_eq!((o.cc.channels().in_use(), o.cc.internet_calls()), (2, 2));
        assert_eq!(o.sbc.len(), 2, "each leg anchored on its own channel");
        o.input("201", DeviceInput::OnHook);
        o.input("202", DeviceInput::OnHook);
        assert_eq!((o.cc.channels().in_use(), o.cc.internet_calls()), (0, 0));
    }

    #[test]
    fn a_call_between_two_phones_at_home_needs_two_internet_calls_left() {
        let mut o = office_with_phones_at_home(60, 1, &["201", "202"]);
        o.input("201", DeviceInput::OffHook);
        o.dial("201", "202");
        assert_eq!(o.top("201"), "No line free");
        assert!(o.events.iter().any(|e| matches!(
            e,
            CallEvent::ProxyRefused {
                refusal: Refusal::NoInternetCall,
                ..
            }
        )));
        assert_eq!((o.cc.channels().in_use(), o.cc.calls()), (0, 0));
    }

    #[test]
    fn a_new_public_address_reaches_a_home_phone_in_a_call_and_the_next_call() {
        let mut o = office_with_home_phone(60, 10);
        connect(&mut o, "201", "202");
        o.shown.clear();
        let moved = std::net::IpAddr::from([198, 51, 100, 7]);
        o.cc.set_public_ip(moved);
        o.drain();
        let told = o.take("201");
        let sent_to = told.iter().find_map(|indication| match indication {
            Indication::Media(MediaIndication::Start {
                remote: Some(remote),
                ..
            }) => Some(remote.rtp.to_string()),
            _ => None,
        });
        assert_eq!(
            sent_to.as_deref(),
            Some("198.51.100.7:30274"),
            "the phone in the call is told the new address at once: {told:?}"
        );
        assert!(
            o.take("202").is_empty(),
            "the office phone's target is unchanged"
        );
        assert!(
            o.sbc
                .iter()
                .all(|c| !matches!(c, SbcCommand::Release { .. }))
        );

        o.input("201", DeviceInput::OnHook);
        connect(&mut o, "201", "203");
        assert_eq!(
            media_of(&o, "201").map(|m| m.rtp.to_string()),
            Some("198.51.100.7:30274".into()),
            "the next call uses it"
        );
        o.cc.check_consistency().expect("consistent");
    }

    #[test]
    fn office_to_office_takes_no_channel() {
        let mut o = office_with_home_phone(60, 10);
        connect(&mut o, "203", "202");
        assert_eq!(
            media_of(&o, "203").map(|m| m.rtp.to_string()),
            Some("192.168.1.80:6000".into())
        );
        assert!(o.sbc.is_empty());
        assert_eq!(o.cc.channels().in_use(), 0);
    }

    #[test]
    fn no_free_channel_refuses_before_anything_rings_and_frees_on_release() {
        let mut o = office_with_home_phone(1, 10);
        connect(&mut o, "201", "202");
        // A trunk call needs a channel of its own: none is left.
        o.input("204", DeviceInput::OffHook);
        o.dial("204", "04711#");
        assert_eq!(o.top("204"), "No line free");
        assert!(o.events.iter().any(|e| matches!(
            e,
            CallEvent::ProxyRefused {
                refusal: Refusal::NoChannel,
                ..
            }
        )));
        assert_eq!(o.cc.calls(), 1, "the refused call left nothing behind");
        o.input("204", DeviceInput::OnHook);
        o.input("201", DeviceInput::OnHook);
        o.input("202", DeviceInput::OnHook);
        o.input("204", DeviceInput::OffHook);
        o.dial("204", "04711#");
        assert_eq!(o.top("204"), "Calling 4711");
    }

    #[test]
    fn the_internet_call_limit_applies_on_top_of_the_channels() {
        let mut o = office_with_home_phone(60, 1);
        connect(&mut o, "201", "202");
        o.input("204", DeviceInput::OffHook);
        o.dial("204", "04711#");
        assert_eq!(o.top("204"), "No line free");
        assert!(o.events.iter().any(|e| matches!(
            e,
            CallEvent::ProxyRefused {
                refusal: Refusal::NoInternetCall,
                ..
            }
        )));
        assert_eq!(o.cc.channels().refused_budget, 1);
    }

    #[test]
    fn a_transfer_keeps_the_home_phones_channel_and_repoints_it() {
        let mut o = office_with_home_phone(60, 10);
        connect(&mut o, "201", "202");
        o.press("202", FeatureKey::Hold);
        o.dial("202", "203");
        o.input("203", DeviceInput::OffHook);
        o.sbc.clear();
        o.press("202", FeatureKey::Transfer);
        assert_eq!(
            o.sbc,
            [SbcCommand::SetInnerPeer {
                channel: ChannelId(0),
                inner_peer: Some((
                    "192.168.1.81:6100".parse().unwrap(),
                    "192.168.1.81:6101".parse().unwrap()
                )),
            }],
            "channel 0 carries on to 203, nothing is released"
        );
        assert_eq!(
            media_of(&o, "203").map(|m| m.rtp.to_string()),
            Some("10.10.0.2:40000".into())
        );
        assert_eq!(o.cc.channels().in_use(), 1);
    }

    #[test]
    fn media_that_stops_ends_the_call_and_frees_the_channel() {
        let mut o = office_with_home_phone(60, 10);
        connect(&mut o, "201", "202");
        o.cc.media_idle(ChannelId(0));
        o.drain();
        assert_eq!(o.top("202"), "Call ended");
        assert_eq!(o.top("201"), "Call ended");
        assert_eq!((o.cc.calls(), o.cc.channels().in_use()), (0, 0));
        assert_eq!(
            o.sbc.last(),
            Some(&SbcCommand::Release {
                channel: ChannelId(0)
            })
        );
        o.cc.media_idle(ChannelId(0));
        assert_eq!(o.cc.calls(), 0, "a second report changes nothing");
    }

    #[test]
    fn a_home_phone_that_moves_is_learnt_again() {
        let mut o = office_with_home_phone(60, 10);
        connect(&mut o, "201", "202");
        o.sbc.clear();
        o.cc.offer_media("201", offer([192, 168, 2, 7], 7000, &G711));
        o.drain();
        assert!(
            o.sbc.contains(&SbcCommand::Relearn {
                channel: ChannelId(0),
                device: home_device(7000),
            }),
            "{:?}",
            o.sbc
        );
        // Registered again from another network: learnt from there.
        o.sbc.clear();
        let elsewhere = super::super::model::Origin {
            ip: [192, 0, 2, 44].into(),
            internet: true,
        };
        o.cc.rehome(o.now, "201", elsewhere);
        o.cc.offer_media("201", offer([10, 0, 0, 5], 7100, &G711));
        o.drain();
        assert!(
            o.sbc.contains(&SbcCommand::Relearn {
                channel: ChannelId(0),
                device: crate::sbc::DeviceSource {
                    ip: elsewhere.ip,
                    ..home_device(7100)
                },
            }),
            "{:?}",
            o.sbc
        );
    }
}

/// 61 phones at home calling 61 in the office at once: the X model's 60
/// channels carry 60 of the calls, and the 61st is refused until one ends.
#[test]
fn a_model_x_refuses_the_61st_internet_call_and_takes_it_after_one_ends() {
    let config = testing::Office::x5()
        .public_address("203.0.113.10")
        .company_lan(&["10.10.0.0/24"])
        .subscribers((0..122).map(|n| {
            Subscriber::hfa(
                &format!("{}", 3000 + n),
                &format!("User {n}"),
                "OpenStage 40",
            )
            .without_authentication()
        }))
        .validated();
    let channels = usize::try_from(config.rtp_proxy_channels()).unwrap();
    assert_eq!(channels, 60);
    let mut cc = CallControl::new(
        &config,
        CallTimers::from_config(&config),
        plan(channels, 200),
        MediaPolicy::default(),
    );
    let now = Instant::now();
    let (home, office): (Vec<String>, Vec<String>) = (
        (0..61).map(|n| format!("{}", 3000 + n)).collect(),
        (61..122).map(|n| format!("{}", 3000 + n)).collect(),
    );
    for number in &home {
        cc.attach(number, origin(true));
    }
    for number in &office {
        cc.attach(number, origin(false));
    }
    let call = |cc: &mut CallControl, from: &str, to: &str| {
        cc.handle_input(now, from, DeviceInput::OffHook);
        for digit in to.chars() {
            cc.handle_input(now, from, DeviceInput::Digit(digit));
        }
    };
    for (from, to) in home.iter().zip(&office).take(60) {
        call(&mut cc, from, to);
    }
    assert_eq!((cc.calls(), cc.channels().in_use()), (60, 60));
    call(&mut cc, &home[60], &office[60]);
    assert_eq!(
        cc.screen(&home[60]).map(|s| s.top.clone()),
        Some("No line free".into())
    );
    assert_eq!(cc.calls(), 60);
    cc.handle_input(now, &home[60], DeviceInput::OnHook);
    cc.handle_input(now, &home[0], DeviceInput::OnHook);
    assert_eq!(cc.channels().in_use(), 59);
    call(&mut cc, &home[60], &office[60]);
    assert_eq!(cc.screen(&office[60]).map(|s| s.ringer), Some(true));
    assert_eq!(
        (
            cc.channels().in_use(),
            cc.channels().peak,
            cc.channels().refused_no_channel
        ),
        (60, 60, 1)
    );
}
