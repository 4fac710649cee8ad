//! The rules for system clients: the guide's section 2.2 password and
//! authentication rule, licenses, Deskshare, numbers, versions, COS.

mod config_support;

use config_support::{PASSWORDS, assert_no_secret, base, client, invalid, set_password, valid};
use gateway::config::cos::BarReason;
use gateway::config::password::Weakness;
use gateway::config::{ClientKind, ConfigError, ConfigWarning, HfaDevice};
use shared::version::SoftwareVersion;

fn only_error(errors: &[ConfigError]) -> &ConfigError {
    assert_eq!(errors.len(), 1, "{errors:#?}");
    &errors[0]
}

#[test]
fn base_config_is_valid_without_warnings() {
    let config = valid(base());
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());
}

#[test]
fn weak_password_on_internal_client_is_refused_when_another_is_internet_enabled() {
    let mut config = base();
    set_password(&mut config, "202", "ben202");
    let errors = invalid(config);
    let error = only_error(&errors);
    assert!(
        matches!(error, ConfigError::WeakPassword { client, weaknesses }
            if client == "client 202 (Ben)"
            && weaknesses == &[Weakness::TooShort, Weakness::TooFewClasses, Weakness::ContainsNumber]),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.starts_with("client 202 (Ben).password is not strong"),
        "{text}"
    );
    assert!(text.contains("at least 10 characters") && text.contains("guide 1.2.1, 2.2"));
    assert_no_secret(&text, &["ben202"]);
}

#[test]
fn the_strength_rule_only_applies_with_an_internet_client() {
    let mut config = base();
    client(&mut config, "201").internet_registration = false;
    set_password(&mut config, "202", "ben202");
    set_password(&mut config, "203", "ben202");
    valid(config);
}

#[test]
fn common_passwords_are_refused_by_containment_and_case() {
    let mut config = base();
    set_password(&mut config, "203", "MyAdmin#2024x");
    let errors = invalid(config);
    assert!(matches!(
        only_error(&errors),
        ConfigError::WeakPassword { weaknesses, .. } if weaknesses == &[Weakness::CommonPassword]
    ));
}

#[test]
fn authentication_off_on_any_client_is_refused_when_one_is_internet_enabled() {
    let mut config = base();
    client(&mut config, "203").authentication = false;
    let errors = invalid(config);
    let error = only_error(&errors);
    assert!(
        matches!(error, ConfigError::AuthenticationOff { client, internet_clients }
            if client == "client 203 (Clara)" && internet_clients == &["201"]),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("client 203 (Clara).authentication = false")
    );
}

#[test]
fn authentication_off_without_password_is_fine_when_no_client_is_internet_enabled() {
    let mut config = base();
    client(&mut config, "201").internet_registration = false;
    let clara = client(&mut config, "203");
    clara.authentication = false;
    clara.password = None;
    valid(config);
}

#[test]
fn authentication_on_needs_a_password() {
    let mut config = base();
    client(&mut config, "201").internet_registration = false;
    client(&mut config, "202").password = None;
    let errors = invalid(config);
    assert!(matches!(
        only_error(&errors),
        ConfigError::PasswordMissing { client } if client == "client 202 (Ben)"
    ));
}

#[test]
fn an_empty_password_counts_as_missing() {
    let mut config = base();
    set_password(&mut config, "210", "");
    let errors = invalid(config);
    assert!(matches!(
        only_error(&errors),
        ConfigError::PasswordMissing { .. }
    ));
}

#[test]
fn two_clients_with_one_password_are_refused() {
    let mut config = base();
    set_password(&mut config, "203", PASSWORDS[0]);
    let errors = invalid(config);
    let error = only_error(&errors);
    assert!(
        matches!(error, ConfigError::SharedPassword { client, other }
            if client == "client 203 (Clara)" && other == "client 201 (Anna)"),
        "{error:?}"
    );
    assert_no_secret(&error.to_string(), &[]);
}

#[test]
fn internet_registration_needs_an_ip_user_license() {
    let mut config = base();
    client(&mut config, "201").ip_user_license = false;
    let errors = invalid(config);
    assert!(matches!(
        only_error(&errors),
        ConfigError::InternetWithoutLicense { client } if client == "client 201 (Anna)"
    ));
}

#[test]
fn deskshare_with_myportal_to_go_is_refused_but_not_with_a_phone() {
    let mut config = base();
    client(&mut config, "202").deskshare = true;
    let accepted = config.clone();
    client(&mut config, "210").deskshare = true;
    let errors = invalid(config);
    let error = only_error(&errors);
    assert!(
        matches!(error, ConfigError::DeskshareMyPortal { client } if client == "client 210 (Dan)")
    );
    assert!(error.to_string().contains("guide 1.3.3"));
    valid(accepted);
}

#[test]
fn a_sip_client_enabled_for_internet_registration_is_refused_until_sip_is_served() {
    let mut config = base();
    client(&mut config, "203").kind = ClientKind::Sip;
    let internal_sip = config.clone();
    client(&mut config, "203").internet_registration = true;
    client(&mut config, "203").ip_user_license = true;
    let errors = invalid(config);
    let error = only_error(&errors);
    assert!(
        matches!(error, ConfigError::InternetSipNotServed { client } if client.starts_with("client 203")),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("internet_registration = true") && text.contains("not served"),
        "{text}"
    );
    valid(internal_sip);
}

