//! The lines the headless `portal` commands print: one per agent event, so
//! a QA script can wait for a line. Nothing here ever holds a password or
//! a session token.

use std::time::Duration;

use shared::portal::{CallState, CallView};

use super::agent::AgentEvent;
use super::client::CallRequest;

/// The line for `event`.
pub fn describe(event: &AgentEvent) -> String {
    match event {
        AgentEvent::Status(change) => format!(
            "status: {} (after {})",
            change.status,
            millis(change.elapsed)
        ),
        AgentEvent::Registered {
            server,
            rtp,
            internet,
            logged_in,
        } => format!(
            "registered: through {server}, media at {rtp}, {}, {}",
            if *internet {
                "over the internet (SBC)"
            } else {
                "in the company LAN"
            },
            if *logged_in {
                "new session"
            } else {
                "same session"
            }
        ),
        AgentEvent::CertificateUnknown {
            server,
            fingerprint,
        } => format!("certificate: {server} shows an unknown certificate, SHA-256 {fingerprint}"),
        AgentEvent::CertificateChanged {
            server,
            expected,
            found,
        } => format!(
            "certificate: {server} CHANGED: expected SHA-256 {expected}, found {found}; refused"
        ),
        AgentEvent::StreamOpen => "events: stream open".to_owned(),
        AgentEvent::SessionRefreshed { expires_in } => {
            format!("session: refreshed, valid for {}", millis(*expires_in))
        }
        AgentEvent::Call(view) => call_line(view),
        AgentEvent::Media(report) => report.to_string(),
        AgentEvent::RequestFailed { request, reason } => {
            format!("request failed: {}: {reason}", request_name(request))
        }
        AgentEvent::LoggedOut(reason) => format!("logged out: {reason}"),
        AgentEvent::Notice(text) => format!("notice: {text}"),
    }
}

/// `call: connected 201 Anna`, `call: ended (Busy)`.
fn call_line(view: &CallView) -> String {
    let state = match view.state {
        CallState::Idle => "idle",
        CallState::Dialing => "dialing",
        CallState::Calling => "calling",
        CallState::Ringing => "ringing",
        CallState::Connected => "connected",
        CallState::Held => "held",
        CallState::Ended => "ended",
    };
    let mut line = format!("call: {state}");
    if let Some(peer) = &view.peer {
        line.push(' ');
        line.push_str(peer);
    }
    if let Some(reason) = &view.reason {
        line.push_str(&format!(" ({reason})"));
    }
    line
}

fn request_name(request: &CallRequest) -> String {
    match request {
        CallRequest::Dial(number) => format!("dial {number}"),
        CallRequest::Answer => "answer".to_owned(),
        CallRequest::Reject => "reject".to_owned(),
        CallRequest::Hangup => "hangup".to_owned(),
        CallRequest::Hold => "hold".to_owned(),
        CallRequest::Retrieve => "retrieve".to_owned(),
        CallRequest::Dtmf(digits) => format!("dtmf {digits}"),
    }
}

/// `120 ms`, `3.40 s`.
pub fn millis(elapsed: Duration) -> String {
    if elapsed < Duration::from_secs(1) {
        format!("{} ms", elapsed.as_millis())
    } else {
        format!("{:.2} s", elapsed.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;
    use crate::portal::selection::{Route, Status, StatusChange};
    use crate::portal::settings::ServerAddress;
    use crate::portal::trust::Fingerprint;

    #[test]
    fn status_lines_carry_the_status_text_and_the_time() {
        let event = AgentEvent::Status(StatusChange {
            status: Status::Registered {
                route: Route::Lan,
                server: ServerAddress::parse("10.10.0.2").expect("server"),
            },
            elapsed: Duration::from_millis(120),
        });
        assert_eq!(
            describe(&event),
            "status: Registered via LAN server 10.10.0.2:8802 (after 120 ms)"
        );
        assert_eq!(millis(Duration::from_millis(3_400)), "3.40 s");
    }

    #[test]
    fn call_registration_and_certificate_lines() {
        let view = CallView {
            state: CallState::Ended,
            peer: Some("202 Ben".into()),
            reason: Some("Busy".into()),
            media: None,
        };
        assert_eq!(
            describe(&AgentEvent::Call(view)),
            "call: ended 202 Ben (Busy)"
        );
        let rtp: SocketAddr = "127.0.1.20:40000".parse().expect("address");
        let registered = AgentEvent::Registered {
            server: ServerAddress::parse("company.example.com:18802").expect("server"),
            rtp,
            internet: true,
            logged_in: false,
        };
        assert_eq!(
            describe(&registered),
            "registered: through company.example.com:18802, media at 127.0.1.20:40000, over the \
             internet (SBC), same session"
        );
        let unknown = AgentEvent::CertificateUnknown {
            server: "company.example.com:8802".into(),
            fingerprint: Fingerprint([0xab; 32]),
        };
        assert!(describe(&unknown).ends_with(&format!("SHA-256 {}", Fingerprint([0xab; 32]))));
        let failed = AgentEvent::RequestFailed {
            request: CallRequest::Hold,
            reason: "There is no call to hold".into(),
        };
        assert_eq!(
            describe(&failed),
            "request failed: hold: There is no call to hold"
        );
    }
}
