//! The benchmarks' office: a gateway configuration with N HFA phones, and a
//! temporary directory (removed on drop) to write it to.
//!
//! Every client is enabled for internet registration, as Device@Home phones
//! are, so the gateway applies its strict rule to every password (strong,
//! individual). The company LAN is 127.0.0.0/8, so the phones, connecting
//! from loopback, all register from the LAN.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use gateway::config::secret::generate_password;
use gateway::testing::{Office, Subscriber};
use rand::SeedableRng;
use rand::rngs::StdRng;
use shared::secret::Secret;
use softphone::hfa::{AccountError, GatewayAddress, HfaAccount};

/// The first phone's number; phone `i` is `FIRST_NUMBER + i`.
const FIRST_NUMBER: usize = 10_000;

/// Passwords are drawn from one RNG with this seed: the same on every run.
const PASSWORD_SEED: u64 = 0x4846_415f_5354_4f52; // "HFA_STOR"

/// One configured phone.
#[derive(Debug, Clone)]
pub struct Phone {
    pub number: String,
    /// The client's name in the configuration, e.g. `Phone 0`.
    pub name: String,
    pub password: Secret,
}

impl Phone {
    /// The top row of its idle screen: number and name, e.g.
    /// `10000 Phone 0`.
    pub fn idle_label(&self) -> String {
        format!("{} {}", self.number, self.name)
    }

    /// The softphone account of this phone, registering at `gateway`.
    pub fn account(&self, gateway: SocketAddr) -> Result<HfaAccount, AccountError> {
        let address = GatewayAddress {
            host: gateway.ip().to_string(),
            port: gateway.port(),
        };
        HfaAccount::new(address, &self.number, self.password.clone())
    }
}

/// `count` phones with deterministic, strong, individual passwords (the
/// gateway's own generator, which never puts the number in the password).
pub fn phones(count: usize) -> Vec<Phone> {
    let mut rng = StdRng::seed_from_u64(PASSWORD_SEED);
    (0..count)
        .map(|index| {
            let number = (FIRST_NUMBER + index).to_string();
            let password = generate_password(&mut rng, &number);
            let name = format!("Phone {index}");
            Phone {
                number,
                name,
                password,
            }
        })
        .collect()
}

/// The gateway configuration (TOML) for `phones`, listening for HFA on
/// 127.0.0.1:`hfa_port` and for the portal's HTTPS on `https_port` (not the
/// default 8802, which another gateway on the machine may hold).
pub fn config_toml(phones: &[Phone], hfa_port: u16, https_port: u16) -> String {
    Office::s()
        .listen_address("127.0.0.1")
        .public_address("127.0.0.1")
        .company_lan(&["127.0.0.0/8"])
        .hfa_port(hfa_port)
        .https_port(https_port)
        .upstream_kbps(10_000)
        .stun("127.0.0.1:3478")
        .subscribers(phones.iter().map(|phone| {
            Subscriber::hfa(&phone.number, &phone.name, "OpenStage 60")
                .licensed()
                .at_home()
                .password(phone.password.expose())
        }))
        .toml()
}

/// Two distinct TCP ports free on 127.0.0.1 right now (HFA and HTTPS):
/// both bound at once, so they differ, then released.
pub fn free_ports() -> std::io::Result<(u16, u16)> {
    let first = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let second = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok((first.local_addr()?.port(), second.local_addr()?.port()))
}

/// A fresh directory under the system's temp dir, removed (with its
/// contents) on drop.
pub use tempfile::TempDir;

/// A temporary directory for `tag`, removed on drop.
pub fn temp_dir(tag: &str) -> std::io::Result<TempDir> {
    tempfile::Builder::new()
        .prefix(&format!("bench-{tag}-"))
        .tempdir()
}
