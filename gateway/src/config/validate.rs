//! Checks every rule of the guide on a parsed [`Config`] and derives the
//! values that follow from it. All errors and warnings are collected, so a
//! single `check-config` run lists everything to fix.

use std::str::FromStr;

use shared::version::{
    DESKPHONE_IP_HFA_MIN, MYPORTAL_TO_GO_ANDROID_MIN, OPENSTAGE_HFA_MIN, SoftwareVersion,
};

use super::call_timers::{INTER_DIGIT_RANGE, NO_ANSWER_RANGE};
use super::calls::InternetCalls;
use super::error::{ConfigError, ConfigErrors};
use super::media::CodecName;
use super::model::Config;
use super::net::{Host, StunServer};
use super::portal::{IdentityFile, TlsIdentity};
use super::public_address;
use super::stun::EffectiveStun;
use super::system::LanInterface;
use super::validate_clients;
use super::validate_dialing;
use super::validate_ports::check_ports;
use super::validated::ValidatedConfig;
use super::versions::MinVersions;
use super::warning::ConfigWarning;

/// Errors and warnings found so far.
#[derive(Default)]
pub(super) struct Report {
    pub(super) errors: Vec<ConfigError>,
    pub(super) warnings: Vec<ConfigWarning>,
}

/// Validates a parsed configuration: the guide's rules become errors (the
/// configuration is refused) or warnings (it is accepted, with a note).
pub fn validate(config: Config) -> Result<ValidatedConfig, ConfigErrors> {
    let mut report = Report::default();
    let internet_clients = validate_clients::internet_clients(&config.clients);
    check_system(&config, &mut report);
    let rtp_ports = check_ports(&config, &mut report);
    let calls = check_calls(&config, &internet_clients, &mut report);
    let public_address = match config.network.public_address.as_deref().map(Host::parse) {
        None => Some(None),
        Some(Ok(host)) => {
            if let Some(warning) = public_address::not_public(&host, config.network.listen_address)
            {
                report.warnings.push(warning);
            }
            Some(Some(host))
        }
        Some(Err(reason)) => {
            report.errors.push(ConfigError::InvalidPublicAddress {
                value: config.network.public_address.clone().unwrap_or_default(),
                reason,
            });
            None
        }
    };
    if config.network.company_lan.is_empty() {
        report.errors.push(ConfigError::NoCompanyLan);
    }
    let stun = check_stun(&config, &mut report);
    if matches!(public_address, Some(None)) && stun == EffectiveStun::None {
        report.errors.push(ConfigError::NoPublicAddressSource {
            internet_clients: internet_clients.clone(),
        });
    }
    let min_versions = check_min_versions(&config, &mut report);
    let classifier = validate_dialing::check(&config, &mut report);
    check_call_timers(&config, &mut report);
    check_media(&config, &mut report);
    check_portal(&config, &mut report);
    validate_clients::check(&config.clients, &internet_clients, &mut report);

    match (public_address, min_versions, classifier) {
        (Some(public_address), Some(min_versions), Some(classifier))
            if report.errors.is_empty() =>
        {
            Ok(ValidatedConfig {
                by_number: config
                    .clients
                    .iter()
                    .enumerate()
                    .map(|(index, client)| (client.number.clone(), index))
                    .collect(),
                channels: config.system.model.rtp_proxy_channels(),
                config,
                rtp_ports,
                calls,
                public_address,
                stun,
                min_versions,
                classifier,
                warnings: report.warnings,
            })
        }
        _ => Err(ConfigErrors::new(report.errors)),
    }
}

/// The portal's own certificate: both files or neither, readable, PEM,
/// and the key must be the certificate's.
fn check_portal(config: &Config, report: &mut Report) {
    let portal = &config.portal;
    match (&portal.certificate, &portal.private_key) {
        (Some(certificate), Some(key)) => {
            if let Err((file, reason)) = TlsIdentity::load(certificate, key) {
                let path = match file {
                    IdentityFile::Certificate => certificate,
                    IdentityFile::PrivateKey => key,
                };
                report.errors.push(ConfigError::PortalIdentity {
                    field: file.field(),
                    path: path.clone(),
                    reason,
                });
            }
        }
        (Some(_), None) => report.errors.push(ConfigError::PortalIdentityHalf {
            given: IdentityFile::Certificate.field(),
            missing: IdentityFile::PrivateKey.field(),
        }),
        (None, Some(_)) => report.errors.push(ConfigError::PortalIdentityHalf {
            given: IdentityFile::PrivateKey.field(),
            missing: IdentityFile::Certificate.field(),
        }),
        (None, None) => {}
    }
}

