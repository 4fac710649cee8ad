//! The system-wide rules: interface, model capacities and ports, internet
//! calls, STUN precedence, addresses and parsing; and that every error
//! names its field and guide section and no output ever shows a password.

mod config_support;

use std::net::IpAddr;
use std::time::Duration;

use config_support::{
    PASSWORDS, assert_no_secret, base, base_toml, client, invalid, set_password, valid,
};
use gateway::config::calls::CallsSource;
use gateway::config::media::CodecName;
use gateway::config::model::{Config, Itsp};
use gateway::config::net::{Host, HostError};
use gateway::config::{
    self, ConfigError, ConfigWarning, EffectiveStun, LanInterface, RtpRange, SystemModel,
};

fn itsp(name: &str, interface: LanInterface, stun_server: Option<&str>, enabled: bool) -> Itsp {
    Itsp {
        name: name.into(),
        interface,
        stun_server: stun_server.map(Into::into),
        stun_enabled: enabled,
    }
}

fn with_model(model: SystemModel, booster: bool) -> Config {
    let mut config = base();
    config.system.model = model;
    config.system.booster = booster;
    config
}

#[test]
fn lan1_and_its_wan_alias_are_refused() {
    let toml = base_toml().replace("lan_interface = \"LAN2\"", "lan_interface = \"WAN\"");
    let errors = config::from_toml_str(&toml, "t")
        .expect_err("refused")
        .into_errors();
    assert!(matches!(
        errors[..],
        [ConfigError::UnsupportedInterface(LanInterface::Lan1)]
    ));
    assert_eq!(
        errors[0].to_string(),
        "system.lan_interface = \"LAN1\": Device@Home is only supported on the LAN2 interface, \
         behind an internet router (scenario 1); LAN1 (WAN) is not supported (guide 1.3.1, 2.1)"
    );
}

#[test]
fn an_itsp_on_another_interface_is_refused() {
    let mut config = base();
    config
        .itsp
        .push(itsp("Provider", LanInterface::Lan2, None, true));
    config
        .itsp
        .push(itsp("Telekom", LanInterface::Lan1, None, true));
    let errors = invalid(config);
    assert!(matches!(
        &errors[..],
        [ConfigError::ItspInterfaceMismatch { index: 1, name, interface: LanInterface::Lan1, system: LanInterface::Lan2 }]
            if name == "Telekom"
    ));
}

#[test]
fn model_s_has_180_channels_and_its_own_range() {
    let config = valid(with_model(SystemModel::S, false));
    assert_eq!(config.rtp_proxy_channels(), 180);
    assert_eq!(
        config.rtp_ports(),
        RtpRange {
            first: 30528,
            last: 30887
        }
    );
}

#[test]
fn model_x5_has_60_channels_with_and_without_booster() {
    for booster in [false, true] {
        let config = valid(with_model(SystemModel::X5, booster));
        assert_eq!(config.rtp_proxy_channels(), 60);
        assert_eq!(
            config.rtp_ports(),
            RtpRange {
                first: 30274,
                last: 30529
            }
        );
        let summary = config.summary().to_string();
        let expected = if booster {
            "X5 with booster"
        } else {
            "X5 without booster"
        };
        assert!(summary.contains(expected), "{summary}");
        assert!(summary.contains("UDP 30274-30529"), "{summary}");
    }
    let errors = invalid(with_model(SystemModel::S, true));
    assert!(matches!(errors[..], [ConfigError::BoosterOnS]));
}

