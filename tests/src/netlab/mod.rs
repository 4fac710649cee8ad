//! The guide's Figure 1 in network namespaces, with real NAT (nftables),
//! the company router's port forwards, coturn as the STUN server on the
//! internet and an impaired path between the routers (netlab.md):
//!
//! ```text
//!  <p>home-lan          <p>home-rtr              <p>inet                <p>comp-rtr             <p>comp-lan
//!  eth0 192.168.178.20  lan0 192.168.178.1       br0 203.0.113.3, .4    wan0 203.0.113.10       eth0 10.10.0.2 (gateway)
//!  (phone, app at home) wan0 203.0.113.20 (NAT)  coturn :3478/:3479     lan0 10.10.0.1          10.10.0.20 (office phone)
//!                                                                                               10.10.0.30 (laptop in office)
//!                       delayer on wan0 out                             forwards 4070, 8802, RTP; delayer on wan0 out
//! ```
//!
//! Every name the lab creates starts with its prefix, and every interface
//! lives inside a lab namespace, so labs with different prefixes run side
//! by side and the root namespace never changes. A lab is torn down when
//! its [`Lab`] drops (a failing test unwinds through it); a test lab's
//! prefix holds the test process's id, so the next test run removes the
//! leftovers of a run that was killed ([`sweep_dead_test_labs`]).

pub mod command;
pub mod delay;
pub mod nat;
pub mod netns;
pub mod nfqueue;
pub mod office;

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use command::{run, run_in, run_in_with_input};
use delay::{DelayStats, Delayer};
pub use nat::HomeNat;
pub use netns::NsRuntime;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::impair::Impairment;

/// The company router's public address (the guide's 87.173.127.147).
pub const COMPANY_PUBLIC: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);
/// The gateway's address in the company LAN.
pub const GATEWAY_LAN: Ipv4Addr = Ipv4Addr::new(10, 10, 0, 2);
/// A second address of the gateway's host, for devices in the office (a
/// LAN phone, the app in the company WiFi).
pub const OFFICE_DEVICE: Ipv4Addr = Ipv4Addr::new(10, 10, 0, 20);
/// The laptop of the myPortal to go user when it is in the office.
pub const OFFICE_LAPTOP: Ipv4Addr = Ipv4Addr::new(10, 10, 0, 30);
/// The company LAN.
pub const COMPANY_LAN: &str = "10.10.0.0/24";
/// The home router's public address (the guide's 87.173.125.178).
pub const HOME_PUBLIC: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 20);
/// The home worker's PC.
pub const HOME_PC: Ipv4Addr = Ipv4Addr::new(192, 168, 178, 20);
/// The STUN server's two addresses (RFC 5780 needs two) and ports.
pub const STUN_PRIMARY: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 3);
pub const STUN_ALTERNATE: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 4);
pub const STUN_PORT: u16 = 3478;
pub const STUN_ALTERNATE_PORT: u16 = 3479;
/// The company router's HFA forward (public port → the gateway's 4060).
pub const HFA_PUBLIC_PORT: u16 = 4070;
pub const HFA_PORT: u16 = 4060;
/// The myPortal to go port, forwarded as is.
pub const PORTAL_PORT: u16 = 8802;
/// The X models' RTP range, forwarded 1:1.
pub const RTP_RANGE: (u16, u16) = (30274, 30529);

/// A machine of the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Host {
    /// The gateway's host (LAN2 of the system) and the office devices.
    CompanyLan,
    CompanyRouter,
    /// The internet between the routers, with the STUN server.
    Internet,
    HomeRouter,
    /// The home worker's PC.
    HomeLan,
}

impl Host {
    pub const ALL: [Self; 5] = [
        Self::CompanyLan,
        Self::CompanyRouter,
        Self::Internet,
        Self::HomeRouter,
        Self::HomeLan,
    ];

