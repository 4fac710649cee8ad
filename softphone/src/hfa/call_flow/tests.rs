use std::net::Ipv4Addr;

use shared::hfa::stimulus::SetDisplay;
use shared::hfa::{MediaDirection, MediaId, PayloadType, SetPayload, Stimulus, Text};

use super::*;

const SECOND: Duration = Duration::from_secs(1);

fn call(number: &str) -> CallFlow {
    CallFlow::new(Plan::call(number, 10 * SECOND).expect("a dialable number"))
}

fn media(direction: MediaDirection) -> SetPayload {
    SetPayload {
        direction,
        payload_type: PayloadType::PCMA,
        packet_ms: 20,
        media_id: MediaId(1),
        address: Ipv4Addr::UNSPECIFIED.into(),
        rtp_port: 0,
        rtcp_port: 0,
    }
}

fn started() -> Change {
    Change::Media(Some(media(MediaDirection::SendReceive)))
}

fn row(row: u8, text: &str) -> Message {
    Stimulus::SetDisplay(SetDisplay {
        row,
        column: 0,
        text: Text::new(text).expect("Latin-1"),
    })
    .into()
}

fn key(ch: char) -> Action {
    Action::Send(press_digit(ch).expect("a dial-pad key"))
}

/// Feeds one input to the flow and takes the actions it queued.
fn after(flow: &mut CallFlow, input: impl FnOnce(&mut CallFlow)) -> Vec<Action> {
    input(flow);
    std::iter::from_fn(|| flow.poll_action()).collect()
}

fn finish(actions: &[Action]) -> Option<&Outcome> {
    actions.iter().find_map(|action| match action {
        Action::Finish(outcome) => Some(outcome),
        _ => None,
    })
}

#[test]
fn a_call_goes_off_hook_and_dials_each_digit_then_hash() {
    let mut flow = call("202");
    let actions = after(&mut flow, |flow| flow.registered());
    assert_eq!(
        actions,
        [
            Action::Print("hook: off-hook".into()),
            Action::Send(Stimulus::OffHook.into()),
            key('2'),
            key('0'),
            key('2'),
            key('#'),
        ]
    );
    assert!(
        after(&mut flow, |flow| flow.registered()).is_empty(),
        "a re-registration does not redial"
    );
    assert!(Plan::call("20a", SECOND).is_err());
    assert!(Plan::call("", SECOND).is_err());
}

#[test]
fn media_connects_and_the_call_hangs_up_after_the_given_time() {
    let start = Instant::now();
    let mut flow = call("202");
    after(&mut flow, |flow| flow.registered());
    assert!(
        after(&mut flow, |flow| flow
            .changed(start, &Change::Tone(Some(ToneKind::RingBack))))
        .is_empty()
    );
    assert_eq!(
        after(&mut flow, |flow| flow.changed(start, &started())),
        [Action::Print("connected".into())]
    );
    assert_eq!(flow.poll_timeout(), Some(start + 10 * SECOND));
    assert!(after(&mut flow, |flow| flow.handle_timeout(start + 9 * SECOND)).is_empty());
    assert_eq!(
        after(&mut flow, |flow| flow.handle_timeout(start + 10 * SECOND)),
        [
            Action::Print("hook: on-hook".into()),
            Action::Send(Stimulus::OnHook.into()),
            Action::Finish(Outcome::Connected),
        ]
    );
}

#[test]
fn a_busy_tone_fails_the_call_with_the_bottom_row_as_reason() {
    let start = Instant::now();
    let mut flow = call("202");
    after(&mut flow, |flow| flow.registered());
    // The gateway writes the reason before it starts the tone.
    let printed = after(&mut flow, |flow| flow.received(start, &row(1, "202 busy")));
    assert_eq!(printed, [Action::Print("display:  | 202 busy".into())]);
    let actions = after(&mut flow, |flow| {
        flow.changed(start, &Change::Tone(Some(ToneKind::Busy)))
    });
    assert_eq!(finish(&actions), Some(&Outcome::Failed("202 busy".into())));
    assert!(actions.contains(&Action::Send(Stimulus::OnHook.into())));
}

#[test]
fn the_top_row_gives_the_reason_when_the_bottom_row_is_blank() {
    let start = Instant::now();
    let mut flow = call("0900");
    after(&mut flow, |flow| flow.registered());
    after(&mut flow, |flow| flow.received(start, &row(1, "0900")));
    after(&mut flow, |flow| {
        flow.received(start, &row(0, "Not allowed"))
    });
    after(&mut flow, |flow| flow.received(start, &row(1, "    ")));
    let actions = after(&mut flow, |flow| {
        flow.changed(start, &Change::Tone(Some(ToneKind::Congestion)))
    });
    assert_eq!(
        finish(&actions),
        Some(&Outcome::Failed("Not allowed".into()))
    );
}

