//! The rules of the `[dialing]` section (guide 2.2): prefixes and service
//! codes are digits, numbers do not overlap, and the barred ranges are
//! understood however a number is dialled, which needs the system's own
//! country code.

use super::cos::Classifier;
use super::dialing::{BUILT_IN_IRSF_PREFIXES, DEFAULT_COUNTRY_CODE, DEFAULT_PREMIUM_PREFIXES};
use super::error::ConfigError;
use super::model::Config;
use super::numbering::{Destination, E164_MAX_DIGITS, NumberPlan};
use super::validate::{Report, is_digits};

/// Checks `[dialing]`; the classifier of external numbers when it is valid.
pub(super) fn check(config: &Config, report: &mut Report) -> Option<Classifier> {
    let errors_before = report.errors.len();
    check_prefixes(config, report);
    check_service_codes(config, report);
    check_numbering(config, report);
    let country_code = country_code(config, report);
    let irsf = irsf_prefixes(config, report);
    if report.errors.len() > errors_before {
        return None;
    }
    let dialing = &config.dialing;
    let plan = NumberPlan::new(
        country_code?,
        &dialing.national_prefix,
        &dialing.international_prefix,
    );
    let premium = premium_prefixes(config, &plan, report)?;
    Some(Classifier::new(plan, premium, irsf))
}

/// Prefixes are one or more digits.
fn check_prefixes(config: &Config, report: &mut Report) {
    let dialing = &config.dialing;
    let mut fields = vec![
        (
            "dialing.trunk_access_code".to_owned(),
            &dialing.trunk_access_code,
        ),
        (
            "dialing.national_prefix".to_owned(),
            &dialing.national_prefix,
        ),
        (
            "dialing.international_prefix".to_owned(),
            &dialing.international_prefix,
        ),
    ];
    for (index, prefix) in dialing.premium_prefixes.iter().flatten().enumerate() {
        fields.push((format!("dialing.premium_prefixes[{index}]"), prefix));
    }
    for (field, value) in fields {
        if !is_digits(value) {
            report.errors.push(ConfigError::InvalidPrefix {
                field,
                value: value.clone(),
            });
        }
    }
}

/// Service codes are digits and `*`.
fn check_service_codes(config: &Config, report: &mut Report) {
    let dialing = &config.dialing;
    for (field, code) in [
        ("dialing.echo_test", &dialing.echo_test),
        ("dialing.announcement_test", &dialing.announcement_test),
    ] {
        if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit() || b == b'*') {
            report.errors.push(ConfigError::InvalidServiceCode {
                field: field.to_owned(),
                value: code.clone(),
            });
        }
    }
}

/// The system's country code. The German defaults go together: premium
/// prefixes written without a country code, or another country with
/// Germany's premium prefixes, would leave premium numbers dialled in
/// international format unrecognised.
fn country_code<'a>(config: &'a Config, report: &mut Report) -> Option<&'a str> {
    let dialing = &config.dialing;
    match (&dialing.country_code, &dialing.premium_prefixes) {
        (Some(code), _) if !is_country_code(code) => {
            report.errors.push(ConfigError::InvalidCountryCode {
                value: code.clone(),
            });
            None
        }
        (None, Some(prefixes)) => {
            report.errors.push(ConfigError::PremiumWithoutCountryCode {
                value: format!("{prefixes:?}"),
            });
            None
        }
        (Some(code), None) if code != DEFAULT_COUNTRY_CODE => {
            report
                .errors
                .push(ConfigError::PremiumPrefixesOfAnotherCountry {
                    value: code.clone(),
                    defaults: format!("{DEFAULT_PREMIUM_PREFIXES:?}"),
                });
            None
        }
        (Some(code), _) => Some(code),
        (None, None) => Some(DEFAULT_COUNTRY_CODE),
    }
}

/// 1 to 3 digits, the first not 0 (E.164).
fn is_country_code(code: &str) -> bool {
    (1..=3).contains(&code.len()) && is_digits(code) && !code.starts_with('0')
}

/// The built-in IRSF prefixes and the configured ones, as E.164 digits.
fn irsf_prefixes(config: &Config, report: &mut Report) -> Vec<String> {
    let configured = config.dialing.irsf_prefixes.iter().enumerate();
    let mut prefixes: Vec<String> = BUILT_IN_IRSF_PREFIXES
        .iter()
        .filter_map(|prefix| prefix.strip_prefix('+'))
        .map(str::to_owned)
        .collect();
    for (index, value) in configured {
        match value.strip_prefix('+') {
            Some(digits)
                if is_digits(digits)
                    && digits.len() <= E164_MAX_DIGITS
                    && !digits.starts_with('0') =>
            {
                prefixes.push(digits.to_owned());
            }
            _ => report.errors.push(ConfigError::InvalidIrsfPrefix {
                field: format!("dialing.irsf_prefixes[{index}]"),
                value: value.clone(),
            }),
        }
    }
    prefixes
}

/// The premium-rate prefixes, normalised like a dialled number.
fn premium_prefixes(
    config: &Config,
    plan: &NumberPlan,
    report: &mut Report,
) -> Option<Vec<Destination>> {
    let written: Vec<String> = match &config.dialing.premium_prefixes {
        Some(prefixes) => prefixes.clone(),
        None => DEFAULT_PREMIUM_PREFIXES.map(String::from).into(),
    };
    let mut normalised = Vec::with_capacity(written.len());
    for (index, prefix) in written.iter().enumerate() {
        match plan.normalise(prefix) {
            Ok(destination) => normalised.push(destination),
            Err(reason) => report.errors.push(ConfigError::InvalidPremiumPrefix {
                field: format!("dialing.premium_prefixes[{index}]"),
                value: prefix.clone(),
                reason,
            }),
        }
    }
    (normalised.len() == written.len()).then_some(normalised)
}

/// Every dialled number must lead to one destination: no client number or
/// service code may begin with the trunk access code or with another
/// client's number or code, or digit collection could not tell them apart.
fn check_numbering(config: &Config, report: &mut Report) {
    let dialing = &config.dialing;
    let mut numbers: Vec<(String, &str)> = config
        .clients
        .iter()
        .enumerate()
        .map(|(index, client)| (format!("clients[{index}].number"), client.number.as_str()))
        .collect();
    numbers.push((
        "dialing.trunk_access_code".to_owned(),
        &dialing.trunk_access_code,
    ));
    numbers.push(("dialing.echo_test".to_owned(), &dialing.echo_test));
    numbers.push((
        "dialing.announcement_test".to_owned(),
        &dialing.announcement_test,
    ));
    for (index, (field, number)) in numbers.iter().enumerate() {
        for (other_field, other) in numbers.iter().skip(index + 1) {
            let overlap = !number.is_empty()
                && !other.is_empty()
                && (number.starts_with(other) || other.starts_with(number));
            // Two clients with the same number are reported elsewhere.
            if overlap && number != other {
                report.errors.push(ConfigError::NumberingConflict {
                    field: field.clone(),
                    value: (*number).to_owned(),
                    other_field: other_field.clone(),
                    other: (*other).to_owned(),
                });
            }
        }
    }
}
