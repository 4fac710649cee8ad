//! One form for every external number, however it was dialled.
//!
//! The same premium number can be dialled nationally (`0900 123456`) or in
//! international format with the system's own country code (`0049 900
//! 123456`); a class of service that only looks at the digits as dialled
//! bars the first and lets the second through, the classic path of toll
//! fraud against a PBX. So every external number is first normalised to
//! E.164 (country code and national significant number, ITU-T E.164) with
//! the system's country code, and only then classed.
//!
//! This is a PBX dial plan, not a parser of written numbers: the prefixes
//! are the configured ones, and a number dialled without any prefix stays
//! [`Destination::Local`], since without the area code it has no E.164 form.

use std::fmt;

/// E.164 allows at most 15 digits, country code included.
pub const E164_MAX_DIGITS: usize = 15;

/// How the system's users dial: its country code and its prefixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberPlan {
    country_code: String,
    national_prefix: String,
    international_prefix: String,
}

/// An external number in its normalised form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Destination {
    /// Dialled without national or international prefix: a number of the
    /// local area or a short code such as 11833.
    Local(String),
    /// E.164 digits without the `+`: country code, then the national
    /// significant number.
    E164(String),
}

impl Destination {
    /// Whether this number begins with `prefix`, both normalised alike.
    pub fn starts_with(&self, prefix: &Destination) -> bool {
        match (self, prefix) {
            (Self::Local(number), Self::Local(prefix))
            | (Self::E164(number), Self::E164(prefix)) => number.starts_with(prefix.as_str()),
            _ => false,
        }
    }
}

/// `+4989123456`, or the local digits as dialled.
impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local(digits) => f.write_str(digits),
            Self::E164(digits) => write!(f, "+{digits}"),
        }
    }
}

/// Why dialled digits are not (yet) a number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// Nothing was dialled.
    #[error("no digits")]
    Empty,
    /// Something other than digits (after an optional leading `+`).
    #[error("only digits can be dialled, after an optional leading +")]
    NotDigits,
    /// A prefix with nothing after it yet: more digits may follow.
    #[error("nothing after the prefix {prefix}")]
    Incomplete {
        /// The prefix dialled.
        prefix: String,
    },
    /// No country code begins with 0 (E.164).
    #[error("no country code begins with 0")]
    CountryCodeZero,
    /// Longer than any number can be.
    #[error("{digits} digits, more than the {E164_MAX_DIGITS} of any number (E.164)")]
    TooLong {
        /// How many digits the number has.
        digits: usize,
    },
}

impl NumberPlan {
    /// The plan of a country: `country_code` (`"49"`) and the prefixes for
    /// national (`"0"`) and international (`"00"`) numbers, all digits (the
    /// configuration checks them before).
    pub fn new(country_code: &str, national_prefix: &str, international_prefix: &str) -> Self {
        Self {
            country_code: country_code.to_owned(),
            national_prefix: national_prefix.to_owned(),
            international_prefix: international_prefix.to_owned(),
        }
    }

    /// The system's own country code, E.164 digits without `+`.
    pub fn country_code(&self) -> &str {
        &self.country_code
    }

    /// Whether `destination` is in the system's own country.
    pub fn is_own_country(&self, destination: &Destination) -> bool {
        match destination {
            Destination::Local(_) => true,
            // Country codes are prefix-free: no code begins with another.
            Destination::E164(digits) => digits.starts_with(&self.country_code),
        }
    }

