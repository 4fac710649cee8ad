//! Client software versions such as `V3R0.33.1`, and the guide's minimums.
//!
//! The gateway refuses devices whose firmware is older than the versions the
//! guide (section 4) released for Device@Home. The string arrives over the
//! network in a registration, so parsing is total: any input gives either a
//! version or a typed [`VersionError`], never a panic.
//!
//! Format: `V<major>R<release>.<fix>.<hotfix>`, e.g. `V3R0.33.1` is major 3,
//! release 0, fix 33, hotfix 1. Tolerated: lowercase `v`/`r`, surrounding
//! whitespace, spaces before the `R` (`V3 R0.33.1`, as some phones print
//! it), and missing trailing parts (`V3R0` is `V3R0.0.0`, `V3` is
//! `V3R0.0.0`). Versions compare part by part as numbers, so
//! `V3R0.9.0 < V3R0.33.1` although `"9" > "33"` as text.

use std::fmt;
use std::str::FromStr;

/// A client software version, ordered as versions (major first).
///
/// Field order matters: the derived `Ord` compares major, release, fix and
/// hotfix in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SoftwareVersion {
    /// The `V` number.
    pub major: u16,
    /// The `R` number.
    pub release: u16,
    /// The first number after the `R` part.
    pub fix: u16,
    /// The second number after the `R` part.
    pub hotfix: u16,
}

/// Minimum OpenStage HFA firmware for Device@Home (guide 4).
pub const OPENSTAGE_HFA_MIN: SoftwareVersion = SoftwareVersion::new(3, 0, 33, 1);
/// Minimum Desk Phone IP HFA firmware for Device@Home (guide 4).
pub const DESKPHONE_IP_HFA_MIN: SoftwareVersion = SoftwareVersion::new(3, 0, 33, 1);
/// Minimum myPortal to go (Android) version with VoIP for Device@Home
/// (guide 4; the iOS app is "coming soon" there, so it has no minimum).
pub const MYPORTAL_TO_GO_ANDROID_MIN: SoftwareVersion = SoftwareVersion::new(2, 1, 61, 14);

/// Why a version string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// Nothing but whitespace.
    #[error("empty software version (expected e.g. V3R0.33.1)")]
    Empty,
    /// The string does not start with `V` or `v`.
    #[error("software version must start with 'V' (expected e.g. V3R0.33.1)")]
    MissingV,
    /// A part that must be a number is missing or not made of digits.
    #[error("software version: the {0} part is not a number (expected e.g. V3R0.33.1)")]
    NotANumber(VersionPart),
    /// A number does not fit the part (more than 65535).
    #[error("software version: the {0} part is too large")]
    TooLarge(VersionPart),
    /// Characters follow the last part that cannot belong to a version.
    #[error("software version: unexpected characters after the {0} part")]
    TrailingGarbage(VersionPart),
}

/// Names the part of a version an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionPart {
    /// The `V` number.
    Major,
    /// The `R` number.
    Release,
    /// The first dotted number.
    Fix,
    /// The second dotted number.
    Hotfix,
}

impl fmt::Display for VersionPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Major => "major (V)",
            Self::Release => "release (R)",
            Self::Fix => "fix",
            Self::Hotfix => "hotfix",
        })
    }
}

impl SoftwareVersion {
    /// A version from its four numbers.
    pub const fn new(major: u16, release: u16, fix: u16, hotfix: u16) -> Self {
        Self {
            major,
            release,
            fix,
            hotfix,
        }
    }
}

impl fmt::Display for SoftwareVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "V{}R{}.{}.{}",
            self.major, self.release, self.fix, self.hotfix
        )
    }
}

impl FromStr for SoftwareVersion {
    type Err = VersionError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let text = input.trim();
        if text.is_empty() {
            return Err(VersionError::Empty);
        }
        let rest = text
            .strip_prefix(['V', 'v'])
            .ok_or(VersionError::MissingV)?;
        let (major, rest) = number(rest, VersionPart::Major)?;
        let rest = rest.trim_start();
        if rest.is_empty() {
            return Ok(Self::new(major, 0, 0, 0));
        }
        let rest = rest
            .strip_prefix(['R', 'r'])
            .ok_or(VersionError::TrailingGarbage(VersionPart::Major))?;
        let (release, rest) = number(rest, VersionPart::Release)?;
        let (fix, rest) = dotted(rest, VersionPart::Release, VersionPart::Fix)?;
        let (hotfix, rest) = dotted(rest, VersionPart::Fix, VersionPart::Hotfix)?;
        if rest.is_empty() {
            Ok(Self::new(major, release, fix, hotfix))
        } else {
            Err(VersionError::TrailingGarbage(VersionPart::Hotfix))
        }
    }
}

