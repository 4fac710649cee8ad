//! Class of service and the barred number prefixes against toll fraud.
//!
//! The guide (2.2) asks to reduce each client's class of service "to the
//! required needs ... to prevent toll fraud by dialing expensive premium or
//! international numbers". A client has one of four classes; premium-rate
//! numbers are barred for everyone unless the client's `allow_premium` is
//! set. Which numbers are premium, national or international is decided by
//! the system-wide prefixes of [`Dialing`], applied to the external number
//! as dialled after the trunk access code.

use serde::Deserialize;

/// How far a client may dial out, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassOfService {
    /// Internal calls only; no external number at all.
    InternalOnly,
    /// External numbers without the national prefix (the local area).
    Local,
    /// Also numbers with the national prefix.
    National,
    /// Also numbers with the international prefix.
    International,
}

impl ClassOfService {
    /// The name used in the configuration file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InternalOnly => "internal_only",
            Self::Local => "local",
            Self::National => "national",
            Self::International => "international",
        }
    }
}

/// What kind of external number was dialled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallClass {
    /// Without national or international prefix.
    Local,
    /// Starts with the national prefix.
    National,
    /// Starts with the international prefix.
    International,
    /// Starts with a premium-rate prefix (checked first).
    Premium,
}

/// The system-wide number prefixes (the `[dialing]` section).
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
    /// Prefix of national numbers ("0" in Germany).
    #[serde(default = "default_national")]
    pub national_prefix: String,
    /// Prefix of international numbers ("00" in Germany and most of Europe).
    #[serde(default = "default_international")]
    pub international_prefix: String,
    /// Premium-rate and other expensive prefixes, barred unless a client
    /// has `allow_premium`. Defaults: German premium-rate (0900), mass
    /// call / televoting (0137, 0138) and directory enquiry (118) services.
    #[serde(default = "default_premium")]
    pub premium_prefixes: Vec<String>,
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

fn default_premium() -> Vec<String> {
    ["0900", "0137", "0138", "118"].map(String::from).into()
}

impl Default for Dialing {
    fn default() -> Self {
        Self {
            trunk_access_code: default_trunk_access_code(),
            echo_test: default_echo_test(),
            announcement_test: default_announcement_test(),
            national_prefix: default_national(),
            international_prefix: default_international(),
            premium_prefixes: default_premium(),
        }
    }
}

impl Dialing {
    /// Classifies an external number; premium prefixes win, then the longer
    /// of the national and international prefixes that match.
    pub fn classify(&self, number: &str) -> CallClass {
        if self
            .premium_prefixes
            .iter()
            .any(|prefix| number.starts_with(prefix.as_str()))
        {
            return CallClass::Premium;
        }
        let international = number.starts_with(&self.international_prefix);
        let national = number.starts_with(&self.national_prefix);
        match (international, national) {
            (true, true) if self.national_prefix.len() > self.international_prefix.len() => {
                CallClass::National
            }
            (true, _) => CallClass::International,
            (false, true) => CallClass::National,
            (false, false) => CallClass::Local,
        }
    }
}

/// Whether a client with `class` and `allow_premium` may dial a number of
/// kind `call`. Premium numbers need `allow_premium` and a class above
/// internal only; the others need a class at least as wide as the number.
pub fn may_dial(class: ClassOfService, allow_premium: bool, call: CallClass) -> bool {
    let needed = match call {
        CallClass::Premium if !allow_premium => return false,
        CallClass::Local | CallClass::Premium => ClassOfService::Local,
        CallClass::National => ClassOfService::National,
        CallClass::International => ClassOfService::International,
    };
    class >= needed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_prefix() {
        let dialing = Dialing::default();
        assert_eq!(dialing.classify("4711"), CallClass::Local);
        assert_eq!(dialing.classify("089123456"), CallClass::National);
        assert_eq!(dialing.classify("0044207946"), CallClass::International);
        assert_eq!(dialing.classify("0900123456"), CallClass::Premium);
        assert_eq!(dialing.classify("11833"), CallClass::Premium);
    }

    #[test]
    fn longer_prefix_wins_between_national_and_international() {
        let dialing = Dialing {
            national_prefix: "01".into(),
            international_prefix: "0".into(),
            premium_prefixes: Vec::new(),
            ..Dialing::default()
        };
        assert_eq!(dialing.classify("0123"), CallClass::National);
        assert_eq!(dialing.classify("0223"), CallClass::International);
    }

    #[test]
    fn premium_is_barred_unless_allowed() {
        use ClassOfService::*;
        assert!(!may_dial(International, false, CallClass::Premium));
        assert!(may_dial(Local, true, CallClass::Premium));
        assert!(!may_dial(InternalOnly, true, CallClass::Premium));
        assert!(!may_dial(InternalOnly, false, CallClass::Local));
        assert!(may_dial(Local, false, CallClass::Local));
        assert!(!may_dial(Local, false, CallClass::National));
        assert!(may_dial(National, false, CallClass::National));
        assert!(!may_dial(National, false, CallClass::International));
        assert!(may_dial(International, false, CallClass::International));
    }
}
