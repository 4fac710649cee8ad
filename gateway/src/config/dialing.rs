//! The `[dialing]` section as written: service codes, the system's country
//! code and prefixes, and the ranges barred against toll fraud (guide 2.2).
//!
//! Its defaults are a German system's: trunk access code, national and
//! international prefix, country code 49 and the German premium-rate
//! prefixes belong together. Whoever writes their own premium prefixes
//! must therefore also name the country they belong to, and whoever names
//! another country must list its premium prefixes (see
//! `validate_dialing`).

use serde::Deserialize;

/// Country code of the defaults (Germany).
pub const DEFAULT_COUNTRY_CODE: &str = "49";

/// Premium-rate prefixes of the defaults, as dialled in Germany: premium
/// rate (0900), mass call / televoting (0137, 0138) and directory enquiry
/// (118xx) services.
pub const DEFAULT_PREMIUM_PREFIXES: [&str; 4] = ["0900", "0137", "0138", "118"];

/// E.164 ranges barred for every client without `allow_irsf`: the
/// non-geographic ranges where international revenue share fraud (IRSF)
/// terminates its calls. `dialing.irsf_prefixes` adds to them.
pub const BUILT_IN_IRSF_PREFIXES: [&str; 5] = [
    "+870", // Inmarsat satellite phones
    "+881", // Global Mobile Satellite System (Iridium, Globalstar, Thuraya, ...)
    "+882", // International Networks (maritime, aeronautical, satellite carriers)
    "+883", // International Networks
    "+979", // International Premium Rate Service (IPRS)
];

/// The `[dialing]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dialing {
    /// Trunk access code dialled before an external number ("0" in
    /// Germany); what follows is classified below.
    #[serde(default = "default_trunk_access_code")]
    pub trunk_access_code: String,
    /// Service number of the echo test: what the caller says comes back.
    #[serde(default = "default_echo_test")]
    pub echo_test: String,
    /// Service number of the announcement test: a prompt plays.
    #[serde(default = "default_announcement_test")]
    pub announcement_test: String,
    /// The system's own country code, digits without "+" or "00" ("49" for
    /// Germany): numbers dialled nationally and in international format
    /// are compared in one form (E.164). [`DEFAULT_COUNTRY_CODE`] when
    /// neither it nor `premium_prefixes` is set.
    #[serde(default)]
    pub country_code: Option<String>,
    /// Prefix of national numbers ("0" in Germany).
    #[serde(default = "default_national")]
    pub national_prefix: String,
    /// Prefix of international numbers ("00" in Germany and most of Europe).
    #[serde(default = "default_international")]
    pub international_prefix: String,
    /// Premium-rate and other expensive prefixes as dialled after the trunk
    /// access code ("0900"), barred unless a client has `allow_premium`,
    /// also when dialled in international format. Not set: the German
    /// [`DEFAULT_PREMIUM_PREFIXES`].
    #[serde(default)]
    pub premium_prefixes: Option<Vec<String>>,
    /// E.164 prefixes ("+8816") barred unless a client has `allow_irsf`,
    /// in addition to [`BUILT_IN_IRSF_PREFIXES`].
    #[serde(default)]
    pub irsf_prefixes: Vec<String>,
}

fn default_trunk_access_code() -> String {
    "0".into()
}

fn default_echo_test() -> String {
    "*98".into()
}

fn default_announcement_test() -> String {
    "*99".into()
}

fn default_national() -> String {
    "0".into()
}

fn default_international() -> String {
    "00".into()
}

impl Default for Dialing {
    fn default() -> Self {
        Self {
            trunk_access_code: default_trunk_access_code(),
            echo_test: default_echo_test(),
            announcement_test: default_announcement_test(),
            country_code: None,
            national_prefix: default_national(),
            international_prefix: default_international(),
            premium_prefixes: None,
            irsf_prefixes: Vec::new(),
        }
    }
}
