//! Number analysis: what the digits dialled so far lead to.

use crate::config::ValidatedConfig;
use std::collections::BTreeSet;
use std::ops::Bound;

use crate::config::cos::{CallClass, Dialing};

/// A number the system answers itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// What the caller says comes back.
    EchoTest,
    /// A prompt plays.
    AnnouncementTest,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Self::EchoTest => "Echo test",
            Self::AnnouncementTest => "Announcement test",
        }
    }
}

/// Where the digits dialled so far lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Analysis {
    /// More digits may follow (a prefix of something).
    Incomplete,
    /// Another subscriber.
    Internal(String),
    /// An external number (after the trunk access code), with its class.
    /// Complete only when the caller says so (`#`, or the inter-digit
    /// timeout): external numbers have no fixed length.
    External { number: String, class: CallClass },
    /// A service number.
    Service(Service),
    /// Nothing begins with these digits.
    Unknown,
}

/// The numbering plan of one system.
#[derive(Debug, Clone)]
pub struct DialPlan {
    /// Sorted, so that a prefix is found by one range lookup: analysis runs
    /// per dialled digit, under the call service's lock.
    subscribers: BTreeSet<String>,
    dialing: Dialing,
}

impl DialPlan {
    pub fn new(config: &ValidatedConfig) -> Self {
        Self {
            subscribers: config
                .clients()
                .iter()
                .map(|client| client.number.clone())
                .collect(),
            dialing: config.dialing().clone(),
        }
    }

    /// Analyses `digits`. External numbers stay [`Analysis::External`]
    /// while digits are added; the caller decides when they are complete.
    pub fn analyse(&self, digits: &str) -> Analysis {
        if digits.is_empty() {
            return Analysis::Incomplete;
        }
        if let Some(number) = digits.strip_prefix(self.dialing.trunk_access_code.as_str()) {
            if number.is_empty() {
                return Analysis::Incomplete;
            }
            if !number.bytes().all(|b| b.is_ascii_digit()) {
                return Analysis::Unknown;
            }
            let class = self.dialing.classify(number);
            return Analysis::External {
                number: number.to_owned(),
                class,
            };
        }
        for (code, service) in [
            (&self.dialing.echo_test, Service::EchoTest),
            (&self.dialing.announcement_test, Service::AnnouncementTest),
        ] {
            if code == digits {
                return Analysis::Service(service);
            }
        }
        if self.subscribers.contains(digits) {
            return Analysis::Internal(digits.to_owned());
        }
        let subscriber_prefix = self
            .subscribers
            .range::<str, _>((Bound::Included(digits), Bound::Unbounded))
            .next()
            .is_some_and(|number| number.starts_with(digits));
        let is_prefix = subscriber_prefix
            || [&self.dialing.echo_test, &self.dialing.announcement_test]
                .into_iter()
                .any(|code| code.starts_with(digits));
        if is_prefix {
            Analysis::Incomplete
        } else {
            Analysis::Unknown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    fn plan() -> DialPlan {
        let text = r#"
[system]
model = "X3"
lan_interface = "LAN2"
[network]
public_address = "127.0.0.1"
company_lan = ["127.0.0.0/24"]
[[clients]]
number = "201"
name = "Anna"
kind = { hfa = "OpenStage 60" }
password = "Kx7#mQ2!vLp9"
[[clients]]
number = "2021"
name = "Ben"
kind = { hfa = "OpenStage 40" }
password = "Tz4%wR8@nBq3"
"#;
        DialPlan::new(&config::from_toml_str(text, "t").expect("valid"))
    }

    #[test]
    fn internal_numbers_complete_as_soon_as_they_match() {
        let plan = plan();
        assert_eq!(plan.analyse("2"), Analysis::Incomplete);
        assert_eq!(plan.analyse("20"), Analysis::Incomplete);
        assert_eq!(plan.analyse("201"), Analysis::Internal("201".into()));
        assert_eq!(plan.analyse("202"), Analysis::Incomplete);
        assert_eq!(plan.analyse("2021"), Analysis::Internal("2021".into()));
        assert_eq!(plan.analyse("203"), Analysis::Unknown);
        assert_eq!(plan.analyse("7"), Analysis::Unknown);
    }

    #[test]
    fn external_numbers_follow_the_trunk_access_code() {
        let plan = plan();
        assert_eq!(plan.analyse("0"), Analysis::Incomplete);
        let national = plan.analyse("0089123456");
        assert_eq!(
            national,
            Analysis::External {
                number: "089123456".into(),
                class: CallClass::National
            }
        );
        let international = plan.analyse("000441234");
        assert!(matches!(
            international,
            Analysis::External {
                class: CallClass::International,
                ..
            }
        ));
        let premium = plan.analyse("00900123");
        assert!(matches!(
            premium,
            Analysis::External {
                class: CallClass::Premium,
                ..
            }
        ));
        assert!(matches!(
            plan.analyse("04711"),
            Analysis::External {
                class: CallClass::Local,
                ..
            }
        ));
        assert_eq!(plan.analyse("0*1"), Analysis::Unknown);
    }

    #[test]
    fn service_codes() {
        let plan = plan();
        assert_eq!(plan.analyse("*"), Analysis::Incomplete);
        assert_eq!(plan.analyse("*9"), Analysis::Incomplete);
        assert_eq!(plan.analyse("*98"), Analysis::Service(Service::EchoTest));
        assert_eq!(
            plan.analyse("*99"),
            Analysis::Service(Service::AnnouncementTest)
        );
        assert_eq!(plan.analyse("*1"), Analysis::Unknown);
    }
}
