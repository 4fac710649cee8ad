//! Who may register as an HFA phone: the system's checks on a Register whose
//! challenge the connection engine has already verified.
//!
//! Order matters. A locked-out source or account is refused before the
//! password is looked at (a guesser learns nothing during a lockout); the
//! phone that last registered (same source address and MAC) is let through
//! an account's lockout, see `crate::lockout`. The
//! password is checked before the per-client flags, so the flags of a client
//! are only revealed to someone who knows its password. Each refusal has its
//! own decline cause, shown to the user in words, and its own log line.

use std::net::IpAddr;
use std::time::Instant;

use shared::hfa::DeclineCause;
use shared::hfa_engine::system::RegistrationRequest;
use shared::version::SoftwareVersion;

use crate::config::{Client, ClientKind, ValidatedConfig};
use crate::lockout::{Device, Lockout, LoginGuard, SharedLoginGuard};

/// The system's answer to a Register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Register the phone.
    Accept,
    /// Register the phone and deliver `release` to it: its firmware is
    /// below the minimum and it connected from the company LAN, where the
    /// system updates phones (guide 1.3.4).
    Update { release: SoftwareVersion },
    /// Refuse with `cause`; `detail` is for the log (never a password).
    Decline { cause: DeclineCause, detail: String },
}

/// The registration policy of one gateway, with its failed-login memory.
#[derive(Debug)]
pub struct Registrar {
    guard: SharedLoginGuard,
}

impl Registrar {
    /// A registrar keeping its failed logins in `guard` (shared with the
    /// portal's logins).
    pub fn new(guard: SharedLoginGuard) -> Self {
        Self { guard }
    }

    /// Decides on `request` arriving from `source` at `now`.
    pub fn decide(
        &mut self,
        config: &ValidatedConfig,
        now: Instant,
        source: IpAddr,
        request: &RegistrationRequest,
    ) -> (Decision, Vec<Lockout>) {
        let number = request.subscriber.as_str();
        let device = Device::new(source, request.mac);
        let mut guard = LoginGuard::lock(&self.guard);
        if let Err(lockout) = guard.check(now, device, number) {
            let detail = format!(
                "{}; attempt refused without checking the password",
                lockout.refusal(now)
            );
            return (
                decline(DeclineCause::TEMPORARILY_LOCKED, detail),
                Vec::new(),
            );
        }
        let Some(client) = config.client(number) else {
            let lockouts = guard.record_failure(now, device, number);
            let detail = format!("no client {number} is configured");
            return (decline(DeclineCause::UNKNOWN_SUBSCRIBER, detail), lockouts);
        };
        if client.authentication && !password_matches(client, request) {
            let lockouts = guard.record_failure(now, device, number);
            let detail = format!("wrong password for {}", client.label());
            return (decline(DeclineCause::WRONG_PASSWORD, detail), lockouts);
        }
        guard.record_success(device, number);
        drop(guard);
        (check_client(config, client, source, request), Vec::new())
    }
}

fn password_matches(client: &Client, request: &RegistrationRequest) -> bool {
    client
        .password
        .as_ref()
        .is_some_and(|password| request.proof.verify(password))
}

/// The per-client rules, once the caller has proven who it is.
fn check_client(
    config: &ValidatedConfig,
    client: &Client,
    source: IpAddr,
    request: &RegistrationRequest,
) -> Decision {
    let ClientKind::Hfa(device) = client.kind else {
        let detail = format!("{} is a {}, not an HFA phone", client.label(), client.kind);
        return decline(DeclineCause::WRONG_CLIENT_KIND, detail);
    };
    if !config.is_company_lan(source) && !client.internet_registration {
        let detail = format!(
            "{} registered from {source}, outside the company LAN, but \
             \"Internet Registration with internal SBC\" is off for it (guide 2.2)",
            client.label()
        );
        return decline(DeclineCause::INTERNET_REGISTRATION_DISABLED, detail);
    }
    if !client.ip_user_license {
        let detail = format!("{} has no IP user license (guide 1.2.1)", client.label());
        return decline(DeclineCause::NO_LICENSE, detail);
    }
    let minimum = config.min_versions().minimum_for(client.kind);
    match request.software_version.parse::<SoftwareVersion>() {
        Ok(version) if config.min_versions().admits(client.kind, version) => Decision::Accept,
        // In the company LAN the system delivers the release its minimum
        // names (the guide's, or the one an administrator raised it to).
        _ if config.is_company_lan(source)
            && let Some(release) = minimum =>
        {
            Decision::Update { release }
        }
        outcome => {
            let minimum =
                minimum.map_or_else(String::new, |minimum| format!(", minimum {minimum}"));
            let found = match outcome {
                Ok(version) => version.to_string(),
                Err(_) => format!("unreadable {:?}", request.software_version),
            };
            let detail = format!(
                "{} ({device}) runs {found}{minimum}: connect it internally once for a \
                 firmware update (guide 1.3.4)",
                client.label()
            );
            decline(DeclineCause::FIRMWARE_TOO_OLD, detail)
        }
    }
}

fn decline(cause: DeclineCause, detail: String) -> Decision {
    Decision::Decline { cause, detail }
}