    fn suffix(self) -> &'static str {
        match self {
            Self::CompanyLan => "comp-lan",
            Self::CompanyRouter => "comp-rtr",
            Self::Internet => "inet",
            Self::HomeRouter => "home-rtr",
            Self::HomeLan => "home-lan",
        }
    }
}

/// Why a lab could not be built or run.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A system tool failed (not root? a package missing?).
    #[error("`{command}` failed: {output}")]
    Tool { command: String, output: String },
    /// A thread could not enter or run in a namespace.
    #[error("namespace {ns}: {reason}")]
    Namespace { ns: String, reason: String },
    /// The NFQUEUE delayer could not start or failed.
    #[error("delayer in {ns}: {reason}")]
    Delayer { ns: String, reason: String },
    /// The STUN server did not come up.
    #[error("coturn: {0}")]
    Coturn(String),
    /// A prefix the lab cannot use.
    #[error("lab prefix {0:?}: lower-case letters and digits ending in '-', at most 16 characters")]
    BadPrefix(String),
}

/// A running lab.
pub struct Lab {
    prefix: String,
    home_nat: HomeNat,
    coturn: Option<Child>,
    delayers: Vec<Delayer>,
}

/// Test labs' prefixes: `nlt<pid>n<counter>-`.
const TEST_PREFIX: &str = "nlt";

impl Lab {
    /// A lab for a test, with a prefix of its own; first removes what
    /// killed test runs left behind.
    pub fn start(home_nat: HomeNat) -> Result<Self, LabError> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        sweep_dead_test_labs()?;
        let prefix = format!(
            "{TEST_PREFIX}{}n{}-",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        Self::up(&prefix, home_nat)
    }

    /// The lab named `prefix` (e.g. `lab-`); a lab of that name already
    /// up is torn down first.
    pub fn up(prefix: &str, home_nat: HomeNat) -> Result<Self, LabError> {
        let valid = prefix.len() <= 16
            && prefix.ends_with('-')
            && prefix[..prefix.len() - 1]
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && prefix.len() > 1;
        if !valid {
            return Err(LabError::BadPrefix(prefix.to_owned()));
        }
        teardown(prefix)?;
        let mut lab = Self {
            prefix: prefix.to_owned(),
            home_nat,
            coturn: None,
            delayers: Vec::new(),
        };
        lab.build()?;
        Ok(lab)
    }

    fn build(&mut self) -> Result<(), LabError> {
        for host in Host::ALL {
            run("ip", &["netns", "add", &self.ns(host)])?;
            self.ip(host, "link set lo up")?;
        }
        let (comp_rtr, inet, home_rtr) = (
            self.ns(Host::CompanyRouter),
            self.ns(Host::Internet),
            self.ns(Host::HomeRouter),
        );
        // Each veth is created inside a lab namespace with its peer sent
        // straight to another: no name ever appears in the root namespace.
        self.ip(
            Host::CompanyLan,
            &format!("link add eth0 type veth peer name lan0 netns {comp_rtr}"),
        )?;
        self.ip(
            Host::CompanyRouter,
            &format!("link add wan0 type veth peer name comp netns {inet}"),
        )?;
        self.ip(
            Host::HomeRouter,
            &format!("link add wan0 type veth peer name home netns {inet}"),
        )?;
        self.ip(
            Host::HomeLan,
            &format!("link add eth0 type veth peer name lan0 netns {home_rtr}"),
        )?;
        self.ip(Host::Internet, "link add br0 type bridge")?;
        for port in ["comp", "home"] {
            self.ip(Host::Internet, &format!("link set {port} master br0"))?;
            self.ip(Host::Internet, &format!("link set {port} up"))?;
        }
        let addresses = [
            (
                Host::CompanyLan,
                "eth0",
                vec!["10.10.0.2/24", "10.10.0.20/24", "10.10.0.30/24"],
            ),
            (Host::CompanyRouter, "lan0", vec!["10.10.0.1/24"]),
            (Host::CompanyRouter, "wan0", vec!["203.0.113.10/24"]),
            (
                Host::Internet,
                "br0",
                vec!["203.0.113.3/24", "203.0.113.4/24"],
            ),
            (Host::HomeRouter, "wan0", vec!["203.0.113.20/24"]),
            (Host::HomeRouter, "lan0", vec!["192.168.178.1/24"]),
            (Host::HomeLan, "eth0", vec!["192.168.178.20/24"]),
        ];
        for (host, interface, prefixes) in addresses {
            for address in prefixes {
                self.ip(host, &format!("addr add {address} dev {interface}"))?;
            }
            self.ip(host, &format!("link set {interface} up"))?;
        }
        self.ip(Host::CompanyLan, "route add default via 10.10.0.1")?;
        self.ip(Host::HomeLan, "route add default via 192.168.178.1")?;
        for router in [&comp_rtr, &home_rtr] {
            run_in(router, "sysctl", &["-qw", "net.ipv4.ip_forward=1"])?;
            run_in_with_input(router, "nft", &["-f", "-"], nat::FORWARD_FILTER)?;
        }
        let company = nat::company_nat(
            &[COMPANY_PUBLIC.to_string()],
            &GATEWAY_LAN.to_string(),
            RTP_RANGE,
        );
        run_in_with_input(&comp_rtr, "nft", &["-f", "-"], &company)?;
        self.set_home_nat(self.home_nat)?;
        self.start_coturn()
    }

