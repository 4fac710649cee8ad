//! The network lab itself (`e2e_tests::netlab`, `make lab-up`): the company
//! router forwards exactly what the guide asks, the home router translates,
//! the internet delays and drops as told, two labs run side by side, and a
//! lab leaves nothing behind: not when it goes down, not when its test
//! panics, not when its test process was killed. Needs root; a lab that
//! cannot come up fails the test.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Command;
use std::time::{Duration, Instant};

use e2e_tests::PATIENCE;
use e2e_tests::impair::Impairment;
use e2e_tests::netlab::{
    COMPANY_PUBLIC, HFA_PORT, HFA_PUBLIC_PORT, HOME_PC, HOME_PUBLIC, HomeNat, Host, Lab,
    PORTAL_PORT, RTP_RANGE, alive, namespaces, processes, run_dir,
};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpSocket, UdpSocket};

fn lab(mode: HomeNat) -> Lab {
    Lab::start(mode).unwrap_or_else(|error| panic!("the lab must come up (as root): {error}"))
}

/// What a lab must never change: the root namespace's links, routes and
/// rules.
fn root_state() -> String {
    let mut state = String::new();
    for (program, args) in [
        ("ip", &["-o", "link", "show"][..]),
        ("ip", &["-o", "addr", "show"][..]),
        ("ip", &["route", "show", "table", "all"][..]),
        ("nft", &["list", "ruleset"][..]),
    ] {
        let output = Command::new(program)
            .args(args)
            .output()
            .expect("run ip/nft in the root namespace");
        state.push_str(&String::from_utf8_lossy(&output.stdout));
    }
    state
}

/// The source address a TCP server in the company LAN, listening on
/// `listen_port`, sees when the home PC connects to `port` of the
/// company's public address.
async fn connect_through(lab: &Lab, port: u16, listen_port: u16) -> SocketAddr {
    let company = lab.runtime(Host::CompanyLan).expect("company runtime");
    let home = lab.runtime(Host::HomeLan).expect("home runtime");
    let listener = company
        .run(async move {
            TcpListener::bind((Ipv4Addr::UNSPECIFIED, listen_port))
                .await
                .expect("listen in the company LAN")
        })
        .await;
    let accept = company.run(async move {
        let (mut stream, peer) = listener.accept().await.expect("accept");
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
        peer
    });
    let connect = home.run(async move {
        let socket = TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::from((HOME_PC, 0)))
            .expect("bind the home PC's address");
        let stream = socket
            .connect(SocketAddr::from((COMPANY_PUBLIC, port)))
            .await
            .expect("connect through the company router");
        drop(stream);
    });
    let (peer, ()) = tokio::time::timeout(PATIENCE, async { tokio::join!(accept, connect) })
        .await
        .expect("the gateway host accepts");
    peer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_company_router_forwards_what_the_guide_asks_and_the_lab_leaves_nothing() {
    let before = root_state();
    let started = Instant::now();
    let lab = lab(HomeNat::EndpointIndependent);
    eprintln!("lab up in {:.2} s", started.elapsed().as_secs_f64());
    let prefix = lab.prefix().to_owned();

    // TCP 4070 → the gateway's 4060, TCP 8802 → 8802; the gateway sees
    // the home router's public address (NAT, no VPN).
    let hfa = connect_through(&lab, HFA_PUBLIC_PORT, HFA_PORT).await;
    assert_eq!(hfa.ip(), HOME_PUBLIC, "{hfa}");
    let portal = connect_through(&lab, PORTAL_PORT, PORTAL_PORT).await;
    assert_eq!(portal.ip(), HOME_PUBLIC, "{portal}");

    // 4060 itself is not forwarded: the router refuses it.
    let home = lab.runtime(Host::HomeLan).expect("home runtime");
    let refused = home
        .run(async {
            tokio::net::TcpStream::connect((COMPANY_PUBLIC, HFA_PORT))
                .await
                .map(drop)
        })
        .await;
    assert!(refused.is_err(), "TCP {HFA_PORT} on the public address");

    // UDP: the RTP range 1:1 (port kept), nothing above it. Sent in this
    // order on one path, the datagram to the first port past the range
    // would arrive before the one to the range's last port.
    let company = lab.runtime(Host::CompanyLan).expect("company runtime");
    let (inside, outside) = company
        .run(async {
            (
                UdpSocket::bind((Ipv4Addr::UNSPECIFIED, RTP_RANGE.1))
                    .await
                    .expect("bind the range's last port"),
                UdpSocket::bind((Ipv4Addr::UNSPECIFIED, RTP_RANGE.1 + 1))
                    .await
                    .expect("bind the port after the range"),
            )
        })
        .await;
    home.run(async {
        let socket = UdpSocket::bind((HOME_PC, 0)).await.expect("bind at home");
        for port in [RTP_RANGE.1 + 1, RTP_RANGE.1] {
            socket
                .send_to(&port.to_be_bytes(), (COMPANY_PUBLIC, port))
                .await
                .expect("send");
        }
    })
    .await;
    let mut buffer = [0u8; 16];
    let (_, from) = tokio::time::timeout(PATIENCE, inside.recv_from(&mut buffer))
        .await
        .expect("the range's last port is forwarded")
        .expect("receive");
    assert_eq!(from.ip(), HOME_PUBLIC);
    assert!(
        outside.try_recv_from(&mut buffer).is_err(),
        "the port after the range is not forwarded"
    );

    // Down: no namespace, no process, the root namespace as it was.
    let coturn: Vec<u32> = processes(&lab.ns(Host::Internet)).expect("pids");
    assert_eq!(coturn.len(), 1, "coturn runs in the internet: {coturn:?}");
    drop((inside, outside, home, company));
    let started = Instant::now();
    lab.down().expect("the lab goes down");
    eprintln!("lab down in {:.2} s", started.elapsed().as_secs_f64());
    assert_eq!(
        namespaces(&prefix).expect("netns list"),
        Vec::<String>::new()
    );
    assert!(!alive(coturn[0]), "coturn is gone");
    assert_eq!(root_state(), before, "the root namespace is unchanged");
}

