//! Number analysis: what the digits dialled so far lead to.

use std::collections::BTreeSet;
use std::ops::Bound;

use crate::config::ValidatedConfig;
use crate::config::cos::{Classifier, ExternalNumber};
use crate::config::dialing::Dialing;
use crate::config::numbering::NumberError;

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
    /// An external number (after the trunk access code), normalised and
    /// classed. Complete only when the caller says so (`#`, or the
    /// inter-digit timeout): external numbers have no fixed length.
    External(ExternalNumber),
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
    classifier: Classifier,
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
            classifier: config.classifier().clone(),
        }
    }

    /// Analyses `digits`. External numbers stay [`Analysis::External`]
    /// while digits are added; the caller decides when they are complete.
    pub fn analyse(&self, digits: &str) -> Analysis {
        if digits.is_empty() {
            return Analysis::Incomplete;
        }
        if let Some(number) = digits.strip_prefix(self.dialing.trunk_access_code.as_str()) {
            if !number.bytes().all(|b| b.is_ascii_digit()) {
                return Analysis::Unknown;
            }
            return match self.classifier.classify(number) {
                Ok(external) => Analysis::External(external),
                Err(NumberError::Empty | NumberError::Incomplete { .. }) => Analysis::Incomplete,
                Err(
                    NumberError::NotDigits
                    | NumberError::CountryCodeZero
                    | NumberError::TooLong { .. },
                ) => Analysis::Unknown,
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
    use crate::config::cos::{CallClass, Reach};
    use crate::config::numbering::Destination;
    use crate::testing::{Office, PASSWORDS, Subscriber};

    fn plan() -> DialPlan {
        let config = Office::x3()
            .loopback_lan()
            .subscriber(Subscriber::hfa("201", "Anna", "OpenStage 60").password(PASSWORDS[0]))
            .subscriber(Subscriber::hfa("2021", "Ben", "OpenStage 40").password(PASSWORDS[1]))
            .validated();
        DialPlan::new(&config)
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

    fn class(analysis: Analysis) -> CallClass {
        match analysis {
            Analysis::External(external) => external.class,
            other => panic!("not an external number: {other:?}"),
        }
    }

    #[test]
    fn external_numbers_follow_the_trunk_access_code() {
        let plan = plan();
        assert_eq!(plan.analyse("0"), Analysis::Incomplete);
        assert_eq!(
            plan.analyse("0089123456"),
            Analysis::External(ExternalNumber {
                dialled: "089123456".into(),
                destination: Destination::E164("4989123456".into()),
                class: CallClass {
                    reach: Reach::National,
                    premium: false,
                    irsf: None
                }
            })
        );
        assert_eq!(class(plan.analyse("000441234")).reach, Reach::International);
        assert!(class(plan.analyse("00900123")).premium);
        assert!(class(plan.analyse("0004990012")).premium);
        assert_eq!(class(plan.analyse("0008816")).irsf.as_deref(), Some("+881"));
        assert_eq!(class(plan.analyse("04711")).reach, Reach::Local);
        assert_eq!(plan.analyse("0*1"), Analysis::Unknown);
    }

    #[test]
    fn a_prefix_alone_is_incomplete_and_an_impossible_number_unknown() {
        let plan = plan();
        assert_eq!(plan.analyse("00"), Analysis::Incomplete);
        assert_eq!(plan.analyse("000"), Analysis::Incomplete);
        assert_eq!(plan.analyse("0000"), Analysis::Unknown);
        assert_eq!(plan.analyse("00123456789012345678"), Analysis::Unknown);
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
