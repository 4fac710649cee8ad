//! The overview printed by `check-config` and at start: what the guide's
//! rules derived from the file, so an administrator sees the consequences
//! (channels, ports to forward, calls, STUN source) at a glance.

use std::fmt;

use super::calls::CallsSource;
use super::net::Host;
use super::public_address::router_forwards;
use super::stun::EffectiveStun;
use super::validated::ValidatedConfig;

/// Displays a [`ValidatedConfig`]; made by [`ValidatedConfig::summary`].
/// Shows no password: only `Secret`-free fields are printed.
pub struct Summary<'a>(pub(super) &'a ValidatedConfig);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = self.0;
        let raw = config.config();
        let booster = match (raw.system.model.is_x(), raw.system.booster) {
            (true, true) => " with booster",
            (true, false) => " without booster",
            (false, _) => "",
        };
        writeln!(
            f,
            "system: OpenScape Business {}{booster}, Device@Home on {}",
            raw.system.model, raw.system.lan_interface
        )?;
        writeln!(f, "RTP proxy channels: {}", config.rtp_proxy_channels())?;
        writeln!(
            f,
            "listens: HFA TCP {}, HTTPS (myPortal to go) TCP {}",
            config.hfa_addr(),
            config.https_addr()
        )?;
        writeln!(
            f,
            "RTP ports: UDP {} (the company router must forward this range 1:1, guide 3.1)",
            config.rtp_ports()
        )?;
        match config.public_address() {
            Some(Host::Ip(ip)) => writeln!(f, "public address: {ip} (static)")?,
            Some(Host::Dns(name)) => writeln!(
                f,
                "public address: {name} (DNS name, resolved again periodically: dynamic DNS, guide 3.2)"
            )?,
            None => writeln!(
                f,
                "public address: detected by STUN from {} (guide 2.4)",
                config.effective_stun()
            )?,
        }
        let lan: Vec<String> = raw
            .network
            .company_lan
            .iter()
            .map(|n| n.to_string())
            .collect();
        writeln!(f, "company LAN: {}", lan.join(", "))?;
        write_calls(f, config)?;
        match config.effective_stun() {
            EffectiveStun::None => writeln!(f, "STUN: none (static public address)")?,
            stun => writeln!(f, "STUN: {stun}")?,
        }
        writeln!(f, "company router port forwards (guide 3.1):")?;
        for forward in router_forwards(config) {
            writeln!(f, "  - {forward}")?;
        }
        let lockout = config.lockout();
        writeln!(
            f,
            "lockout: after {} failed attempts, first lockout {} s",
            lockout.max_failed_attempts,
            lockout.base_lockout.as_secs()
        )?;
        let min = config.min_versions();
        writeln!(
            f,
            "minimum versions: OpenStage HFA {}, DeskPhone IP HFA {}, myPortal to go (Android) {}",
            min.openstage_hfa, min.deskphone_ip_hfa, min.myportal_to_go_android
        )?;
        write_dialing(f, config)?;
        write_clients(f, config)?;
        writeln!(f, "warnings: {}", config.warnings().len())?;
        for warning in config.warnings() {
            writeln!(f, "  - {warning}")?;
        }
        Ok(())
    }
}

fn write_calls(f: &mut fmt::Formatter<'_>, config: &ValidatedConfig) -> fmt::Result {
    let calls = config.internet_calls();
    let origin = match calls.source {
        CallsSource::Direct {
            ignored_upstream_kbps: Some(_),
        } => format!("{calls}"),
        CallsSource::Direct { .. } => "set directly by internet.simultaneous_calls".to_owned(),
        CallsSource::Upstream { .. } | CallsSource::NotConfigured => format!("from {calls}"),
    };
    let zero = if calls.calls == 0 {
        " -- no Device@Home call can be made"
    } else {
        ""
    };
    writeln!(
        f,
        "simultaneous internet calls: {}{zero}; {origin}",
        calls.calls
    )
}

/// The number plan and the barred ranges, in the forms they are compared in.
fn write_dialing(f: &mut fmt::Formatter<'_>, config: &ValidatedConfig) -> fmt::Result {
    let dialing = config.dialing();
    let classifier = config.classifier();
    let list = |items: Vec<String>| items.join(" ");
    writeln!(
        f,
        "dialing: trunk access code {}, country code +{}, national prefix {}, international \
         prefix {}",
        dialing.trunk_access_code,
        classifier.plan().country_code(),
        dialing.national_prefix,
        dialing.international_prefix
    )?;
    writeln!(
        f,
        "  barred unless allow_premium: {}",
        list(
            classifier
                .premium_prefixes()
                .iter()
                .map(ToString::to_string)
                .collect()
        )
    )?;
    writeln!(
        f,
        "  barred unless allow_irsf: {}",
        list(
            classifier
                .irsf_prefixes()
                .iter()
                .map(|p| format!("+{p}"))
                .collect()
        )
    )
}

fn write_clients(f: &mut fmt::Formatter<'_>, config: &ValidatedConfig) -> fmt::Result {
    let clients = config.clients();
    let internet = clients.iter().filter(|c| c.internet_registration).count();
    writeln!(
        f,
        "clients: {} ({internet} enabled for internet registration, marked *)",
        clients.len()
    )?;
    for client in clients {
        let mark = if client.internet_registration {
            '*'
        } else {
            ' '
        };
        let premium = if client.allow_premium {
            ", premium allowed"
        } else {
            ""
        };
        let irsf = if client.allow_irsf {
            ", IRSF ranges allowed"
        } else {
            ""
        };
        writeln!(
            f,
            "  {mark} {} {}: {}, class of service {}{premium}{irsf}",
            client.number,
            client.name,
            client.kind,
            client.class_of_service.as_str()
        )?;
    }
    Ok(())
}
