//! `softphone nat-check`: the home router's NAT type, from home (guide 5:
//! "The Home router must provide VoIP enabled NAT (no symmetric NAT)"), by
//! RFC 5780 NAT behaviour discovery against a STUN server with two
//! addresses (such as coturn with `--alt-listening-port`).

use std::process::ExitCode;

use clap::Args as ClapArgs;
use gateway::config::net::StunServer;
use shared::stun::Retransmission;

use super::usage;

/// Exit code of a symmetric NAT (Device@Home will not work).
pub const EXIT_SYMMETRIC_NAT: u8 = 5;

/// What the router is called in the report.
const HOME_ROUTER: &str = "home router";

/// `softphone nat-check` arguments.
#[derive(Debug, ClapArgs)]
pub struct NatCheckArgs {
    /// The STUN server, host[:port] (port 3478 if not given); it needs a
    /// second address for the mapping and filtering tests (RFC 5780).
    #[arg(long)]
    pub stun: String,
}

/// Prints the public address, mapping and filtering in words; exit 0 when
/// the NAT suits Device@Home, 5 on symmetric NAT, 1 when it cannot tell.
pub async fn run(args: NatCheckArgs) -> ExitCode {
    let server = match StunServer::parse(&args.stun) {
        Ok(server) => server,
        Err(reason) => {
            return usage(format!(
                "--stun \"{}\": not a STUN server host[:port]: {reason}",
                args.stun
            ));
        }
    };
    println!("NAT check of the {HOME_ROUTER} via STUN server {server}");
    let found = match gateway::stun::resolve(&server).await {
        Ok(address) => gateway::stun::nat_behaviour(address, Retransmission::DISCOVERY).await,
        Err(error) => Err(error),
    };
    let behaviour = match found {
        Ok(behaviour) => behaviour,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    for line in behaviour.report(HOME_ROUTER) {
        println!("{line}");
    }
    if behaviour.is_symmetric() {
        ExitCode::from(EXIT_SYMMETRIC_NAT)
    } else if behaviour.mapping.is_err() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