#[test]
fn congestion_without_a_reason_names_the_tone() {
    let start = Instant::now();
    let mut flow = call("0049");
    after(&mut flow, |flow| flow.registered());
    let actions = after(&mut flow, |flow| {
        flow.changed(start, &Change::Tone(Some(ToneKind::Congestion)))
    });
    assert_eq!(
        finish(&actions),
        Some(&Outcome::Failed("congestion tone".into()))
    );
}

#[test]
fn a_call_ended_by_the_other_side_before_the_hangup_time_fails() {
    let start = Instant::now();
    let mut flow = call("202");
    after(&mut flow, |flow| flow.registered());
    after(&mut flow, |flow| flow.changed(start, &started()));
    after(&mut flow, |flow| {
        flow.received(start, &row(0, "Call ended"))
    });
    let actions = after(&mut flow, |flow| flow.changed(start, &Change::Media(None)));
    assert_eq!(
        finish(&actions),
        Some(&Outcome::Failed("Call ended".into()))
    );
}

#[test]
fn answering_waits_for_the_ringer_then_stays_until_the_other_side_ends() {
    let start = Instant::now();
    let mut flow = CallFlow::new(Plan::Answer { hangup_after: None });
    assert!(after(&mut flow, |flow| flow.registered()).is_empty());
    assert!(
        after(&mut flow, |flow| flow
            .changed(start, &Change::Ringer(false)))
        .is_empty()
    );
    assert_eq!(
        after(&mut flow, |flow| flow.changed(start, &Change::Ringer(true))),
        [
            Action::Print("hook: off-hook".into()),
            Action::Send(Stimulus::OffHook.into()),
        ]
    );
    assert!(
        after(&mut flow, |flow| flow
            .changed(start, &Change::Ringer(false)))
        .is_empty()
    );
    assert_eq!(
        after(&mut flow, |flow| flow.changed(start, &started())),
        [Action::Print("connected".into())]
    );
    assert_eq!(flow.poll_timeout(), None);
    let actions = after(&mut flow, |flow| {
        flow.changed(start, &Change::Tone(Some(ToneKind::Busy)))
    });
    assert_eq!(
        actions,
        [
            Action::Print("hook: on-hook".into()),
            Action::Send(Stimulus::OnHook.into()),
            Action::Finish(Outcome::Connected),
        ]
    );
}

#[test]
fn answering_with_a_hangup_time_hangs_up_itself() {
    let start = Instant::now();
    let mut flow = CallFlow::new(Plan::Answer {
        hangup_after: Some(2 * SECOND),
    });
    after(&mut flow, |flow| flow.changed(start, &Change::Ringer(true)));
    after(&mut flow, |flow| flow.changed(start, &started()));
    let actions = after(&mut flow, |flow| flow.handle_timeout(start + 2 * SECOND));
    assert_eq!(finish(&actions), Some(&Outcome::Connected));
}

#[test]
fn a_caller_who_gives_up_before_the_answer_fails_the_answer() {
    let start = Instant::now();
    let mut flow = CallFlow::new(Plan::Answer { hangup_after: None });
    after(&mut flow, |flow| flow.changed(start, &Change::Ringer(true)));
    let actions = after(&mut flow, |flow| {
        flow.changed(start, &Change::Tone(Some(ToneKind::Busy)))
    });
    assert_eq!(finish(&actions), Some(&Outcome::Failed("busy tone".into())));
}

#[test]
fn interrupts_and_lost_connections_end_the_call() {
    let start = Instant::now();
    let mut waiting = CallFlow::new(Plan::Answer { hangup_after: None });
    assert!(after(&mut waiting, |flow| flow.connection_lost("gateway gone")).is_empty());
    assert_eq!(
        after(&mut waiting, |flow| flow.interrupted()),
        [Action::Finish(Outcome::Failed(
            "interrupted before a call connected".into()
        ))]
    );

    let mut connected = call("202");
    after(&mut connected, |flow| flow.registered());
    after(&mut connected, |flow| flow.changed(start, &started()));
    let actions = after(&mut connected, |flow| flow.interrupted());
    assert_eq!(finish(&actions), Some(&Outcome::Connected));
    assert_eq!(connected.model().hook(), Hook::OnHook);

    let mut dialling = call("202");
    after(&mut dialling, |flow| flow.registered());
    let actions = after(&mut dialling, |flow| {
        flow.connection_lost("the gateway stopped answering")
    });
    assert_eq!(
        finish(&actions),
        Some(&Outcome::Failed(
            "connection lost: the gateway stopped answering".into()
        ))
    );
}
