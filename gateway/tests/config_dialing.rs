//! The `[dialing]` rules against toll fraud (guide 2.2): the system's own
//! country code, without which premium numbers dialled in international
//! format go unrecognised, and the IRSF ranges.

mod config_support;

use config_support::{base, base_toml, client, invalid, valid};
use gateway::config::cos::{BarReason, ClassOfService, Reach};
use gateway::config::{self, ConfigError, ConfigWarning};

/// The guide's words the errors quote (section 2.2).
const GUIDE_RULE: &str = "to prevent toll fraud by dialing expensive premium or international \
                          numbers or by programming call forwarding to such numbers";

fn only_error(errors: &[ConfigError]) -> &ConfigError {
    assert_eq!(errors.len(), 1, "{errors:#?}");
    &errors[0]
}

#[test]
fn the_defaults_are_germany_s_with_its_country_code() {
    let config = valid(base());
    assert_eq!(config.classifier().plan().country_code(), "49");
    let premium = config
        .classifier()
        .classify("0049900123")
        .expect("a number");
    assert!(premium.class.premium);
    let summary = config.summary().to_string();
    assert!(summary.contains("country code +49"), "{summary}");
    assert!(summary.contains("+49900 +49137 +49138 118"), "{summary}");
    assert!(summary.contains("+870 +881 +882 +883 +979"), "{summary}");
}

#[test]
fn premium_prefixes_without_a_country_code_are_refused_naming_field_value_and_rule() {
    let mut config = base();
    config.dialing.premium_prefixes = Some(vec!["0900".into(), "0137".into()]);
    let errors = invalid(config);
    let error = only_error(&errors);
    assert!(matches!(
        error,
        ConfigError::PremiumWithoutCountryCode { .. }
    ));
    let text = error.to_string();
    assert!(
        text.starts_with(
            "dialing.premium_prefixes = [\"0900\", \"0137\"] is set but dialing.country_code is not"
        ),
        "{text}"
    );
    assert!(text.contains(GUIDE_RULE), "{text}");
    assert!(text.contains("(guide 2.2)"), "{text}");
}

#[test]
fn the_same_prefixes_with_a_country_code_are_accepted() {
    let text = format!(
        "{}\n[dialing]\ncountry_code = \"43\"\npremium_prefixes = [\"0900\", \"0930\"]\n",
        base_toml()
    );
    let config = config::from_toml_str(&text, "austria").expect("valid");
    let classifier = config.classifier();
    for (dialled, e164) in [
        ("0900123456", "+43900123456"),
        ("0043900123456", "+43900123456"),
        ("00430900123456", "+430900123456"),
    ] {
        let number = classifier.classify(dialled).expect("a number");
        assert!(number.class.premium, "{dialled}");
        assert_eq!(number.destination.to_string(), e164);
    }
    // Germany's premium numbers are just international numbers here.
    let german = classifier.classify("0049900123").expect("a number");
    assert_eq!(german.class.reach, Reach::International);
    assert!(!german.class.premium);
}

#[test]
fn another_country_without_its_premium_prefixes_is_refused() {
    let mut config = base();
    config.dialing.country_code = Some("41".into());
    let errors = invalid(config);
    let text = only_error(&errors).to_string();
    assert!(text.starts_with("dialing.country_code = \"41\""), "{text}");
    assert!(text.contains("Germany's (+49)"), "{text}");
    assert!(text.contains(GUIDE_RULE), "{text}");
    // No premium numbers at all is a choice the administrator can write.
    let mut config = base();
    config.dialing.country_code = Some("41".into());
    config.dialing.premium_prefixes = Some(Vec::new());
    valid(config);
}

