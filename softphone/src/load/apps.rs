//! The apps' settings from the load's options: each app's number and UC
//! password, the portal as its WAN server ("Use VoIP in remote WiFi
//! networks" on, so the app registers wherever the load runs), the
//! certificate's trust as `softphone portal` takes it, and its source
//! address in turn.

use std::net::IpAddr;

use super::LoadArgs;
use super::accounts::Account;
use super::run::LoadError;
use crate::portal::settings::{Network, PortalSettings, ServerAddress};
use crate::portal::trust::Trust;

/// One app's settings per account of --app-numbers; `sources` are handed
/// out in turn from `first_source` on (after the phones').
pub fn settings(
    args: &LoadArgs,
    accounts: Vec<Account>,
    sources: &[IpAddr],
    first_source: usize,
) -> Result<Vec<PortalSettings>, LoadError> {
    let Some(portal) = &args.portal else {
        return Ok(Vec::new());
    };
    if ServerAddress::parse(portal).is_none() {
        return Err(LoadError::Portal {
            value: portal.clone(),
        });
    }
    let trust = trust(args)?;
    accounts
        .into_iter()
        .enumerate()
        .map(|(index, account)| {
            let mut settings = PortalSettings::new(
                &account.number,
                account.password,
                portal,
                None,
                Network::RemoteWifi,
                trust.clone(),
            )
            .map_err(|error| LoadError::App {
                number: account.number.clone(),
                error,
            })?;
            settings.flags.remote_wifi = true;
            if !sources.is_empty() {
                settings.bind = Some(sources[(first_source + index) % sources.len()]);
            }
            Ok(settings)
        })
        .collect()
}

/// --pin, or trust on first use with --accept-fingerprint and the store.
fn trust(args: &LoadArgs) -> Result<Trust, LoadError> {
    match (&args.pin, &args.known_gateways) {
        (Some(pin), _) => Ok(Trust::Pin(*pin)),
        (None, Some(store)) => Ok(Trust::Tofu {
            store: store.clone(),
            accept: args.accept_fingerprint,
        }),
        (None, None) => Trust::tofu(args.accept_fingerprint).map_err(LoadError::Trust),
    }
}