#[test]
fn rtp_range_overrides_need_two_even_aligned_ports_per_channel() {
    let range = |first, last| {
        let mut config = base();
        config.network.rtp_ports = Some(RtpRange { first, last });
        config::validate(config)
    };
    let exact = range(40000, 40119).expect("120 ports for 60 channels");
    assert!(matches!(
        exact.warnings(),
        [ConfigWarning::RtpRangeChanged {
            range: RtpRange {
                first: 40000,
                last: 40119
            },
            ..
        }]
    ));
    assert!(
        range(30274, 30529)
            .expect("the default")
            .warnings()
            .is_empty()
    );
    let error = |first, last| {
        range(first, last)
            .expect_err("refused")
            .into_errors()
            .remove(0)
    };
    assert!(matches!(
        error(40000, 40118),
        ConfigError::RtpRangeTooSmall {
            channels: 60,
            model: SystemModel::X5,
            ..
        }
    ));
    assert!(matches!(
        error(40001, 40200),
        ConfigError::RtpRangeOddStart(_)
    ));
    assert!(matches!(
        error(40200, 40000),
        ConfigError::RtpRangeReversed(_)
    ));
    assert!(matches!(
        error(0, 40000),
        ConfigError::PortZero {
            field: "network.rtp_ports.first"
        }
    ));
    let text = error(40000, 40118).to_string();
    assert!(
        text.contains("holds 119 ports") && text.contains("need 120"),
        "{text}"
    );
}

#[test]
fn upstream_1000_kbps_gives_10_calls() {
    let config = valid(base());
    let calls = config.internet_calls();
    assert_eq!(calls.calls, 10);
    assert_eq!(calls.source, CallsSource::Upstream { kbps: 1000 });
    assert!(
        config
            .summary()
            .to_string()
            .contains("simultaneous internet calls: 10;")
    );
}

#[test]
fn a_direct_number_of_calls_wins_and_the_summary_says_so() {
    let mut config = base();
    config.internet.simultaneous_calls = Some(4);
    let config = valid(config);
    assert_eq!(config.internet_calls().calls, 4);
    let summary = config.summary().to_string();
    assert!(
        summary.contains("wins over internet.upstream_kbps = 1000"),
        "{summary}"
    );
}

#[test]
fn zero_calls_is_an_error_with_an_internet_client_and_a_warning_without() {
    let mut config = base();
    config.internet.upstream_kbps = Some(50);
    let errors = invalid(config.clone());
    assert!(matches!(
        &errors[..],
        [ConfigError::NoInternetCalls { calls, internet_clients }]
            if calls.calls == 0 && internet_clients == &["201"]
    ));
    assert!(
        errors[0]
            .to_string()
            .starts_with("internet.upstream_kbps = 50 (0 calls")
    );

    config.internet.upstream_kbps = None;
    let errors = invalid(config.clone());
    assert!(matches!(
        &errors[..],
        [ConfigError::NoInternetCalls { calls, .. }] if calls.source == CallsSource::NotConfigured
    ));

    client(&mut config, "201").internet_registration = false;
    let config = valid(config);
    assert!(matches!(
        config.warnings(),
        [ConfigWarning::NoInternetCalls]
    ));
    assert!(
        config
            .summary()
            .to_string()
            .contains("no Device@Home call can be made")
    );
}

#[test]
fn more_calls_than_rtp_proxy_channels_is_warned_about() {
    let mut config = base();
    config.internet.simultaneous_calls = Some(61);
    let config = valid(config);
    assert!(matches!(
        config.warnings(),
        [ConfigWarning::CallsExceedChannels {
            calls: 61,
            channels: 60
        }]
    ));
}

#[test]
fn an_itsp_with_enabled_stun_wins_over_the_system_stun_server() {
    let mut config = base();
    config
        .itsp
        .push(itsp("NoStun", LanInterface::Lan2, None, true));
    config.itsp.push(itsp(
        "Provider",
        LanInterface::Lan2,
        Some("stun.provider.example:3479"),
        true,
    ));
    config.itsp.push(itsp(
        "Second",
        LanInterface::Lan2,
        Some("stun.second.example"),
        true,
    ));
    let config = valid(config);
    let stun = config.effective_stun();
    assert!(matches!(stun, EffectiveStun::Itsp { trunk, server }
        if trunk == "Provider" && server.to_string() == "stun.provider.example:3479"));
    assert!(config.summary().to_string().contains("(of ITSP Provider)"));
}

