//! Who may register for VoIP, once logged in: the HFA registrar's rules in
//! its order and words (guide 2.2 internet registration, 1.2.1 IP user
//! license, 4 minimum version), then the myPortal to go rules of guide
//! 1.3.3 (no Deskshare users, G.711 only).

use std::net::SocketAddr;

use shared::hfa::PayloadType;
use shared::portal::{AppInfo, CodecOffer, ErrorCode, VoipRegistration};
use shared::version::SoftwareVersion;

use super::error::ApiFailure;
use super::login::Registration;
use crate::calls::Origin;
use crate::calls::media::{DEFAULT_PACKET_MS, MediaOffer};
use crate::config::{Client, ValidatedConfig};

/// An accepted registration: what call control is told, and the codecs
/// accepted (the app's order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub registration: Registration,
    pub codecs: Vec<CodecOffer>,
}

/// Checks `request` of `client` (logged in with `app`) from `source`.
pub fn check(
    config: &ValidatedConfig,
    client: &Client,
    app: &AppInfo,
    source: SocketAddr,
    request: &VoipRegistration,
) -> Result<Accepted, ApiFailure> {
    let internet = !config.is_company_lan(source.ip());
    if internet && !client.internet_registration {
        let detail = format!(
            "{} registered from {}, outside the company LAN, but \
             \"Internet Registration with internal SBC\" is off for it (guide 2.2)",
            client.label(),
            source.ip()
        );
        let message = "VoIP from outside the company network is not enabled for this user \
                       (\"Internet Registration with internal SBC\", guide 2.2)";
        return Err(refuse(
            ErrorCode::InternetRegistrationDisabled,
            message,
            detail,
        ));
    }
    if !client.ip_user_license {
        let detail = format!("{} has no IP user license (guide 1.2.1)", client.label());
        let message = "This user has no IP user license (guide 1.2.1)";
        return Err(refuse(ErrorCode::NoLicense, message, detail));
    }
    check_version(config, client, app)?;
    if client.deskshare {
        let detail = format!(
            "{} is a Deskshare user: myPortal to go VoIP is not released for Deskshare \
             users (guide 1.3.3)",
            client.label()
        );
        let message = "myPortal to go VoIP is not released for Deskshare users (guide 1.3.3)";
        return Err(refuse(ErrorCode::DeskshareUser, message, detail));
    }
    let codecs = check_codecs(client, &request.codecs)?;
    let rtp = if request.rtp.ip().is_unspecified() {
        SocketAddr::new(source.ip(), request.rtp.port())
    } else {
        request.rtp
    };
    let offer = MediaOffer {
        rtp,
        rtcp_port: rtp.port().saturating_add(1),
        codecs: codecs
            .iter()
            .map(|(payload_type, codec)| {
                let ptime = if codec.ptime_ms == 0 {
                    DEFAULT_PACKET_MS
                } else {
                    codec.ptime_ms
                };
                (*payload_type, ptime)
            })
            .collect(),
    };
    Ok(Accepted {
        registration: Registration {
            origin: Origin {
                ip: source.ip(),
                internet,
            },
            source,
            offer,
        },
        codecs: codecs.into_iter().map(|(_, codec)| codec).collect(),
    })
}

/// Guide 4: Android from V2R1.61.14 (or the configured minimum); no iOS
/// release yet.
fn check_version(
    config: &ValidatedConfig,
    client: &Client,
    app: &AppInfo,
) -> Result<(), ApiFailure> {
    if !app.platform.eq_ignore_ascii_case("android") {
        let detail = format!(
            "{} logged in with myPortal to go on {:?}: only the Android app is released for \
             VoIP (guide 4: iOS \"coming soon\")",
            client.label(),
            app.platform
        );
        let message = "myPortal to go VoIP is released for Android only; the iOS app is \
                       \"coming soon\" (guide 4)";
        return Err(refuse(ErrorCode::VersionTooOld, message, detail));
    }
    let minimum = config.min_versions().myportal_to_go_android;
    match app.version.parse::<SoftwareVersion>() {
        Ok(version) if version >= minimum => Ok(()),
        outcome => {
            let found = match outcome {
                Ok(version) => version.to_string(),
                Err(_) => format!("unreadable {:?}", app.version),
            };
            let detail = format!(
                "{} (myPortal to go Android) runs {found}, minimum {minimum}: update the app \
                 (guide 4)",
                client.label()
            );
            let message = format!(
                "This app version ({found}) is too old for VoIP: myPortal to go (Android) \
                 needs {minimum} or later (guide 4)"
            );
            Err(ApiFailure::new(ErrorCode::VersionTooOld, message, detail))
        }
    }
}

