//! `netlab`: the home-to-company lab for QA and demos (`make lab-up`,
//! `make lab-down`), the same topology the lab tests build
//! (`e2e_tests::netlab`). Needs root.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use e2e_tests::impair::Impairment;
use e2e_tests::netlab::delay::{self, QUEUE};
use e2e_tests::netlab::netns::enter;
use e2e_tests::netlab::nfqueue::Queue;
use e2e_tests::netlab::{
    COMPANY_PUBLIC, GATEWAY_LAN, HFA_PORT, HFA_PUBLIC_PORT, HOME_PC, HomeNat, Host, Lab,
    OFFICE_DEVICE, PORTAL_PORT, STUN_ALTERNATE, STUN_PORT, STUN_PRIMARY, namespaces, queue_rule,
    run_dir, teardown,
};
use e2e_tests::{ANNA, BEN, lab_office};

#[derive(Debug, Parser)]
#[command(
    name = "netlab",
    about = "The guide's Figure 1 in network namespaces (root)"
)]
struct Cli {
    #[command(subcommand)]
    command: LabCommand,
}

#[derive(Debug, Subcommand)]
enum LabCommand {
    /// Bring the lab up (a lab of the same prefix is torn down first) and
    /// print how to run the gateway and softphones in it.
    Up {
        /// Prefix of every namespace of this lab.
        #[arg(long, default_value = "lab-")]
        prefix: String,
        /// The home router's NAT: endpoint-independent, symmetric or
        /// full-cone.
        #[arg(long, default_value = "endpoint-independent", value_parser = home_nat)]
        home_nat: HomeNat,
        /// Impair the internet both ways: one-way delay in ms, plus up to
        /// this much more jitter in ms, and this share of packets lost,
        /// e.g. 10,60,0.05 (40 ± 30 ms, 5 %).
        #[arg(long, value_parser = impairment)]
        impair: Option<Impairment>,
    },
    /// Tear the lab down: its processes, rules and namespaces.
    Down {
        #[arg(long, default_value = "lab-")]
        prefix: String,
    },
    /// (Internal) serve a router's NFQUEUE until killed; `up --impair`
    /// starts one in each router.
    Delay {
        /// The router's namespace.
        #[arg(long)]
        ns: String,
        #[arg(long, value_parser = impairment)]
        impair: Impairment,
    },
}

fn home_nat(name: &str) -> Result<HomeNat, String> {
    HomeNat::from_name(name)
        .ok_or_else(|| format!("{name:?}: one of endpoint-independent, symmetric, full-cone"))
}

fn impairment(text: &str) -> Result<Impairment, String> {
    let parts: Vec<&str> = text.split(',').collect();
    let [delay, jitter, loss] = parts[..] else {
        return Err(format!("{text:?}: DELAY_MS,JITTER_MS,LOSS like 10,60,0.05"));
    };
    let millis = |part: &str| {
        part.parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| format!("{part:?} is not a number of milliseconds"))
    };
    let loss: f64 = loss
        .parse()
        .ok()
        .filter(|loss| (0.0..=1.0).contains(loss))
        .ok_or_else(|| format!("loss {loss:?}: a share between 0 and 1"))?;
    Ok(Impairment {
        loss,
        delay: millis(delay)?,
        jitter: millis(jitter)?,
        seed: 2026,
    })
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        LabCommand::Up {
            prefix,
            home_nat,
            impair,
        } => up(&prefix, home_nat, impair),
        LabCommand::Down { prefix } => down(&prefix),
        LabCommand::Delay { ns, impair } => serve(&ns, impair).inspect_err(|error| {
            // `up` reads standard output (standard error is closed).
            println!("{error}");
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("netlab: {error}");
            ExitCode::FAILURE
        }
    }
}

fn up(prefix: &str, home_nat: HomeNat, impair: Option<Impairment>) -> Result<(), String> {
    let started = Instant::now();
    let lab = Lab::up(prefix, home_nat).map_err(|error| error.to_string())?;
    if let Some(impairment) = impair {
        let me = std::env::current_exe().map_err(|error| error.to_string())?;
        for router in [Host::HomeRouter, Host::CompanyRouter] {
            start_delayer(&me, &lab.ns(router), impairment)?;
            lab.run_in(router, "iptables-nft", &queue_rule("-A"))
                .map_err(|error| error.to_string())?;
        }
    }
    let files =
        write_files(prefix).map_err(|error| format!("cannot write the lab's files: {error}"))?;
    let took = started.elapsed();
    print_usage(&lab, &files, impair, took);
    lab.keep();
    Ok(())
}

