//! Toll fraud through other ways of dialling (issue 11, attack 6): the
//! system's own premium numbers in international format, the IRSF ranges,
//! and forwarding to either. 201 has class of service national, 204
//! international; neither is allowed premium or IRSF numbers.

use super::*;
use crate::config::cos::BarReason;

/// What `device` shows: both rows.
fn shown(o: &Office, device: &str) -> (String, String) {
    o.cc.screen(device)
        .map(|s| (s.top.clone(), s.bottom.clone()))
        .unwrap_or_default()
}

fn refused(why: &str) -> (String, String) {
    ("Not allowed".into(), why.into())
}

/// The refusals logged for `subscriber`: (dialled, E.164 form, why, forwarding).
fn barred(o: &Office, subscriber: &str) -> Vec<(String, String, BarReason, bool)> {
    o.events
        .iter()
        .filter_map(|e| match e {
            CallEvent::Barred {
                subscriber: who,
                number,
                reason,
                forwarding,
            } if who == subscriber => Some((
                number.dialled.clone(),
                number.destination.to_string(),
                *reason,
                *forwarding,
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn a_premium_number_is_barred_however_it_is_dialled() {
    let mut o = office();
    for dialled in ["0900123456", "0049900123456", "00490900123456"] {
        o.input("204", DeviceInput::OffHook);
        o.dial("204", &format!("0{dialled}#"));
        assert_eq!(
            shown(&o, "204"),
            refused("Premium-rate number"),
            "{dialled}"
        );
        assert_eq!(o.tone("204"), Tone::Congestion);
        o.input("204", DeviceInput::OnHook);
    }
    assert_eq!(o.cc.trunk_calls(), 0);
    let logged: Vec<(String, BarReason)> = barred(&o, "204")
        .into_iter()
        .map(|(_, e164, refusal, _)| (e164, refusal))
        .collect();
    let premium = |e164: &str| (e164.to_owned(), BarReason::Premium);
    assert_eq!(
        logged,
        [
            premium("+49900123456"),
            premium("+49900123456"),
            premium("+490900123456")
        ]
    );
}

#[test]
fn the_irsf_ranges_are_barred_for_an_international_client() {
    let mut o = office();
    for (dialled, e164) in [
        ("008816123456", "+8816123456"),
        ("00882161234", "+882161234"),
        ("00979123456", "+979123456"),
        ("00870123456", "+870123456"),
    ] {
        o.input("204", DeviceInput::OffHook);
        o.dial("204", &format!("0{dialled}#"));
        assert_eq!(
            shown(&o, "204"),
            refused("High-risk destination"),
            "{dialled}"
        );
        o.input("204", DeviceInput::OnHook);
        let last = barred(&o, "204").pop();
        assert_eq!(
            last,
            Some((dialled.into(), e164.into(), BarReason::Irsf, false))
        );
    }
    assert_eq!(o.cc.trunk_calls(), 0);
    // Other international numbers are within 204's class of service.
    o.input("204", DeviceInput::OffHook);
    o.dial("204", "000441234567#");
    assert_eq!(o.top("204"), "Calling 00441234567");
}

#[test]
fn a_national_client_is_told_it_may_not_call_abroad() {
    let mut o = office();
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "0008816123456#");
    assert_eq!(shown(&o, "201"), refused("No international calls"));
    o.input("201", DeviceInput::OnHook);
    // Its own country in international format is a national call.
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "0004989123456#");
    assert_eq!(o.top("201"), "Calling 004989123456");
}

#[test]
fn forwarding_to_a_premium_number_in_international_format_is_refused() {
    let mut o = office();
    for destination in ["0004990066666", "0008816123456"] {
        o.press("204", FeatureKey::Forward);
        o.dial("204", &format!("{destination}#"));
        assert_eq!(o.top("204"), "Not allowed", "{destination}");
        assert_eq!(
            o.cc.screen("204").map(|s| s.forward_lamp),
            Some(Lamp::Off),
            "{destination}"
        );
        o.input("204", DeviceInput::OnHook);
    }
    let logged: Vec<(BarReason, bool)> = barred(&o, "204")
        .into_iter()
        .map(|(_, _, refusal, forwarding)| (refusal, forwarding))
        .collect();
    assert_eq!(
        logged,
        [(BarReason::Premium, true), (BarReason::Irsf, true)]
    );
    // Nobody calling 204 reaches a premium number through it.
    o.input("202", DeviceInput::OffHook);
    o.dial("202", "204");
    assert_eq!(o.top("202"), "Calling 204 Dora");
    assert_eq!(o.cc.trunk_calls(), 0);
}