    /// Normalises `dialled` (the digits after the trunk access code, or a
    /// number already in E.164 form with a leading `+`):
    ///
    /// * `+` digits: already E.164;
    /// * the international prefix, then the country code and number;
    /// * the national prefix, then the national significant number, which
    ///   gets the system's country code in front;
    /// * no prefix: a local number, kept as dialled.
    ///
    /// When national and international prefix both match (`0` and `00`),
    /// the longer wins.
    pub fn normalise(&self, dialled: &str) -> Result<Destination, NumberError> {
        if dialled.is_empty() {
            return Err(NumberError::Empty);
        }
        let (digits, plus) = match dialled.strip_prefix('+') {
            Some(rest) => (rest, true),
            None => (dialled, false),
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NumberError::NotDigits);
        }
        let national = digits.strip_prefix(self.national_prefix.as_str());
        let international = digits.strip_prefix(self.international_prefix.as_str());
        let destination = match (plus, international, national) {
            (true, _, _) => self.e164(digits, "+")?,
            (false, Some(rest), Some(_))
                if self.international_prefix.len() >= self.national_prefix.len() =>
            {
                self.e164(rest, &self.international_prefix)?
            }
            (false, Some(rest), None) => self.e164(rest, &self.international_prefix)?,
            (false, _, Some(rest)) => {
                if rest.is_empty() {
                    return Err(NumberError::Incomplete {
                        prefix: self.national_prefix.clone(),
                    });
                }
                self.e164(&format!("{}{rest}", self.country_code), "")?
            }
            (false, None, None) => Destination::Local(digits.to_owned()),
        };
        let length = match &destination {
            Destination::Local(digits) | Destination::E164(digits) => digits.len(),
        };
        if length > E164_MAX_DIGITS {
            return Err(NumberError::TooLong { digits: length });
        }
        Ok(destination)
    }

    /// `digits` in E.164 form (country code first), dialled after `prefix`.
    fn e164(&self, digits: &str, prefix: &str) -> Result<Destination, NumberError> {
        if digits.is_empty() {
            return Err(NumberError::Incomplete {
                prefix: prefix.to_owned(),
            });
        }
        if digits.starts_with('0') {
            return Err(NumberError::CountryCodeZero);
        }
        Ok(Destination::E164(digits.to_owned()))
    }

    /// A number of the system's own country with the national prefix after
    /// the country code (the written form `+49 (0) 900`, dialled `0049 0
    /// 900`), without that prefix: the number a network that tolerates the
    /// form would call. Only a second reading for the barred ranges: in
    /// some countries (national prefix 8) a national number may itself
    /// begin with the prefix digit, so the number is not rewritten.
    pub fn without_national_prefix(&self, destination: &Destination) -> Option<Destination> {
        let Destination::E164(digits) = destination else {
            return None;
        };
        let rest = digits
            .strip_prefix(self.country_code.as_str())?
            .strip_prefix(self.national_prefix.as_str())?;
        Some(Destination::E164(format!("{}{rest}", self.country_code)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn germany() -> NumberPlan {
        NumberPlan::new("49", "0", "00")
    }

    fn e164(digits: &str) -> Result<Destination, NumberError> {
        Ok(Destination::E164(digits.into()))
    }

    #[test]
    fn national_prefix_gets_the_system_s_country_code() {
        assert_eq!(germany().normalise("089123456"), e164("4989123456"));
        assert_eq!(germany().normalise("0900123456"), e164("49900123456"));
    }

    #[test]
    fn international_prefix_is_followed_by_a_country_code() {
        assert_eq!(germany().normalise("00441234567"), e164("441234567"));
        assert_eq!(germany().normalise("008811234567"), e164("8811234567"));
    }

    #[test]
    fn the_own_country_in_international_format_is_the_same_number() {
        let plan = germany();
        assert_eq!(
            plan.normalise("0049900123456"),
            plan.normalise("0900123456")
        );
        assert_eq!(plan.normalise("+49900123456"), e164("49900123456"));
        // The written "+49 (0) 900", dialled with the national prefix: kept,
        // with a second reading for the barred ranges.
        let written = plan.normalise("00490900123456").expect("a number");
        assert_eq!(written, Destination::E164("490900123456".into()));
        assert_eq!(
            plan.without_national_prefix(&written),
            Some(Destination::E164("49900123456".into()))
        );
        let plain = Destination::E164("4989123".into());
        assert_eq!(plan.without_national_prefix(&plain), None);
        let abroad = Destination::E164("430900".into());
        assert_eq!(plan.without_national_prefix(&abroad), None);
        assert!(plan.is_own_country(&Destination::E164("4989".into())));
        assert!(!plan.is_own_country(&Destination::E164("4389".into())));
    }

    #[test]
    fn already_e164_stays_as_it_is() {
        assert_eq!(germany().normalise("+8816123456"), e164("8816123456"));
        assert_eq!(germany().normalise("+441234"), e164("441234"));
    }

    #[test]
    fn without_prefix_a_number_is_local() {
        assert_eq!(
            germany().normalise("11833"),
            Ok(Destination::Local("11833".into()))
        );
        assert_eq!(
            germany().normalise("4711"),
            Ok(Destination::Local("4711".into()))
        );
    }

    #[test]
    fn the_longer_prefix_wins_when_both_match() {
        // A plan where the international prefix is the shorter one.
        let plan = NumberPlan::new("7", "01", "0");
        assert_eq!(plan.normalise("0123"), e164("723"));
        assert_eq!(plan.normalise("0223"), e164("223"));
        // North America: national prefix 1, international 011.
        let nanp = NumberPlan::new("1", "1", "011");
        assert_eq!(nanp.normalise("19005551234"), e164("19005551234"));
        assert_eq!(nanp.normalise("01119005551234"), e164("19005551234"));
        assert_eq!(nanp.normalise("011441234"), e164("441234"));
    }

    #[test]
    fn short_and_odd_input_is_an_error_not_a_number() {
        let plan = germany();
        assert_eq!(plan.normalise(""), Err(NumberError::Empty));
        assert_eq!(
            plan.normalise("0"),
            Err(NumberError::Incomplete { prefix: "0".into() })
        );
        assert_eq!(
            plan.normalise("00"),
            Err(NumberError::Incomplete {
                prefix: "00".into()
            })
        );
        assert_eq!(
            plan.normalise("+"),
            Err(NumberError::Incomplete { prefix: "+".into() })
        );
        assert_eq!(plan.normalise("000881"), Err(NumberError::CountryCodeZero));
        assert_eq!(plan.normalise("+0881"), Err(NumberError::CountryCodeZero));
        assert_eq!(plan.normalise("09*00"), Err(NumberError::NotDigits));
        assert_eq!(plan.normalise("++49"), Err(NumberError::NotDigits));
        assert_eq!(plan.normalise("0 900"), Err(NumberError::NotDigits));
        assert_eq!(plan.normalise("0049"), e164("49"));
        assert_eq!(
            plan.normalise("0891234567890123"),
            Err(NumberError::TooLong { digits: 17 })
        );
        assert_eq!(
            plan.normalise("1234567890123456"),
            Err(NumberError::TooLong { digits: 16 })
        );
        assert_eq!(plan.normalise("08912345678901"), e164("498912345678901"));
    }
}