#[test]
fn an_itsp_with_disabled_stun_falls_back_to_the_system_stun_server() {
    let mut config = base();
    config.itsp.push(itsp(
        "Provider",
        LanInterface::Lan2,
        Some("stun.provider.example"),
        false,
    ));
    let config = valid(config);
    assert!(
        matches!(config.effective_stun(), EffectiveStun::System(server)
        if server.host == Host::Dns("stun.example.net".into()) && server.port == 3478)
    );
}

#[test]
fn a_configured_public_address_needs_no_stun_server() {
    let mut config = base();
    config.stun.server = None;
    config.itsp.push(itsp(
        "Provider",
        LanInterface::Lan2,
        Some("stun.provider.example"),
        false,
    ));
    let validated = valid(config);
    assert_eq!(validated.effective_stun(), &EffectiveStun::None);
    assert!(
        validated.warnings().is_empty(),
        "{:?}",
        validated.warnings()
    );
}

#[test]
fn without_a_public_address_a_stun_server_is_required() {
    let mut config = base();
    config.network.public_address = None;
    let validated = valid(config.clone());
    assert_eq!(validated.public_address(), None);
    assert!(validated.effective_stun().server().is_some());
    config.stun.server = None;
    let errors = invalid(config);
    assert!(matches!(
        &errors[..],
        [ConfigError::NoPublicAddressSource { internet_clients }] if internet_clients == &["201"]
    ));
    let message = errors[0].to_string();
    assert!(
        message.contains("network.public_address is not set"),
        "{message}"
    );
    assert!(message.contains("stun.server"), "{message}");
    assert!(message.contains("guide 2.4"), "{message}");
}

#[test]
fn a_public_address_that_is_not_public_ipv4_is_warned_about() {
    for (address, words) in [
        ("127.0.0.1", "a loopback address"),
        ("192.168.1.10", "a private address"),
        ("2001:db8::10", "an IPv6 address"),
    ] {
        let mut config = base();
        config.network.public_address = Some(address.into());
        let validated = valid(config);
        assert!(
            matches!(validated.warnings(),
                [ConfigWarning::PublicAddressNotPublic { value, reason }]
                    if value == address && reason.starts_with(words)),
            "{address}: {:?}",
            validated.warnings()
        );
    }
}

#[test]
fn changed_signalling_ports_are_warned_about() {
    let mut config = base();
    config.network.hfa_port = 4070;
    config.network.https_port = 8443;
    let config = valid(config);
    assert!(matches!(
        config.warnings(),
        [
            ConfigWarning::PortChanged {
                field: "network.hfa_port",
                value: 4070,
                default: 4060
            },
            ConfigWarning::PortChanged {
                field: "network.https_port",
                value: 8443,
                default: 8802
            },
        ]
    ));
    assert_eq!(config.hfa_addr().to_string(), "0.0.0.0:4070");
    assert!(config.warnings()[0].to_string().contains("guide 2.5"));
}

#[test]
fn an_unknown_field_is_a_parse_error_naming_it() {
    let toml = base_toml().replace("password = \"Tz4", "pasword = \"Tz4");
    let misspelt = toml
        .lines()
        .position(|l| l.starts_with("pasword"))
        .expect("the line")
        + 1;
    let errors = config::from_toml_str(&toml, "office.toml")
        .expect_err("refused")
        .into_errors();
    assert!(
        matches!(
            &errors[..],
            [ConfigError::Parse { origin, line, column: 1, message }]
                if origin == "office.toml" && *line == misspelt && message.contains("unknown field `pasword`")
        ),
        "{errors:#?}"
    );
    assert_no_secret(&errors[0].to_string(), &[]);
}