/// Starts `netlab delay` in `ns`, detached (it runs until `down`).
fn start_delayer(me: &Path, ns: &str, impairment: Impairment) -> Result<(), String> {
    let spec = format!(
        "{},{},{}",
        impairment.delay.as_millis(),
        impairment.jitter.as_millis(),
        impairment.loss
    );
    let mut child = Command::new(me)
        .args(["delay", "--ns", ns, "--impair", &spec])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // It outlives `up`: it must not hold `up`'s own output open.
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| format!("cannot start the delayer: {error}"))?;
    // Its one line: that its queue is bound, or why not.
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        let _ = BufReader::new(stdout).read_line(&mut line);
    }
    if line.trim() == BOUND {
        Ok(())
    } else {
        let _ = child.wait();
        Err(format!(
            "the delayer in {ns} did not start: {}",
            line.trim()
        ))
    }
}

/// What `netlab delay` prints once its queue is bound.
const BOUND: &str = "bound";

fn serve(ns: &str, impairment: Impairment) -> Result<(), String> {
    enter(ns).map_err(|error| error.to_string())?;
    let mut queue = Queue::bind(QUEUE).map_err(|error| error.to_string())?;
    println!("{BOUND}");
    let never = AtomicBool::new(false);
    delay::serve(&mut queue, impairment, &never).map_err(|error| error.to_string())?;
    Ok(())
}

struct LabFiles {
    config: PathBuf,
    anna: PathBuf,
    ben: PathBuf,
}

/// The gateway's configuration and the two phones' password files.
fn write_files(prefix: &str) -> std::io::Result<LabFiles> {
    let dir = run_dir(prefix);
    std::fs::create_dir_all(&dir)?;
    let data = dir.join("gateway-data");
    let config = dir.join("gateway.toml");
    std::fs::write(
        &config,
        lab_office(Some(COMPANY_PUBLIC.into()))
            .data_dir(&data)
            .toml(),
    )?;
    let (anna, ben) = (dir.join("201.password"), dir.join("202.password"));
    std::fs::write(&anna, ANNA.1)?;
    std::fs::write(&ben, BEN.1)?;
    Ok(LabFiles { config, anna, ben })
}

fn print_usage(lab: &Lab, files: &LabFiles, impair: Option<Impairment>, took: Duration) {
    let bin = std::env::current_exe()
        .ok()
        .and_then(|me| me.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let (gateway, softphone) = (bin.join("gateway"), bin.join("softphone"));
    let (comp, home) = (lab.ns(Host::CompanyLan), lab.ns(Host::HomeLan));
    println!(
        "Lab {:?} up in {:.2} s: home router {} NAT; STUN {STUN_PRIMARY}:{STUN_PORT} and \
         {STUN_ALTERNATE}; company router {COMPANY_PUBLIC} forwards {HFA_PUBLIC_PORT} -> \
         {GATEWAY_LAN}:{HFA_PORT}, {PORTAL_PORT}, UDP 30274-30529.",
        lab.prefix(),
        took.as_secs_f64(),
        lab.home_nat()
    );
    if let Some(impairment) = impair {
        println!(
            "Internet impaired both ways: {} ms + up to {} ms jitter, {} % loss.",
            impairment.delay.as_millis(),
            impairment.jitter.as_millis(),
            impairment.loss * 100.0
        );
    }
    println!(
        "Namespaces: {}",
        namespaces(lab.prefix()).unwrap_or_default().join(" ")
    );
    println!();
    println!("The gateway in the company LAN:");
    println!(
        "  ip netns exec {comp} {} run --config {}",
        gateway.display(),
        files.config.display()
    );
    println!("A softphone at home, 201, through the company router's forward:");
    println!(
        "  ip netns exec {home} {} hfa answer --gateway {COMPANY_PUBLIC}:{HFA_PUBLIC_PORT} \
         --number 201 --password-file {} --bind {HOME_PC} --auto --no-audio",
        softphone.display(),
        files.anna.display()
    );
    println!("A softphone in the office, 202, calling 201:");
    println!(
        "  ip netns exec {comp} {} hfa call 201 --gateway {GATEWAY_LAN}:{HFA_PORT} \
         --number 202 --password-file {} --bind {OFFICE_DEVICE} --no-audio",
        softphone.display(),
        files.ben.display()
    );
    println!(
        "NAT check from home: ip netns exec {home} turnutils_natdiscovery -m -f {STUN_PRIMARY}"
    );
    println!(
        "Tear down: make lab-down (netlab down --prefix {})",
        lab.prefix()
    );
}

fn down(prefix: &str) -> Result<(), String> {
    let removed = teardown(prefix).map_err(|error| error.to_string())?;
    let left = namespaces(prefix).map_err(|error| error.to_string())?;
    if !left.is_empty() {
        return Err(format!("namespaces left: {}", left.join(" ")));
    }
    println!("Lab {prefix:?} down: {removed} namespaces removed with their processes and rules.");
    Ok(())
}
