//! The load's accounts and source addresses: numbers from a range with
//! passwords from a file (one per number, or one for all), or a TOML
//! accounts file; source addresses from a range, handed out in turn (a
//! gateway limits connections per source address).

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use shared::secret::Secret;

/// A number and its password.
#[derive(Debug, Clone)]
pub struct Account {
    pub number: String,
    pub password: Secret,
}

/// Why the accounts or addresses cannot be used; each names the option,
/// the value and what is expected.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("{option} {value:?}: expected FIRST-LAST (e.g. 301-400), digits only, FIRST <= LAST")]
    NumberRange { option: &'static str, value: String },
    #[error(
        "--bind {value:?}: expected an address or FIRST-LAST IPv4 addresses (e.g. 127.0.3.1-127.0.3.200)"
    )]
    BindRange { value: String },
    #[error("{option} {path}: cannot read: {error}")]
    Read {
        option: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "{option} {path}: {lines} passwords for {numbers} numbers: give one line per number, \
         or a single line for all"
    )]
    PasswordCount {
        option: &'static str,
        path: PathBuf,
        lines: usize,
        numbers: usize,
    },
    #[error("--accounts {path}: {error}")]
    Toml {
        path: PathBuf,
        error: toml::de::Error,
    },
    #[error("--accounts {path}: no [[accounts]] entry")]
    NoAccounts { path: PathBuf },
}

/// The numbers of `range` (given as `option`), `FIRST-LAST` (or one
/// number); leading zeros kept (`0301-0310`).
pub fn number_range(option: &'static str, range: &str) -> Result<Vec<String>, AccountsError> {
    let bad = || AccountsError::NumberRange {
        option,
        value: range.to_owned(),
    };
    let (first, last) = range.split_once('-').unwrap_or((range, range));
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if !digits(first) || !digits(last) {
        return Err(bad());
    }
    let (start, end): (u64, u64) = (
        first.parse().map_err(|_| bad())?,
        last.parse().map_err(|_| bad())?,
    );
    if start > end {
        return Err(bad());
    }
    let width = first.len();
    Ok((start..=end).map(|n| format!("{n:0width$}")).collect())
}

/// `numbers` with the passwords of `file` (given as `option`): one line
/// per number, in order, or a single line for all. Blank lines at the end
/// are ignored.
pub fn with_passwords(
    option: &'static str,
    numbers: Vec<String>,
    file: &Path,
) -> Result<Vec<Account>, AccountsError> {
    let text = std::fs::read_to_string(file).map_err(|error| AccountsError::Read {
        option,
        path: file.to_owned(),
        error,
    })?;
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let lines = &lines[..lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(0, |i| i + 1)];
    let password = |index: usize| match lines {
        [one] => Some(*one),
        _ if lines.len() == numbers.len() => Some(lines[index]),
        _ => None,
    };
    numbers
        .iter()
        .enumerate()
        .map(|(index, number)| match password(index) {
            Some(password) => Ok(Account {
                number: number.clone(),
                password: Secret::new(password.to_owned()),
            }),
            None => Err(AccountsError::PasswordCount {
                option,
                path: file.to_owned(),
                lines: lines.len(),
                numbers: numbers.len(),
            }),
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountsFile {
    accounts: Vec<AccountEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountEntry {
    number: String,
    password: String,
}

/// The accounts of a TOML file of `[[accounts]]` entries, each with
/// `number` and `password`.
pub fn from_toml(file: &Path) -> Result<Vec<Account>, AccountsError> {
    let text = std::fs::read_to_string(file).map_err(|error| AccountsError::Read {
        option: "--accounts",
        path: file.to_owned(),
        error,
    })?;
    let parsed: AccountsFile = toml::from_str(&text).map_err(|error| AccountsError::Toml {
        path: file.to_owned(),
        error,
    })?;
    if parsed.accounts.is_empty() {
        return Err(AccountsError::NoAccounts {
            path: file.to_owned(),
        });
    }
    Ok(parsed
        .accounts
        .into_iter()
        .map(|entry| Account {
            number: entry.number,
            password: Secret::new(entry.password),
        })
        .collect())
}

/// The addresses of `range`: one address, or `FIRST-LAST` IPv4.
pub fn bind_range(range: &str) -> Result<Vec<IpAddr>, AccountsError> {
    let bad = || AccountsError::BindRange {
        value: range.to_owned(),
    };
    if let Ok(one) = range.parse::<IpAddr>() {
        return Ok(vec![one]);
    }
    let (first, last) = range.split_once('-').ok_or_else(bad)?;
    let first: Ipv4Addr = first.parse().map_err(|_| bad())?;
    let last: Ipv4Addr = last.parse().map_err(|_| bad())?;
    let (start, end) = (u32::from(first), u32::from(last));
    if start > end {
        return Err(bad());
    }
    Ok((start..=end)
        .map(|n| IpAddr::V4(Ipv4Addr::from(n)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_range_keeps_leading_zeros_and_refuses_a_reversed_one() {
        assert_eq!(
            number_range("--numbers", "0098-0101").unwrap(),
            ["0098", "0099", "0100", "0101"]
        );
        assert_eq!(number_range("--numbers", "301").unwrap(), ["301"]);
        let error = number_range("--numbers", "400-301")
            .unwrap_err()
            .to_string();
        assert!(error.contains("--numbers \"400-301\""), "{error}");
        assert!(number_range("--app-numbers", "30a-40").is_err());
    }

    #[test]
    fn passwords_come_one_per_number_or_one_for_all() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("passwords");
        let numbers = number_range("--numbers", "301-302").unwrap();
        std::fs::write(&file, "first\nsecond\n\n").unwrap();
        let accounts = with_passwords("--passwords", numbers.clone(), &file).unwrap();
        assert_eq!(accounts[1].password.expose(), "second");
        std::fs::write(&file, "shared\n").unwrap();
        let accounts = with_passwords("--passwords", numbers.clone(), &file).unwrap();
        assert_eq!(accounts[0].password.expose(), "shared");
        assert_eq!(accounts[1].password.expose(), "shared");
        std::fs::write(&file, "a\nb\nc\n").unwrap();
        let error = with_passwords("--passwords", numbers, &file)
            .unwrap_err()
            .to_string();
        assert!(error.contains("3 passwords for 2 numbers"), "{error}");
    }

    #[test]
    fn a_toml_accounts_file_names_its_problem() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("accounts.toml");
        std::fs::write(&file, "[[accounts]]\nnumber = \"301\"\npassword = \"pw\"\n").unwrap();
        assert_eq!(from_toml(&file).unwrap()[0].number, "301");
        std::fs::write(&file, "[[accounts]]\nnumber = \"301\"\n").unwrap();
        let error = from_toml(&file).unwrap_err().to_string();
        assert!(error.contains("password"), "{error}");
    }

    #[test]
    fn a_bind_range_lists_every_address() {
        let addresses = bind_range("127.0.3.254-127.0.4.1").unwrap();
        assert_eq!(addresses.len(), 4);
        assert_eq!(addresses[3], "127.0.4.1".parse::<IpAddr>().unwrap());
        assert_eq!(bind_range("::1").unwrap().len(), 1);
        assert!(bind_range("127.0.4.1-127.0.3.1").is_err());
    }
}