#[test]
fn a_password_of_the_wrong_type_is_not_echoed() {
    let toml = base_toml().replace(&format!("\"{}\"", PASSWORDS[1]), "987654321");
    let errors = config::from_toml_str(&toml, "t")
        .expect_err("refused")
        .into_errors();
    assert!(
        matches!(&errors[..], [ConfigError::Parse { message, .. }] if message.contains("value not shown"))
    );
    assert!(!errors[0].to_string().contains("987654321"));
}

#[test]
fn company_lan_tells_lan_from_internet() {
    let config = valid(base());
    let ip = |text: &str| text.parse::<IpAddr>().expect("ip");
    assert!(config.is_company_lan(ip("192.168.1.77")));
    assert!(config.is_company_lan(ip("::ffff:192.168.1.77")));
    assert!(config.is_company_lan(ip("fd00:1::5")));
    assert!(!config.is_company_lan(ip("192.168.2.1")));
    assert!(!config.is_company_lan(ip("87.173.125.178")));
    assert!(!config.is_company_lan(ip("fd00:2::5")));

    let mut none = base();
    none.network.company_lan.clear();
    assert!(matches!(invalid(none)[..], [ConfigError::NoCompanyLan]));
}

#[test]
fn the_public_address_is_an_ip_or_a_dns_name() {
    let mut config = base();
    config.network.public_address = Some("87.173.127.147".into());
    let validated = valid(config.clone());
    assert_eq!(
        validated.public_address(),
        Some(&Host::Ip("87.173.127.147".parse().expect("ip")))
    );
    config.network.public_address = Some("My-Office.dyndns.org".into());
    assert_eq!(
        valid(config.clone()).public_address(),
        Some(&Host::Dns("my-office.dyndns.org".into()))
    );
    config.network.public_address = Some("my_office.dyndns.org".into());
    assert!(matches!(
        &invalid(config)[..],
        [ConfigError::InvalidPublicAddress { value, reason: HostError::BadCharacter }]
            if value == "my_office.dyndns.org"
    ));
}

#[test]
fn lockout_settings_have_defaults_and_refuse_zero() {
    let config = valid(base());
    let lockout = config.lockout();
    assert_eq!(lockout.max_failed_attempts, 5);
    assert_eq!(lockout.base_lockout, Duration::from_secs(30));

    let toml = format!(
        "{}\n[security]\nmax_failed_attempts = 3\nlockout_base_seconds = 60\n",
        base_toml()
    );
    let lockout = config::from_toml_str(&toml, "t").expect("valid").lockout();
    assert_eq!(
        (lockout.max_failed_attempts, lockout.base_lockout.as_secs()),
        (3, 60)
    );

    let toml = format!("{}\n[security]\nmax_failed_attempts = 0\n", base_toml());
    let errors = config::from_toml_str(&toml, "t")
        .expect_err("refused")
        .into_errors();
    assert!(matches!(errors[..], [ConfigError::Parse { .. }]));
}

#[test]
fn listen_addresses_and_data_dir() {
    let mut config = base();
    let validated = valid(config.clone());
    assert_eq!(validated.hfa_addr().to_string(), "0.0.0.0:4060");
    assert_eq!(validated.https_addr().to_string(), "0.0.0.0:8802");
    config.system.data_dir = Some("/srv/gateway".into());
    assert_eq!(valid(config).data_dir().ok(), Some("/srv/gateway".into()));
}