/// G.711 only (guide 1.3.3): any other codec refuses the whole offer, so
/// the app learns at once instead of failing in a call.
fn check_codecs(
    client: &Client,
    offered: &[CodecOffer],
) -> Result<Vec<(PayloadType, CodecOffer)>, ApiFailure> {
    let mut accepted = Vec::new();
    for codec in offered {
        let payload_type = match codec.name.to_ascii_uppercase().as_str() {
            "PCMA" => PayloadType::PCMA,
            "PCMU" => PayloadType::PCMU,
            _ => {
                let detail = format!(
                    "{} offered {} (payload type {}): myPortal to go VoIP supports only G.711 \
                     (guide 1.3.3)",
                    client.label(),
                    codec.name,
                    codec.payload_type
                );
                let message = format!(
                    "Codec {} is not supported: myPortal to go VoIP supports only G.711 \
                     (PCMA, PCMU) (guide 1.3.3)",
                    codec.name
                );
                return Err(ApiFailure::new(
                    ErrorCode::CodecNotSupported,
                    message,
                    detail,
                ));
            }
        };
        accepted.push((payload_type, codec.clone()));
    }
    if accepted.is_empty() {
        let message = "No codec offered: myPortal to go VoIP needs G.711 (PCMA or PCMU) \
                       (guide 1.3.3)";
        let detail = format!("{} offered no codec", client.label());
        return Err(refuse(ErrorCode::CodecNotSupported, message, detail));
    }
    Ok(accepted)
}

fn refuse(code: ErrorCode, message: &str, detail: String) -> ApiFailure {
    ApiFailure::new(code, message.to_owned(), detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Office, cast};

    fn office() -> ValidatedConfig {
        Office::x3()
            .public_address("203.0.113.10")
            .company_lan(&["192.168.1.0/24"])
            .upstream_kbps(1000)
            .stun("stun.example.net")
            .subscriber(cast::dan())
            .validated()
    }

    fn request(codecs: &[(&str, u8)]) -> VoipRegistration {
        VoipRegistration {
            rtp: "0.0.0.0:40000".parse().expect("address"),
            codecs: codecs
                .iter()
                .map(|(name, payload_type)| CodecOffer {
                    name: (*name).into(),
                    payload_type: *payload_type,
                    ptime_ms: 0,
                })
                .collect(),
        }
    }

    fn android() -> AppInfo {
        AppInfo {
            platform: "android".into(),
            version: "V2R1.61.14".into(),
        }
    }

    #[test]
    fn a_deskshare_user_is_refused_after_the_version_and_before_the_codecs() {
        let config = office();
        let mut client = config.client("210").expect("210").clone();
        // Validation refuses such a client; the registration checks again.
        client.deskshare = true;
        let source = "192.168.1.50:5000".parse().expect("address");
        let refused = check(
            &config,
            &client,
            &android(),
            source,
            &request(&[("G729", 18)]),
        )
        .expect_err("refused");
        assert_eq!(refused.error.code, ErrorCode::DeskshareUser);
        assert!(refused.error.message.contains("guide 1.3.3"));
        let old = AppInfo {
            version: "V2R1.0.0".into(),
            ..android()
        };
        let refused =
            check(&config, &client, &old, source, &request(&[("PCMA", 8)])).expect_err("refused");
        assert_eq!(
            refused.error.code,
            ErrorCode::VersionTooOld,
            "version first"
        );
    }

    #[test]
    fn an_accepted_offer_becomes_call_controls_media_offer() {
        let config = office();
        let client = config.client("210").expect("210");
        let source = "198.51.100.7:5000".parse().expect("address");
        let accepted = check(
            &config,
            client,
            &android(),
            source,
            &request(&[("pcmu", 0), ("PCMA", 8)]),
        )
        .expect("accepted");
        let registration = accepted.registration;
        assert_eq!(
            registration.origin,
            Origin {
                ip: source.ip(),
                internet: true
            }
        );
        assert_eq!(registration.offer.rtp.to_string(), "198.51.100.7:40000");
        assert_eq!(registration.offer.rtcp_port, 40001);
        assert_eq!(
            registration.offer.codecs,
            [(PayloadType::PCMU, 20), (PayloadType::PCMA, 20)]
        );
        let refused =
            check(&config, client, &android(), source, &request(&[])).expect_err("an empty offer");
        assert_eq!(refused.error.code, ErrorCode::CodecNotSupported);
    }
}