#[test]
fn a_country_code_is_one_to_three_digits_not_beginning_with_zero() {
    for bad in ["", "0049", "+49", "049", "1234", "4a"] {
        let mut config = base();
        config.dialing.country_code = Some(bad.into());
        let errors = invalid(config);
        let error = only_error(&errors);
        assert!(
            matches!(error, ConfigError::InvalidCountryCode { value } if value == bad),
            "{bad}: {error}"
        );
        let text = error.to_string();
        assert!(
            text.starts_with(&format!("dialing.country_code = \"{bad}\"")),
            "{text}"
        );
        assert!(text.contains("(guide 2.2)"), "{text}");
    }
    for good in ["1", "49", "998"] {
        let mut config = base();
        config.dialing.country_code = Some(good.into());
        config.dialing.premium_prefixes = Some(Vec::new());
        valid(config);
    }
}

#[test]
fn a_premium_prefix_must_name_a_number_range() {
    let mut config = base();
    config.dialing.country_code = Some("49".into());
    config.dialing.premium_prefixes = Some(vec!["0900".into(), "00".into()]);
    let text = only_error(&invalid(config)).to_string();
    assert!(
        text.starts_with("dialing.premium_prefixes[1] = \"00\": not a number range"),
        "{text}"
    );
    assert!(text.contains(GUIDE_RULE), "{text}");
}

#[test]
fn irsf_prefixes_extend_the_built_in_ranges_in_e164_form() {
    let text = format!(
        "{}\n[dialing]\nirsf_prefixes = [\"+449\", \"+43900\"]\n",
        base_toml()
    );
    let config = config::from_toml_str(&text, "irsf").expect("valid");
    let classifier = config.classifier();
    let class = |dialled: &str| classifier.classify(dialled).expect("a number").class;
    assert_eq!(class("00449012345").irsf.as_deref(), Some("+449"));
    assert_eq!(class("0043900123").irsf.as_deref(), Some("+43900"));
    assert_eq!(class("008816123").irsf.as_deref(), Some("+881"));
    assert_eq!(class("00441234").irsf, None);
    for bad in ["881", "+", "+0881", "+88 1", "+1234567890123456"] {
        let mut config = base();
        config.dialing.irsf_prefixes = vec!["+979".into(), bad.into()];
        let errors = invalid(config);
        let error = only_error(&errors);
        assert!(
            matches!(error, ConfigError::InvalidIrsfPrefix { .. }),
            "{bad}: {error}"
        );
        let text = error.to_string();
        assert!(
            text.starts_with(&format!("dialing.irsf_prefixes[1] = \"{bad}\"")),
            "{text}"
        );
        assert!(text.contains(GUIDE_RULE), "{text}");
    }
}

#[test]
fn irsf_ranges_need_allow_irsf_and_an_international_class_of_service() {
    let mut config = base();
    let clara = client(&mut config, "203");
    clara.class_of_service = ClassOfService::International;
    clara.allow_irsf = true;
    client(&mut config, "202").class_of_service = ClassOfService::International;
    let config = valid(config);
    let irsf = config
        .classifier()
        .classify("008816123456")
        .expect("a number")
        .class;
    let clara = config.client("203").expect("203");
    let ben = config.client("202").expect("202");
    let anna = config.client("201").expect("201");
    assert_eq!(clara.bar_reason(&irsf), None);
    assert_eq!(ben.bar_reason(&irsf), Some(BarReason::Irsf));
    assert_eq!(anna.bar_reason(&irsf), Some(BarReason::NoInternational));
}

#[test]
fn an_internet_client_allowed_the_irsf_ranges_is_warned_about() {
    let mut config = base();
    client(&mut config, "201").allow_irsf = true;
    let config = valid(config);
    assert!(matches!(
        config.warnings(),
        [ConfigWarning::IrsfForInternetClient { client }] if client == "client 201 (Anna)"
    ));
    let text = config.warnings()[0].to_string();
    assert!(
        text.starts_with("client 201 (Anna).allow_irsf = true"),
        "{text}"
    );
    assert!(text.contains("(guide 2.2)"), "{text}");
}