/// Reads the leading decimal number of `text` for `part`.
fn number(text: &str, part: VersionPart) -> Result<(u16, &str), VersionError> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    if end == 0 {
        return Err(VersionError::NotANumber(part));
    }
    let (digits, rest) = text.split_at(end);
    let value = digits.parse().map_err(|_| VersionError::TooLarge(part))?;
    Ok((value, rest))
}

/// Reads an optional `.<number>` for `part`; absent means 0. `previous`
/// names the part the text follows, for the error when it is not a dot.
fn dotted(
    text: &str,
    previous: VersionPart,
    part: VersionPart,
) -> Result<(u16, &str), VersionError> {
    if text.is_empty() {
        return Ok((0, text));
    }
    let rest = text
        .strip_prefix('.')
        .ok_or(VersionError::TrailingGarbage(previous))?;
    number(rest, part)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> SoftwareVersion {
        text.parse().expect("valid version")
    }

    #[test]
    fn parses_the_guide_versions() {
        assert_eq!(v("V3R0.33.1"), OPENSTAGE_HFA_MIN);
        assert_eq!(v("V3R0.33.1"), DESKPHONE_IP_HFA_MIN);
        assert_eq!(v("V2R1.61.14"), MYPORTAL_TO_GO_ANDROID_MIN);
    }

    #[test]
    fn tolerates_case_spaces_and_missing_parts() {
        assert_eq!(v("v3r0.33.1"), v("V3R0.33.1"));
        assert_eq!(v("  V3 R0.33.1\n"), v("V3R0.33.1"));
        assert_eq!(v("V3R0"), SoftwareVersion::new(3, 0, 0, 0));
        assert_eq!(v("V3R0.33"), SoftwareVersion::new(3, 0, 33, 0));
        assert_eq!(v("V3"), SoftwareVersion::new(3, 0, 0, 0));
    }

    #[test]
    fn orders_as_versions_not_text() {
        assert!(v("V3R0.9.0") < v("V3R0.33.1"));
        assert!(v("V3R0.33.0") < v("V3R0.33.1"));
        assert!(v("V3R0.33.1") < v("V3R1"));
        assert!(v("V2R9.99.99") < v("V3R0.0.0"));
        assert!(v("V10R0") > v("V9R9.9.9"));
        assert_eq!(v("V3R0.33").cmp(&v("V3R0.33.0")), std::cmp::Ordering::Equal);
    }

    #[test]
    fn display_round_trips() {
        let version = v("v2r1.61.14");
        assert_eq!(version.to_string(), "V2R1.61.14");
        assert_eq!(v(&version.to_string()), version);
    }

    #[test]
    fn refuses_garbage_with_typed_errors() {
        let err = |text: &str| text.parse::<SoftwareVersion>().expect_err(text);
        assert_eq!(err(""), VersionError::Empty);
        assert_eq!(err("   "), VersionError::Empty);
        assert_eq!(err("3R0.33.1"), VersionError::MissingV);
        assert_eq!(err("V"), VersionError::NotANumber(VersionPart::Major));
        assert_eq!(err("VR0"), VersionError::NotANumber(VersionPart::Major));
        assert_eq!(err("V3R"), VersionError::NotANumber(VersionPart::Release));
        assert_eq!(err("V3R0."), VersionError::NotANumber(VersionPart::Fix));
        assert_eq!(
            err("V3R0.33."),
            VersionError::NotANumber(VersionPart::Hotfix)
        );
        assert_eq!(err("V3R0.-1"), VersionError::NotANumber(VersionPart::Fix));
        assert_eq!(
            err("V3X0"),
            VersionError::TrailingGarbage(VersionPart::Major)
        );
        assert_eq!(
            err("V3R0-33"),
            VersionError::TrailingGarbage(VersionPart::Release)
        );
        assert_eq!(
            err("V3R0.33.1.7"),
            VersionError::TrailingGarbage(VersionPart::Hotfix)
        );
        assert_eq!(
            err("V3R0.33.1 beta"),
            VersionError::TrailingGarbage(VersionPart::Hotfix)
        );
        assert_eq!(err("V70000R0"), VersionError::TooLarge(VersionPart::Major));
        assert_eq!(
            err("V3R0.99999999999999999999"),
            VersionError::TooLarge(VersionPart::Fix)
        );
        assert_eq!(err("V３R0"), VersionError::NotANumber(VersionPart::Major));
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        let mut state: u32 = 0x2545_f491;
        let alphabet = b"Vv Rr.0123456789-x\xff\0";
        for _ in 0..20_000 {
            let mut bytes = Vec::new();
            for _ in 0..(state % 12) {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                bytes.push(alphabet[state as usize % alphabet.len()]);
            }
            let text = String::from_utf8_lossy(&bytes);
            let _ = text.parse::<SoftwareVersion>();
        }
    }
}