#[test]
fn client_numbers_are_digits_unique_and_named() {
    let mut config = base();
    client(&mut config, "202").number = "201".into();
    client(&mut config, "203").number = "2O3".into();
    client(&mut config, "210").name = " ".into();
    let errors = invalid(config);
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(
        matches!(&errors[0], ConfigError::DuplicateClientNumber { index: 1, number, first_index: 0 } if number == "201")
    );
    assert!(
        matches!(&errors[1], ConfigError::InvalidClientNumber { index: 2, value } if value == "2O3")
    );
    assert!(matches!(
        &errors[2],
        ConfigError::EmptyClientName { index: 3 }
    ));
    assert!(
        errors[0]
            .to_string()
            .starts_with("clients[1].number = \"201\"")
    );
}

#[test]
fn all_errors_are_collected_with_one_message_per_offending_client() {
    let mut config = base();
    set_password(&mut config, "202", "short");
    set_password(&mut config, "203", "short2");
    client(&mut config, "210").authentication = false;
    config.system.lan_interface = gateway::config::LanInterface::Lan1;
    let errors = invalid(config);
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert!(matches!(errors[0], ConfigError::UnsupportedInterface(_)));
    assert!(
        matches!(&errors[1], ConfigError::WeakPassword { client, .. } if client.contains("202"))
    );
    assert!(
        matches!(&errors[2], ConfigError::WeakPassword { client, .. } if client.contains("203"))
    );
    assert!(
        matches!(&errors[3], ConfigError::AuthenticationOff { client, .. } if client.contains("210"))
    );
}

#[test]
fn clients_are_found_by_number_and_passwords_compare() {
    let config = valid(base());
    let anna = config.client("201").expect("client 201");
    assert_eq!(anna.name, "Anna");
    assert_eq!(anna.kind, ClientKind::Hfa(HfaDevice::OpenStage60));
    let password = anna.password.as_ref().expect("password");
    assert!(password.constant_time_eq(PASSWORDS[0].as_bytes()));
    assert!(!password.constant_time_eq(PASSWORDS[1].as_bytes()));
    assert!(config.client("299").is_none());
}

#[test]
fn premium_numbers_are_barred_unless_allowed() {
    let mut config = base();
    client(&mut config, "202").allow_premium = true;
    let config = valid(config);
    let class = |dialled: &str| {
        let number = config.classifier().classify(dialled).expect("a number");
        number.class
    };
    let anna = config.client("201").expect("201");
    let ben = config.client("202").expect("202");
    assert!(class("09001234").premium);
    assert_eq!(
        anna.bar_reason(&class("09001234")),
        Some(BarReason::Premium)
    );
    assert_eq!(
        anna.bar_reason(&class("00499001234")),
        Some(BarReason::Premium)
    );
    assert_eq!(ben.bar_reason(&class("09001234")), None);
    assert_eq!(anna.bar_reason(&class("0301234")), None);
    assert_eq!(
        anna.bar_reason(&class("00441234")),
        Some(BarReason::NoInternational)
    );
}

#[test]
fn an_internet_client_allowed_premium_numbers_is_warned_about() {
    let mut config = base();
    client(&mut config, "201").allow_premium = true;
    let config = valid(config);
    assert!(matches!(
        config.warnings(),
        [ConfigWarning::PremiumForInternetClient { client }] if client == "client 201 (Anna)"
    ));
}

#[test]
fn hfa_clients_below_the_minimum_version_are_not_admitted() {
    let config = valid(base());
    let min = config.min_versions();
    let v = |text: &str| text.parse::<SoftwareVersion>().expect("version");
    let openstage = ClientKind::Hfa(HfaDevice::OpenStage60);
    let deskphone = ClientKind::Hfa(HfaDevice::DeskPhoneIp35G);
    assert!(!min.admits(openstage, v("V3R0.9.0")));
    assert!(min.admits(openstage, v("V3R0.33.1")));
    assert!(min.admits(openstage, v("V3R1.2.0")));
    assert!(!min.admits(deskphone, v("V3R0.33.0")));
    assert!(!min.admits(ClientKind::MyPortalToGo, v("V2R1.61.13")));
    assert!(min.admits(ClientKind::MyPortalToGo, v("V2R1.61.14")));
    assert!(min.admits(ClientKind::Sip, v("V1")));
}

#[test]
fn minimum_versions_may_be_raised_but_not_lowered() {
    let mut raised = base();
    raised.min_versions.openstage_hfa = "V3R1.0.0".into();
    let config = valid(raised);
    let openstage = ClientKind::Hfa(HfaDevice::OpenStage40);
    assert!(
        !config
            .min_versions()
            .admits(openstage, "V3R0.33.1".parse().expect("version"))
    );

    let mut lowered = base();
    lowered.min_versions.openstage_hfa = "V3R0.9.0".into();
    lowered.min_versions.myportal_to_go_android = "V2R1.61".into();
    lowered.min_versions.deskphone_ip_hfa = "3.0.33.1".into();
    let errors = invalid(lowered);
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(
        matches!(&errors[0], ConfigError::VersionBelowGuide { field: "min_versions.openstage_hfa", value, minimum }
        if value.to_string() == "V3R0.9.0" && minimum.to_string() == "V3R0.33.1")
    );
    assert!(matches!(
        &errors[1],
        ConfigError::InvalidVersion {
            field: "min_versions.deskphone_ip_hfa",
            ..
        }
    ));
    assert!(matches!(
        &errors[2],
        ConfigError::VersionBelowGuide {
            field: "min_versions.myportal_to_go_android",
            ..
        }
    ));
    assert!(errors[0].to_string().contains("guide 4"));
}
