//! Class of service and the barred ranges against toll fraud.
//!
//! The guide (2.2) asks to reduce each client's class of service "to the
//! required needs ... to prevent toll fraud by dialing expensive premium or
//! international numbers or by programming call forwarding to such
//! numbers". Every external number is first normalised to E.164 (see
//! [`super::numbering`]), so that the way it is dialled changes nothing;
//! then two independent checks apply:
//!
//! * its reach (local, national, international) against the client's
//!   [`ClassOfService`];
//! * the barred ranges: premium-rate prefixes need the client's
//!   `allow_premium`, the ranges of international revenue share fraud
//!   (IRSF: satellite and international premium numbers) its `allow_irsf`.

use std::fmt;

use serde::Deserialize;

use super::numbering::{Destination, NumberError, NumberPlan};

/// How far a client may dial out, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassOfService {
    /// Internal calls only; no external number at all.
    InternalOnly,
    /// External numbers without the national prefix (the local area).
    Local,
    /// Also numbers of the system's own country.
    National,
    /// Also numbers of other countries.
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

/// How far an external number reaches, from its normalised form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Dialled without prefix: the local area, or a short code.
    Local,
    /// In the system's own country.
    National,
    /// In another country.
    International,
}

/// What kind of external number was dialled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallClass {
    /// How far it reaches.
    pub reach: Reach,
    /// It begins with a premium-rate prefix.
    pub premium: bool,
    /// The IRSF prefix it begins with (E.164, `+881`), if any.
    pub irsf: Option<String>,
}

/// `national number, premium rate`.
impl fmt::Display for CallClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.reach {
            Reach::Local => "local number",
            Reach::National => "national number",
            Reach::International => "international number",
        })?;
        if self.premium {
            f.write_str(", premium rate")?;
        }
        if let Some(prefix) = &self.irsf {
            write!(f, ", IRSF range {prefix}")?;
        }
        Ok(())
    }
}

/// Why a client may not dial a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarReason {
    /// The class of service is internal only.
    NoExternal,
    /// The class of service is local; the number is national.
    NoNational,
    /// The class of service does not reach other countries.
    NoInternational,
    /// A premium-rate number, without `allow_premium`.
    Premium,
    /// An IRSF range, without `allow_irsf`.
    Irsf,
}

/// What the caller's phone shows below "Not allowed".
impl fmt::Display for BarReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoExternal => "No external calls",
            Self::NoNational => "No national calls",
            Self::NoInternational => "No international calls",
            Self::Premium => "Premium-rate number",
            Self::Irsf => "High-risk destination",
        })
    }
}

/// Why a client with `class`, `allow_premium` and `allow_irsf` may not dial
/// a number of class `call`; `None` when it may. The reach is checked
/// first: being allowed premium or IRSF numbers never widens it.
pub fn bar_reason(
    class: ClassOfService,
    allow_premium: bool,
    allow_irsf: bool,
    call: &CallClass,
) -> Option<BarReason> {
    let (needed, too_far) = match call.reach {
        Reach::Local => (ClassOfService::Local, BarReason::NoExternal),
        Reach::National => (ClassOfService::National, BarReason::NoNational),
        Reach::International => (ClassOfService::International, BarReason::NoInternational),
    };
    if class == ClassOfService::InternalOnly {
        return Some(BarReason::NoExternal);
    }
    if class < needed {
        return Some(too_far);
    }
    if call.premium && !allow_premium {
        return Some(BarReason::Premium);
    }
    if call.irsf.is_some() && !allow_irsf {
        return Some(BarReason::Irsf);
    }
    None
}

/// An external number as dialled, normalised and classed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalNumber {
    /// The digits after the trunk access code, as dialled (what the trunk
    /// is asked to call).
    pub dialled: String,
    /// The number in E.164 form, or local.
    pub destination: Destination,
    /// Its class.
    pub class: CallClass,
}

/// Classes the external numbers of one system: normalises them with its
/// [`NumberPlan`], then looks them up in the barred ranges. Made from a
/// validated `[dialing]` section.
#[derive(Debug, Clone)]
pub struct Classifier {
    plan: NumberPlan,
    /// Normalised premium-rate prefixes.
    premium: Vec<Destination>,
    /// E.164 digits of the IRSF prefixes, without `+`.
    irsf: Vec<String>,
}

impl Classifier {
    /// `premium`: the premium-rate prefixes, normalised with `plan`; a
    /// short code dialled without prefix (118) is also barred after the
    /// country code (+49 118), the way an attacker would try it.
    /// `irsf`: E.164 prefixes without `+`.
    pub fn new(plan: NumberPlan, premium: Vec<Destination>, irsf: Vec<String>) -> Self {
        let behind_country_code: Vec<Destination> = premium
            .iter()
            .filter_map(|prefix| match prefix {
                Destination::Local(digits) => Some(Destination::E164(format!(
                    "{}{digits}",
                    plan.country_code()
                ))),
                Destination::E164(_) => None,
            })
            .collect();
        let mut premium = premium;
        premium.extend(behind_country_code);
        Self {
            plan,
            premium,
            irsf,
        }
    }

    /// The system's number plan.
    pub fn plan(&self) -> &NumberPlan {
        &self.plan
    }

    /// The premium-rate prefixes, normalised.
    pub fn premium_prefixes(&self) -> &[Destination] {
        &self.premium
    }

    /// The IRSF prefixes, E.164 digits without `+`.
    pub fn irsf_prefixes(&self) -> &[String] {
        &self.irsf
    }