/// `netlab up` (what `make lab-up` runs) with an impaired internet, then
/// `netlab down` (`make lab-down`): nothing stays behind.
#[test]
fn lab_up_and_lab_down_leave_no_namespace_process_or_rule() {
    let before = root_state();
    let prefix = format!("nlc{}-", std::process::id());
    let netlab = env!("CARGO_BIN_EXE_netlab");
    let up = Command::new(netlab)
        .args(["up", "--prefix", &prefix, "--impair", "10,60,0.05"])
        .output()
        .expect("run netlab up");
    let printed = String::from_utf8_lossy(&up.stdout);
    eprintln!("{printed}{}", String::from_utf8_lossy(&up.stderr));
    assert!(up.status.success(), "netlab up failed");
    assert!(printed.contains("run --config"), "how to run the gateway");
    assert!(
        printed.contains("hfa answer --gateway 203.0.113.10:4070"),
        "a phone at home"
    );
    let names = namespaces(&prefix).expect("netns list");
    assert_eq!(names.len(), 5, "{names:?}");
    let running: Vec<u32> = names
        .iter()
        .flat_map(|ns| processes(ns).expect("pids"))
        .collect();
    assert_eq!(
        running.len(),
        3,
        "coturn and a delayer per router: {running:?}"
    );
    let rules = Command::new("ip")
        .args([
            "netns",
            "exec",
            &format!("{prefix}home-rtr"),
            "iptables-nft",
            "-t",
            "mangle",
            "-S",
        ])
        .output()
        .expect("list the home router's mangle rules");
    assert!(String::from_utf8_lossy(&rules.stdout).contains("NFQUEUE"));

    let down = Command::new(netlab)
        .args(["down", "--prefix", &prefix])
        .output()
        .expect("run netlab down");
    eprintln!("{}", String::from_utf8_lossy(&down.stdout));
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    assert_eq!(
        namespaces(&prefix).expect("netns list"),
        Vec::<String>::new()
    );
    assert!(!run_dir(&prefix).exists(), "its files are gone");
    for pid in running {
        assert!(!alive(pid), "process {pid} still runs");
    }
    assert_eq!(root_state(), before, "the root namespace is unchanged");
}

/// A lab whose test panics goes down as the panic unwinds; the lab of a
/// test process that was killed goes down when the next test lab starts.
#[test]
fn labs_go_down_after_a_panic_and_after_a_killed_run() {
    let mut prefix = String::new();
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let lab = lab(HomeNat::Symmetric);
        prefix = lab.prefix().to_owned();
        panic!("a failing lab test");
    }));
    assert!(unwound.is_err());
    assert!(!prefix.is_empty());
    assert_eq!(
        namespaces(&prefix).expect("netns list"),
        Vec::<String>::new()
    );

    // A killed run: a process brings a test lab up under its own pid (the
    // shell's, kept by exec) and ends without tearing it down. While it
    // ran, no sweep touched its lab; now its lab is a leftover.
    let up = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "exec {} up --prefix nlt$$n0- | grep -o 'Lab \"nlt[0-9]*n0-\"'",
            env!("CARGO_BIN_EXE_netlab")
        ))
        .output()
        .expect("run netlab up");
    let said = String::from_utf8_lossy(&up.stdout);
    let leftover = said
        .trim()
        .trim_start_matches("Lab \"")
        .trim_end_matches('"')
        .to_owned();
    assert!(
        leftover.starts_with("nlt"),
        "netlab up: {said}{}",
        String::from_utf8_lossy(&up.stderr)
    );
    // (Another test's lab may sweep it first: either way it must go.)
    let coturn = processes(&format!("{leftover}inet")).unwrap_or_default();

    let next = lab(HomeNat::EndpointIndependent);
    assert_eq!(
        namespaces(&leftover).expect("netns list"),
        Vec::<String>::new(),
        "swept when the next lab started"
    );
    for pid in coturn {
        assert!(!alive(pid), "the leftover's coturn is gone");
    }
    assert!(
        !run_dir(&leftover).exists(),
        "the leftover's files are gone"
    );
    assert_eq!(namespaces(next.prefix()).expect("netns list").len(), 5);
}