/// One broken rule per case: the error variant, and the field path its
/// message must start with.
type Case = (fn(&mut Config), fn(&ConfigError) -> bool, &'static str);

fn cases() -> Vec<Case> {
    vec![
        (
            |c| c.system.lan_interface = LanInterface::Lan1,
            |e| matches!(e, ConfigError::UnsupportedInterface(_)),
            "system.lan_interface = \"LAN1\"",
        ),
        (
            |c| c.itsp.push(itsp("T", LanInterface::Lan1, None, true)),
            |e| matches!(e, ConfigError::ItspInterfaceMismatch { .. }),
            "itsp[0] (T).interface = \"LAN1\"",
        ),
        (
            |c| {
                c.system.model = SystemModel::S;
                c.system.booster = true
            },
            |e| matches!(e, ConfigError::BoosterOnS),
            "system.booster = true",
        ),
        (
            |c| c.network.hfa_port = 0,
            |e| matches!(e, ConfigError::PortZero { .. }),
            "network.hfa_port = 0",
        ),
        (
            |c| c.network.https_port = 4060,
            |e| matches!(e, ConfigError::PortClash { port: 4060 }),
            "network.https_port = 4060",
        ),
        (
            |c| {
                c.network.rtp_ports = Some(RtpRange {
                    first: 30300,
                    last: 30200,
                })
            },
            |e| matches!(e, ConfigError::RtpRangeReversed(_)),
            "network.rtp_ports = 30300-30200",
        ),
        (
            |c| {
                c.network.rtp_ports = Some(RtpRange {
                    first: 30275,
                    last: 30529,
                })
            },
            |e| matches!(e, ConfigError::RtpRangeOddStart(_)),
            "network.rtp_ports.first = 30275",
        ),
        (
            |c| {
                c.network.rtp_ports = Some(RtpRange {
                    first: 30274,
                    last: 30300,
                })
            },
            |e| matches!(e, ConfigError::RtpRangeTooSmall { .. }),
            "network.rtp_ports = 30274-30300",
        ),
        (
            |c| c.internet.upstream_kbps = Some(99),
            |e| matches!(e, ConfigError::NoInternetCalls { .. }),
            "internet.upstream_kbps = 99",
        ),
        (
            |c| c.internet.simultaneous_calls = Some(0),
            |e| matches!(e, ConfigError::NoInternetCalls { .. }),
            "internet.simultaneous_calls = 0",
        ),
        (
            |c| c.min_versions.openstage_hfa = "V3R0.x".into(),
            |e| matches!(e, ConfigError::InvalidVersion { .. }),
            "min_versions.openstage_hfa = \"V3R0.x\"",
        ),
        (
            |c| c.min_versions.deskphone_ip_hfa = "V3R0.9.0".into(),
            |e| matches!(e, ConfigError::VersionBelowGuide { .. }),
            "min_versions.deskphone_ip_hfa = \"V3R0.9.0\"",
        ),
        (
            |c| c.network.company_lan.clear(),
            |e| matches!(e, ConfigError::NoCompanyLan),
            "network.company_lan = []",
        ),
        (
            |c| c.network.public_address = Some("-company.com".into()),
            |e| matches!(e, ConfigError::InvalidPublicAddress { .. }),
            "network.public_address = \"-company.com\"",
        ),
        (
            |c| c.stun.server = Some("stun.example.net:99999".into()),
            |e| matches!(e, ConfigError::InvalidStunServer { .. }),
            "stun.server = \"stun.example.net:99999\"",
        ),
        (
            |c| {
                c.itsp
                    .push(itsp("P", LanInterface::Lan2, Some("bad host"), true))
            },
            |e| matches!(e, ConfigError::InvalidStunServer { .. }),
            "itsp[0] (P).stun_server = \"bad host\"",
        ),
        (
            |c| {
                c.dialing.country_code = Some("49".into());
                c.dialing.premium_prefixes = Some(vec!["0900".into(), "01x7".into()]);
            },
            |e| matches!(e, ConfigError::InvalidPrefix { .. }),
            "dialing.premium_prefixes[1] = \"01x7\"",
        ),
        (
            |c| c.clients[1].number = "".into(),
            |e| matches!(e, ConfigError::InvalidClientNumber { index: 1, .. }),
            "clients[1].number = \"\"",
        ),
        (
            |c| c.clients[2].number = "202".into(),
            |e| matches!(e, ConfigError::DuplicateClientNumber { .. }),
            "clients[2].number = \"202\"",
        ),
        (
            |c| c.clients[0].name = String::new(),
            |e| matches!(e, ConfigError::EmptyClientName { index: 0 }),
            "clients[0].name",
        ),
        (
            |c| c.clients[3].deskshare = true,
            |e| matches!(e, ConfigError::DeskshareMyPortal { .. }),
            "client 210 (Dan).deskshare = true",
        ),
        (
            |c| c.clients[0].ip_user_license = false,
            |e| matches!(e, ConfigError::InternetWithoutLicense { .. }),
            "client 201 (Anna).ip_user_license = false",
        ),
        (
            |c| c.clients[1].authentication = false,
            |e| matches!(e, ConfigError::AuthenticationOff { .. }),
            "client 202 (Ben).authentication = false",
        ),
        (
            |c| c.clients[2].password = None,
            |e| matches!(e, ConfigError::PasswordMissing { .. }),
            "client 203 (Clara).password",
        ),
        (
            |c| set_password(c, "202", "Password1!"),
            |e| matches!(e, ConfigError::WeakPassword { .. }),
            "client 202 (Ben).password",
        ),
        (
            |c| set_password(c, "210", PASSWORDS[1]),
            |e| matches!(e, ConfigError::SharedPassword { .. }),
            "client 210 (Dan).password",
        ),
        (
            |c| c.media.codec_preference = vec![CodecName::Opus],
            |e| matches!(e, ConfigError::NoG711 { value } if value == "[Opus]"),
            "media.codec_preference = [Opus]",
        ),
    ]
}

#[test]
fn every_error_names_its_field_value_and_guide_section_and_no_password() {
    for (index, (break_rule, is_expected, path)) in cases().into_iter().enumerate() {
        let mut config = base();
        break_rule(&mut config);
        let errors = invalid(config);
        assert!(
            matches!(&errors[..], [error] if is_expected(error)),
            "case {index}: {errors:#?}"
        );
        let text = errors[0].to_string();
        assert!(text.starts_with(path), "case {index}: {text}");
        assert!(text.contains("(guide "), "case {index}: {text}");
        assert_no_secret(&text, &["Password1!"]);
        assert_no_secret(&format!("{:?}", errors[0]), &["Password1!"]);
    }
}

#[test]
fn no_summary_warning_or_debug_output_shows_a_password() {
    let mut config = base();
    config.network.hfa_port = 4070;
    client(&mut config, "201").allow_premium = true;
    let config = valid(config);
    assert_eq!(config.warnings().len(), 2);
    assert_no_secret(&config.summary().to_string(), &[]);
    assert_no_secret(&format!("{config:?}"), &[]);
    assert_no_secret(&format!("{:#?}", config.config()), &[]);
    for warning in config.warnings() {
        assert_no_secret(&warning.to_string(), &[]);
    }
}

#[test]
fn a_client_number_under_the_trunk_access_code_is_refused() {
    let mut config = base();
    config.dialing.trunk_access_code = "2".into();
    let errors = invalid(config);
    assert!(
        errors
            .iter()
            .all(|error| matches!(error, ConfigError::NumberingConflict { .. }))
    );
    // 201, 202, 203 and 210 all begin with "2".
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(
        errors[0]
            .to_string()
            .contains("dialing.trunk_access_code = \"2\"")
    );
}

#[test]
fn service_codes_are_digits_or_star_and_distinct_from_numbers() {
    let mut config = base();
    config.dialing.echo_test = "9#9".into();
    config.dialing.announcement_test = "20".into();
    let errors = invalid(config);
    assert!(errors.iter().any(|e| matches!(e, ConfigError::InvalidServiceCode { field, .. } if field == "dialing.echo_test")));
    assert!(errors.iter().any(|e| matches!(
        e,
        ConfigError::NumberingConflict { other_field, .. } if other_field == "dialing.announcement_test"
    )));
    let defaults = valid(base());
    assert_eq!(defaults.dialing().echo_test, "*98");
    assert_eq!(defaults.dialing().trunk_access_code, "0");
}
