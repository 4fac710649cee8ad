//! The trace profiles of guide section 7, and which parts of the gateway
//! each one records.

use serde::Deserialize;
use tracing::{Level, Metadata};

/// The `tracing` target of the built-in test trunk's events (the trunk is
/// part of call control, but its trace is the ITSP interconnection's).
pub const TRUNK_TARGET: &str = "gateway::trunk";

/// The most detailed level a profile records.
pub const MOST_DETAIL: Level = Level::DEBUG;

/// A trace profile, named as on OpenScape Business (guide 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum Profile {
    /// Media: the RTP proxy (SBC) and the system's own media.
    #[serde(rename = "Voice_Fax_connection")]
    VoiceFax,
    /// The trunk to the ITSP (here the built-in test trunk).
    #[serde(rename = "SIP_Interconnection_Subscriber_ITSP")]
    SipInterconnection,
    /// HFA signalling and call control.
    #[serde(rename = "Calls_with_System_Device_HFA")]
    HfaCalls,
    /// The myPortal to go API.
    #[serde(rename = "CSTA_applications")]
    Csta,
    /// The gateway's application trace: everything at `info` and above.
    #[serde(rename = "Application")]
    Application,
}

impl Profile {
    pub const ALL: [Profile; 5] = [
        Profile::VoiceFax,
        Profile::SipInterconnection,
        Profile::HfaCalls,
        Profile::Csta,
        Profile::Application,
    ];

    /// The name as the guide writes it (and the trace file's name).
    pub fn name(self) -> &'static str {
        match self {
            Profile::VoiceFax => "Voice_Fax_connection",
            Profile::SipInterconnection => "SIP_Interconnection_Subscriber_ITSP",
            Profile::HfaCalls => "Calls_with_System_Device_HFA",
            Profile::Csta => "CSTA_applications",
            Profile::Application => "Application",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether this profile records `event` (by its module's target; `debug`
    /// and above, `trace` is left to `RUST_LOG`).
    pub fn records(self, event: &Metadata<'_>) -> bool {
        if *event.level() > MOST_DETAIL {
            return false;
        }
        let target = event.target();
        let under = |prefixes: &[&str]| {
            prefixes.iter().any(|prefix| {
                target
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
            })
        };
        match self {
            Profile::VoiceFax => under(&["gateway::sbc", "gateway::media"]),
            Profile::SipInterconnection => under(&[TRUNK_TARGET]),
            Profile::HfaCalls => under(&["gateway::hfa", "gateway::calls", "shared::hfa"]),
            Profile::Csta => under(&["gateway::portal"]),
            Profile::Application => *event.level() <= Level::INFO,
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Profile {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|profile| profile.name() == text)
            .ok_or_else(|| {
                let names: Vec<_> = Profile::ALL.iter().map(|p| p.name()).collect();
                format!(
                    "no trace profile \"{text}\": the profiles (guide 7) are {}",
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::callsite::Identifier;
    use tracing::field::FieldSet;
    use tracing::metadata::Kind;

    struct Site;
    static SITE: Site = Site;
    impl tracing::Callsite for Site {
        fn set_interest(&self, _: tracing::subscriber::Interest) {}
        fn metadata(&self) -> &Metadata<'_> {
            unreachable!("not registered")
        }
    }

    fn event(target: &'static str, level: Level) -> Metadata<'static> {
        Metadata::new(
            "event",
            target,
            level,
            None,
            None,
            None,
            FieldSet::new(&[], Identifier(&SITE)),
            Kind::EVENT,
        )
    }

    fn profiles_of(target: &'static str, level: Level) -> Vec<Profile> {
        let meta = event(target, level);
        Profile::ALL
            .into_iter()
            .filter(|profile| profile.records(&meta))
            .collect()
    }

    #[test]
    fn each_part_of_the_gateway_goes_to_its_profile() {
        use Profile::*;
        assert_eq!(profiles_of("gateway::sbc::pool", Level::DEBUG), [VoiceFax]);
        assert_eq!(
            profiles_of("gateway::media::echo", Level::DEBUG),
            [VoiceFax]
        );
        assert_eq!(
            profiles_of(TRUNK_TARGET, Level::DEBUG),
            [SipInterconnection]
        );
        assert_eq!(
            profiles_of("gateway::hfa::connection", Level::DEBUG),
            [HfaCalls]
        );
        assert_eq!(
            profiles_of("gateway::calls::service", Level::DEBUG),
            [HfaCalls]
        );
        assert_eq!(profiles_of("gateway::portal::routes", Level::DEBUG), [Csta]);
        assert_eq!(
            profiles_of("gateway::portal::routes", Level::INFO),
            [Csta, Application]
        );
        assert_eq!(profiles_of("gateway::sbc::worker", Level::TRACE), []);
        // A prefix is a whole module name: `gateway::sbcx` is not the SBC.
        assert_eq!(profiles_of("gateway::sbcx", Level::DEBUG), []);
        assert_eq!(
            profiles_of("gateway::public_ip", Level::WARN),
            [Application]
        );
    }

    #[test]
    fn names_are_the_guides_and_a_wrong_one_is_told_with_the_list() {
        for profile in Profile::ALL {
            assert_eq!(profile.name().parse::<Profile>(), Ok(profile));
        }
        let error = "Voice_Fax".parse::<Profile>().expect_err("not a profile");
        assert!(error.contains("\"Voice_Fax\""), "{error}");
        assert!(error.contains("CSTA_applications"), "{error}");
    }
}