    /// `ip -n <ns of host> <args>`.
    fn ip(&self, host: Host, args: &str) -> Result<String, LabError> {
        let ns = self.ns(host);
        let mut full = vec!["-n", ns.as_str()];
        full.extend(args.split_whitespace());
        run("ip", &full)
    }

    /// Where coturn keeps its pid and log file.
    fn run_dir(&self) -> PathBuf {
        run_dir(&self.prefix)
    }

    fn start_coturn(&mut self) -> Result<(), LabError> {
        let dir = self.run_dir();
        std::fs::create_dir_all(&dir).map_err(|error| {
            LabError::Coturn(format!("cannot create {}: {error}", dir.display()))
        })?;
        let (pid, log) = (dir.join("turnserver.pid"), dir.join("turnserver.log"));
        let inet = self.ns(Host::Internet);
        let child = Command::new("ip")
            .args(["netns", "exec", &inet, "turnserver", "-n", "--stun-only"])
            .args(["--no-cli", "--no-tls", "--no-dtls"])
            .args(["--listening-ip", &STUN_PRIMARY.to_string()])
            .args(["--listening-ip", &STUN_ALTERNATE.to_string()])
            .args(["--listening-port", &STUN_PORT.to_string()])
            .args(["--alt-listening-port", &STUN_ALTERNATE_PORT.to_string()])
            .arg("--pidfile")
            .arg(&pid)
            .arg("--log-file")
            .arg(&log)
            .args(["--simple-log", "--no-stdout-log"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| {
                LabError::Coturn(format!("cannot start turnserver (make deps): {error}"))
            })?;
        self.coturn = Some(child);
        // Ready when its four UDP sockets (two addresses, two ports) are
        // bound; a bounded wait, never a fixed sleep.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let sockets = run_in(&inet, "ss", &["-Hlun"])?;
            let mut bound: Vec<&str> = sockets
                .lines()
                .filter_map(|line| line.split_whitespace().nth(3))
                .filter(|local| {
                    local.ends_with(&format!(":{STUN_PORT}"))
                        || local.ends_with(&format!(":{STUN_ALTERNATE_PORT}"))
                })
                .collect();
            bound.sort_unstable();
            bound.dedup();
            let bound = bound.len();
            if bound >= 4 {
                return Ok(());
            }
            if let Some(Ok(Some(status))) = self.coturn.as_mut().map(Child::try_wait) {
                let tail = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(LabError::Coturn(format!("exited ({status}): {tail}")));
            }
            if Instant::now() > deadline {
                return Err(LabError::Coturn(format!(
                    "not listening after 10 s ({bound} of 4 sockets)"
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The lab's prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The name of `host`'s namespace.
    pub fn ns(&self, host: Host) -> String {
        format!("{}{}", self.prefix, host.suffix())
    }

    /// The home router's NAT mode.
    pub fn home_nat(&self) -> HomeNat {
        self.home_nat
    }

    /// A runtime for this process's code inside `host`.
    pub fn runtime(&self, host: Host) -> Result<NsRuntime, LabError> {
        NsRuntime::start(&self.ns(host))
    }

    /// Runs `program args` inside `host`.
    pub fn run_in(&self, host: Host, program: &str, args: &[&str]) -> Result<String, LabError> {
        run_in(&self.ns(host), program, args)
    }

    /// Switches the home router to `mode`: the NAT table is replaced in
    /// one transaction and the connection tracking table flushed (old
    /// flows would keep their old mappings).
    pub fn set_home_nat(&mut self, mode: HomeNat) -> Result<(), LabError> {
        let home_rtr = self.ns(Host::HomeRouter);
        run_in_with_input(&home_rtr, "nft", &["-f", "-"], &nat::home_nat(mode))?;
        run_in(&home_rtr, "conntrack", &["-F"])?;
        self.home_nat = mode;
        Ok(())
    }

    /// The company's internet line gets a new public address (as after a
    /// reconnect, which dynamic DNS then follows): what leaves the company
    /// goes out as `new`, and the forwards answer on `new` as well as on
    /// the old address, so that phones registered through it stay.
    pub fn renumber_company(&self, new: Ipv4Addr) -> Result<(), LabError> {
        self.ip(Host::CompanyRouter, &format!("addr add {new}/24 dev wan0"))?;
        let company = nat::company_nat(
            &[new.to_string(), COMPANY_PUBLIC.to_string()],
            &GATEWAY_LAN.to_string(),
            RTP_RANGE,
        );
        run_in_with_input(&self.ns(Host::CompanyRouter), "nft", &["-f", "-"], &company)?;
        Ok(())
    }

    /// Impairs the internet both ways: what leaves either router's WAN
    /// port is delayed, jittered and dropped as `impairment` says (each
    /// router's delayer on its own seed derived from the given one).
    pub fn impair(&mut self, impairment: Impairment) -> Result<(), LabError> {
        self.stop_impairment()?;
        for (offset, router) in [Host::HomeRouter, Host::CompanyRouter]
            .into_iter()
            .enumerate()
        {
            let ns = self.ns(router);
            let seeded = Impairment {
                seed: impairment.seed.wrapping_add(offset as u64),
                ..impairment
            };
            // The consumer binds first, then packets are queued to it.
            self.delayers.push(Delayer::start(&ns, seeded)?);
            run_in(&ns, "iptables-nft", &queue_rule("-A"))?;
        }
        Ok(())
    }

    /// Ends the impairment; what each delayer did (home router first).
    pub fn stop_impairment(&mut self) -> Result<Vec<DelayStats>, LabError> {
        let mut stats = Vec::new();
        if self.delayers.is_empty() {
            return Ok(stats);
        }
        for router in [Host::HomeRouter, Host::CompanyRouter] {
            run_in(&self.ns(router), "iptables-nft", &queue_rule("-D"))?;
        }
        for delayer in self.delayers.drain(..) {
            stats.push(delayer.stop()?);
        }
        Ok(stats)
    }

    /// Leaves the lab up when this value goes (for `make lab-up`): only
    /// [`teardown`] of its prefix removes it then.
    pub fn keep(mut self) {
        self.coturn = None;
        self.prefix.clear();
    }

    /// Tears the lab down, reporting failures (dropping it does the same
    /// silently).
    pub fn down(mut self) -> Result<(), LabError> {
        self.close()
    }

    fn close(&mut self) -> Result<(), LabError> {
        if self.prefix.is_empty() {
            return Ok(());
        }
        let stopped = self
            .delayers
            .drain(..)
            .map(Delayer::stop)
            .collect::<Vec<_>>();
        if let Some(mut coturn) = self.coturn.take() {
            let _ = coturn.kill();
            let _ = coturn.wait();
        }
        let prefix = std::mem::take(&mut self.prefix);
        teardown(&prefix)?;
        stopped.into_iter().try_for_each(|result| result.map(drop))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Err(error) = self.close() {
            eprintln!("netlab: tearing down failed: {error}");
        }
    }
}

/// The `iptables-nft` arguments that add (`-A`) or delete (`-D`) the
/// mangle rule queueing everything that leaves `wan0` to the delayer
/// (`--queue-bypass`: with no delayer bound, packets pass).
pub fn queue_rule(action: &str) -> Vec<&str> {
    vec![
        "-t",
        "mangle",
        action,
        "POSTROUTING",
        "-o",
        "wan0",
        "-j",
        "NFQUEUE",
        "--queue-num",
        "0",
        "--queue-bypass",
    ]
}

/// The lab's own files (coturn's pid and log, `netlab up`'s configuration
/// for the gateway), removed with the lab.
pub fn run_dir(prefix: &str) -> PathBuf {
    std::env::temp_dir().join(format!("netlab-{prefix}run"))
}

/// The lab namespaces whose names start with `prefix`.
pub fn namespaces(prefix: &str) -> Result<Vec<String>, LabError> {
    Ok(run("ip", &["netns", "list"])?
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| name.starts_with(prefix))
        .map(str::to_owned)
        .collect())
}

/// The processes (not threads) running in namespace `ns`.
pub fn processes(ns: &str) -> Result<Vec<u32>, LabError> {
    Ok(run("ip", &["netns", "pids", ns])?
        .split_whitespace()
        .filter_map(|pid| pid.parse().ok())
        .filter(|pid| *pid != std::process::id())
        .collect())
}

/// Removes every namespace of the lab `prefix` and kills what runs in
/// them (waiting, bounded, until they are gone); returns how many
/// namespaces there were. Another process sweeping the same leftovers at
/// the same time is no failure: what matters is that none is left.
pub fn teardown(prefix: &str) -> Result<usize, LabError> {
    let found = namespaces(prefix)?;
    let mut killed = Vec::new();
    for ns in &found {
        killed.extend(processes(ns).unwrap_or_default());
    }
    if !killed.is_empty() {
        for pid in &killed {
            // One may have ended meanwhile: failing to kill it is fine.
            if let Ok(pid) = i32::try_from(*pid) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while killed.iter().any(|pid| alive(*pid)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let mut failures = Vec::new();
    for ns in &found {
        if let Err(error) = run("ip", &["netns", "del", ns]) {
            failures.push(error);
        }
    }
    let _ = std::fs::remove_dir_all(run_dir(prefix));
    match failures.into_iter().next() {
        Some(error) if !namespaces(prefix)?.is_empty() => Err(error),
        _ => Ok(found.len()),
    }
}

/// Whether process `pid` exists and is not a zombie (a killed process
/// whose parent has not collected it yet).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'))
    })
}

/// Tears down the test labs of test processes that no longer run (killed
/// or interrupted before their labs dropped).
pub fn sweep_dead_test_labs() -> Result<(), LabError> {
    let mut dead = Vec::new();
    for ns in namespaces(TEST_PREFIX)? {
        let Some((prefix, _)) = ns.split_once('-') else {
            continue;
        };
        let owner = prefix[TEST_PREFIX.len()..]
            .split_once('n')
            .and_then(|(pid, _)| pid.parse::<u32>().ok());
        if owner.is_some_and(|pid| !alive(pid)) {
            let prefix = format!("{prefix}-");
            if !dead.contains(&prefix) {
                dead.push(prefix);
            }
        }
    }
    for prefix in dead {
        teardown(&prefix)?;
    }
    Ok(())
}