/// Two labs at once, with the same addresses: each its own world.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_labs_run_side_by_side() {
    let (first, second) = (
        lab(HomeNat::EndpointIndependent),
        lab(HomeNat::EndpointIndependent),
    );
    assert_ne!(first.prefix(), second.prefix());
    let (a, b) = tokio::join!(
        connect_through(&first, HFA_PUBLIC_PORT, HFA_PORT),
        connect_through(&second, HFA_PUBLIC_PORT, HFA_PORT)
    );
    assert_eq!((a.ip(), b.ip()), (HOME_PUBLIC.into(), HOME_PUBLIC.into()));
}

/// The impaired internet: every datagram from home to the company is
/// delayed between `delay` and `delay + jitter`, some overtake others, and
/// the delayer drops what it counts (5 % here, seeded).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_impaired_internet_delays_reorders_and_drops_as_told() {
    const SENT: u16 = 400;
    let impairment = Impairment {
        loss: 0.05,
        delay: Duration::from_millis(10),
        jitter: Duration::from_millis(60),
        seed: 7,
    };
    let mut lab = lab(HomeNat::EndpointIndependent);
    lab.impair(impairment).expect("impair the internet");
    let company = lab.runtime(Host::CompanyLan).expect("company runtime");
    let home = lab.runtime(Host::HomeLan).expect("home runtime");
    let receiver = company
        .run(async {
            UdpSocket::bind((Ipv4Addr::UNSPECIFIED, RTP_RANGE.0))
                .await
                .expect("bind in the company LAN")
        })
        .await;
    let sender = home
        .run(async { UdpSocket::bind((HOME_PC, 0)).await.expect("bind at home") })
        .await;
    let mut sent_at = Vec::new();
    let receive = tokio::spawn(async move {
        let mut arrivals = Vec::new();
        let mut buffer = [0u8; 8];
        // The last datagram is sent 2 s in; 70 ms later all are in.
        while let Ok(Ok((_, _))) =
            tokio::time::timeout(Duration::from_millis(500), receiver.recv_from(&mut buffer)).await
        {
            arrivals.push((u16::from_be_bytes([buffer[0], buffer[1]]), Instant::now()));
        }
        arrivals
    });
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    for index in 0..SENT {
        tick.tick().await;
        sent_at.push(Instant::now());
        sender
            .send_to(&index.to_be_bytes(), (COMPANY_PUBLIC, RTP_RANGE.0))
            .await
            .expect("send");
    }
    let arrivals = receive.await.expect("receiver");
    let stats = lab.stop_impairment().expect("stop the delayers");
    let home_router = stats[0];
    let delays: Vec<Duration> = arrivals
        .iter()
        .map(|(index, at)| *at - sent_at[usize::from(*index)])
        .collect();
    let (min, max) = (
        delays.iter().min().copied().unwrap_or_default(),
        delays.iter().max().copied().unwrap_or_default(),
    );
    let overtaken = arrivals.windows(2).filter(|w| w[1].0 < w[0].0).count();
    eprintln!(
        "{} of {SENT} arrived; home router dropped {} ({:.1} %), passed {}; one-way delay \
         {:.1}..{:.1} ms; {overtaken} arrived before an earlier one",
        arrivals.len(),
        home_router.dropped,
        home_router.loss() * 100.0,
        home_router.passed,
        min.as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0,
    );
    assert_eq!(home_router.passed + home_router.dropped, u64::from(SENT));
    assert_eq!(
        arrivals.len() as u64,
        home_router.passed,
        "what passed arrived"
    );
    assert!(
        (0.02..0.09).contains(&home_router.loss()),
        "{home_router:?}"
    );
    assert!(
        min >= impairment.delay,
        "no datagram beats the delay: {min:?}"
    );
    assert!(
        max >= impairment.delay + impairment.jitter / 2,
        "jitter spreads the delays: {max:?}"
    );
    assert!(overtaken > 0, "jitter larger than the spacing reorders");
}