/// Interface rules (guide 1.3.1, 2) and the booster flag (guide 1.3.5).
fn check_system(config: &Config, report: &mut Report) {
    let system = config.system.lan_interface;
    if system != LanInterface::Lan2 {
        report
            .errors
            .push(ConfigError::UnsupportedInterface(system));
    }
    for (index, itsp) in config.itsp.iter().enumerate() {
        if itsp.interface != system {
            report.errors.push(ConfigError::ItspInterfaceMismatch {
                index,
                name: itsp.name.clone(),
                interface: itsp.interface,
                system,
            });
        }
    }
    if config.system.booster && !config.system.model.is_x() {
        report.errors.push(ConfigError::BoosterOnS);
    }
}

/// Simultaneous internet calls (guide 2.3, 1.3.5).
fn check_calls(config: &Config, internet_clients: &[String], report: &mut Report) -> InternetCalls {
    let calls = InternetCalls::from_section(&config.internet);
    let channels = config.system.model.rtp_proxy_channels();
    if calls.calls == 0 {
        if internet_clients.is_empty() {
            report.warnings.push(ConfigWarning::NoInternetCalls);
        } else {
            report.errors.push(ConfigError::NoInternetCalls {
                calls,
                internet_clients: internet_clients.to_vec(),
            });
        }
    } else if calls.calls > channels {
        report.warnings.push(ConfigWarning::CallsExceedChannels {
            calls: calls.calls,
            channels,
        });
    }
    calls
}

/// STUN server syntax and which source is used (guide 2.4).
fn check_stun(config: &Config, report: &mut Report) -> EffectiveStun {
    let mut parse = |field: String, text: &str| match StunServer::parse(text) {
        Ok(server) => Some(server),
        Err(reason) => {
            report.errors.push(ConfigError::InvalidStunServer {
                field,
                value: text.to_owned(),
                reason,
            });
            None
        }
    };
    let mut itsp_stun = None;
    for (index, itsp) in config.itsp.iter().enumerate() {
        let Some(text) = &itsp.stun_server else {
            continue;
        };
        let field = format!("itsp[{index}] ({}).stun_server", itsp.name);
        if let Some(server) = parse(field, text)
            && itsp.stun_enabled
            && itsp_stun.is_none()
        {
            itsp_stun = Some(EffectiveStun::Itsp {
                trunk: itsp.name.clone(),
                server,
            });
        }
    }
    let system_stun = config
        .stun
        .server
        .as_deref()
        .and_then(|text| parse("stun.server".to_owned(), text))
        .map(EffectiveStun::System);
    itsp_stun.or(system_stun).unwrap_or(EffectiveStun::None)
}

/// Minimum versions: parse, and never below the guide's (guide 4).
fn check_min_versions(config: &Config, report: &mut Report) -> Option<MinVersions> {
    let section = &config.min_versions;
    let mut check = |field: &'static str, text: &str, minimum: SoftwareVersion| {
        match SoftwareVersion::from_str(text) {
            Ok(value) if value >= minimum => Some(value),
            Ok(value) => {
                report.errors.push(ConfigError::VersionBelowGuide {
                    field,
                    value,
                    minimum,
                });
                None
            }
            Err(source) => {
                report.errors.push(ConfigError::InvalidVersion {
                    field,
                    value: text.to_owned(),
                    source,
                });
                None
            }
        }
    };
    let openstage_hfa = check(
        "min_versions.openstage_hfa",
        &section.openstage_hfa,
        OPENSTAGE_HFA_MIN,
    );
    let deskphone_ip_hfa = check(
        "min_versions.deskphone_ip_hfa",
        &section.deskphone_ip_hfa,
        DESKPHONE_IP_HFA_MIN,
    );
    let myportal_to_go_android = check(
        "min_versions.myportal_to_go_android",
        &section.myportal_to_go_android,
        MYPORTAL_TO_GO_ANDROID_MIN,
    );
    Some(MinVersions {
        openstage_hfa: openstage_hfa?,
        deskphone_ip_hfa: deskphone_ip_hfa?,
        myportal_to_go_android: myportal_to_go_android?,
    })
}

/// A codec preference that names at least one G.711 law, since every
/// device offers G.711 and myPortal to go offers nothing else (guide 1.3.3).
fn check_media(config: &Config, report: &mut Report) {
    let preference = &config.media.codec_preference;
    if !preference
        .iter()
        .any(|codec| matches!(codec, CodecName::Pcma | CodecName::Pcmu))
    {
        report.errors.push(ConfigError::NoG711 {
            value: format!("{preference:?}"),
        });
    }
}

/// Timeouts within what a person can live with.
fn check_call_timers(config: &Config, report: &mut Report) {
    let timers = &config.call_control;
    for (field, value, range) in [
        (
            "call_control.inter_digit_seconds",
            timers.inter_digit_seconds,
            INTER_DIGIT_RANGE,
        ),
        (
            "call_control.no_answer_seconds",
            timers.no_answer_seconds,
            NO_ANSWER_RANGE,
        ),
    ] {
        if !range.contains(&value) {
            report.errors.push(ConfigError::OutOfRange {
                field: field.to_owned(),
                value,
                min: *range.start(),
                max: *range.end(),
            });
        }
    }
}

/// Whether `text` is one or more ASCII digits.
pub(super) fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}