    /// Normalises and classes `dialled`, the digits after the trunk access
    /// code.
    pub fn classify(&self, dialled: &str) -> Result<ExternalNumber, NumberError> {
        let destination = self.plan.normalise(dialled)?;
        let class = self.class_of(&destination);
        Ok(ExternalNumber {
            dialled: dialled.to_owned(),
            destination,
            class,
        })
    }

    /// The class of a normalised number.
    pub fn class_of(&self, destination: &Destination) -> CallClass {
        let reach = match destination {
            Destination::Local(_) => Reach::Local,
            Destination::E164(_) if self.plan.is_own_country(destination) => Reach::National,
            Destination::E164(_) => Reach::International,
        };
        let irsf = match destination {
            Destination::E164(digits) => self
                .irsf
                .iter()
                .find(|prefix| digits.starts_with(prefix.as_str()))
                .map(|prefix| format!("+{prefix}")),
            Destination::Local(_) => None,
        };
        // A number written "+49 (0) 900" is read both ways: as dialled, and
        // as a network tolerating the form would call it.
        let readings = [
            Some(destination.clone()),
            self.plan.without_national_prefix(destination),
        ];
        let premium = readings.iter().flatten().any(|reading| {
            self.premium
                .iter()
                .any(|prefix| reading.starts_with(prefix))
        });
        CallClass {
            reach,
            premium,
            irsf,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn german() -> Classifier {
        let plan = NumberPlan::new("49", "0", "00");
        let premium = ["0900", "118"]
            .iter()
            .map(|prefix| plan.normalise(prefix).expect("a prefix"))
            .collect();
        Classifier::new(plan, premium, vec!["881".into(), "979".into()])
    }

    fn class(dialled: &str) -> CallClass {
        german().classify(dialled).expect("a number").class
    }

    #[test]
    fn reach_comes_from_the_normalised_number() {
        assert_eq!(class("4711").reach, Reach::Local);
        assert_eq!(class("089123456").reach, Reach::National);
        assert_eq!(class("004989123456").reach, Reach::National);
        assert_eq!(class("0044207946").reach, Reach::International);
    }

    #[test]
    fn premium_prefixes_match_however_the_number_is_dialled() {
        for dialled in ["0900123456", "0049900123456", "00490900123456"] {
            let class = class(dialled);
            assert!(class.premium, "{dialled}");
            assert_eq!(class.reach, Reach::National, "{dialled}");
        }
        // A short code, and the same behind the country code.
        assert!(class("11833").premium);
        assert!(class("004911833").premium);
        assert!(!class("089900123").premium);
        assert!(!class("0043900123456").premium);
    }

    #[test]
    fn a_national_prefix_that_begins_national_numbers_changes_no_number() {
        // National prefix 8, international 810: +7 812 is St Petersburg.
        let plan = NumberPlan::new("7", "8", "810");
        let premium = vec![plan.normalise("8809").expect("a prefix")];
        let russia = Classifier::new(plan, premium, Vec::new());
        let class = |dialled: &str| russia.classify(dialled).expect("a number");
        let city = class("88121234567");
        assert_eq!(city.destination, Destination::E164("78121234567".into()));
        assert!(!city.class.premium);
        for dialled in ["88091234567", "81078091234567", "810788091234567"] {
            assert!(class(dialled).class.premium, "{dialled}");
        }
    }

    #[test]
    fn irsf_ranges_match_the_e164_form() {
        assert_eq!(class("008816123456").irsf.as_deref(), Some("+881"));
        assert_eq!(class("00979123456").irsf.as_deref(), Some("+979"));
        assert_eq!(class("0088").irsf, None);
        assert_eq!(class("0044881").irsf, None);
        assert_eq!(class("0881").irsf, None);
        assert_eq!(
            class("00979123").to_string(),
            "international number, IRSF range +979"
        );
    }

    #[test]
    fn premium_and_irsf_are_barred_unless_allowed() {
        use ClassOfService::*;
        let premium = class("0900123456");
        let irsf = class("008816123456");
        assert_eq!(
            bar_reason(International, false, true, &premium),
            Some(BarReason::Premium)
        );
        assert_eq!(bar_reason(International, true, false, &premium), None);
        assert_eq!(bar_reason(National, true, false, &premium), None);
        assert_eq!(
            bar_reason(International, true, false, &irsf),
            Some(BarReason::Irsf)
        );
        assert_eq!(bar_reason(International, false, true, &irsf), None);
    }

    #[test]
    fn being_allowed_a_range_never_widens_the_reach() {
        use ClassOfService::*;
        let national_premium = class("0900123456");
        let irsf = class("008816123456");
        assert_eq!(
            bar_reason(Local, true, true, &national_premium),
            Some(BarReason::NoNational)
        );
        assert_eq!(bar_reason(Local, true, true, &class("11833")), None);
        assert_eq!(
            bar_reason(National, true, true, &irsf),
            Some(BarReason::NoInternational)
        );
        assert_eq!(
            bar_reason(InternalOnly, true, true, &class("4711")),
            Some(BarReason::NoExternal)
        );
    }

    #[test]
    fn the_class_of_service_bounds_the_reach() {
        use ClassOfService::*;
        let (local, national, international) =
            (class("4711"), class("089123"), class("0044207946"));
        assert_eq!(
            bar_reason(InternalOnly, false, false, &local),
            Some(BarReason::NoExternal)
        );
        assert_eq!(bar_reason(Local, false, false, &local), None);
        assert_eq!(
            bar_reason(Local, false, false, &national),
            Some(BarReason::NoNational)
        );
        assert_eq!(bar_reason(National, false, false, &national), None);
        assert_eq!(
            bar_reason(National, false, false, &international),
            Some(BarReason::NoInternational)
        );
        assert_eq!(
            bar_reason(International, false, false, &international),
            None
        );
    }
}
