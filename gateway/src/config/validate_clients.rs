//! The rules for system clients (guide 1.2.1, 1.3.3, 2.2).
//!
//! The central one (guide 2.2): as soon as one client is enabled for
//! internet registration, Authentication and a strong, individual password
//! (see [`super::password`]) are required for ALL clients, internal or
//! external, because from then on the system accepts logins from the
//! whole internet and any weak account is a way in.

use std::collections::HashMap;

use super::client::{Client, ClientKind};
use super::error::ConfigError;
use super::password;
use super::validate::{Report, is_digits};
use super::warning::ConfigWarning;

/// Numbers of the clients enabled for internet registration.
pub(super) fn internet_clients(clients: &[Client]) -> Vec<String> {
    clients
        .iter()
        .filter(|client| client.internet_registration)
        .map(|client| client.number.clone())
        .collect()
}

/// Checks every client; `internet_clients` is [`internet_clients`].
pub(super) fn check(clients: &[Client], internet_clients: &[String], report: &mut Report) {
    check_identities(clients, report);
    for client in clients {
        check_client(
            client,
            !internet_clients.is_empty(),
            internet_clients,
            report,
        );
    }
    if !internet_clients.is_empty() {
        check_individual(clients, report);
    }
}

/// Numbers are digits and unique, names are not empty.
fn check_identities(clients: &[Client], report: &mut Report) {
    let mut first_use: HashMap<&str, usize> = HashMap::new();
    for (index, client) in clients.iter().enumerate() {
        if !is_digits(&client.number) {
            report.errors.push(ConfigError::InvalidClientNumber {
                index,
                value: client.number.clone(),
            });
        } else if let Some(&first_index) = first_use.get(client.number.as_str()) {
            report.errors.push(ConfigError::DuplicateClientNumber {
                index,
                number: client.number.clone(),
                first_index,
            });
        } else {
            first_use.insert(&client.number, index);
        }
        if client.name.trim().is_empty() {
            report.errors.push(ConfigError::EmptyClientName { index });
        }
    }
}

/// The rules of one client; `strict` when any client is internet-enabled.
fn check_client(client: &Client, strict: bool, internet_clients: &[String], report: &mut Report) {
    let label = client.label();
    if client.deskshare && client.kind == ClientKind::MyPortalToGo {
        report.errors.push(ConfigError::DeskshareMyPortal {
            client: label.clone(),
        });
    }
    if client.internet_registration {
        if client.kind == ClientKind::Sip {
            report.errors.push(ConfigError::InternetSipNotServed {
                client: label.clone(),
            });
        }
        if !client.ip_user_license {
            report.errors.push(ConfigError::InternetWithoutLicense {
                client: label.clone(),
            });
        }
        if client.allow_premium {
            report
                .warnings
                .push(ConfigWarning::PremiumForInternetClient {
                    client: label.clone(),
                });
        }
        if client.allow_irsf {
            report.warnings.push(ConfigWarning::IrsfForInternetClient {
                client: label.clone(),
            });
        }
    }
    if strict && !client.authentication {
        report.errors.push(ConfigError::AuthenticationOff {
            client: label.clone(),
            internet_clients: internet_clients.to_vec(),
        });
    }
    let password = client
        .password
        .as_ref()
        .map(|secret| secret.expose())
        .filter(|text| !text.is_empty());
    match password {
        None if strict || client.authentication => {
            report
                .errors
                .push(ConfigError::PasswordMissing { client: label });
        }
        Some(text) if strict => {
            let weaknesses = password::weaknesses(text, &client.number);
            if !weaknesses.is_empty() {
                report.errors.push(ConfigError::WeakPassword {
                    client: label,
                    weaknesses,
                });
            }
        }
        _ => {}
    }
}

/// No two clients share a password; each later client is reported with the
/// first one it shares with. A hash map keeps this linear: a system with
/// 10,000 clients would otherwise start with 50 million comparisons. (The
/// passwords are the administrator's own file, not a guess from the
/// network, so comparing them in constant time buys nothing here.)
fn check_individual(clients: &[Client], report: &mut Report) {
    let mut first_use: HashMap<&str, &Client> = HashMap::new();
    for client in clients {
        let Some(secret) = &client.password else {
            continue;
        };
        if secret.expose().is_empty() {
            continue;
        }
        match first_use.get(secret.expose()) {
            Some(other) => report.errors.push(ConfigError::SharedPassword {
                client: client.label(),
                other: other.label(),
            }),
            None => {
                first_use.insert(secret.expose(), client);
            }
        }
    }
}
