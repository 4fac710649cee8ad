//! `gateway status`: what a running gateway reports about itself, over a
//! Unix socket in its data directory (only the gateway's own user can open
//! it: the directory is private).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinHandle;
use tracing::warn;

use crate::admission::AdmissionCounts;
use crate::calls::CallService;
use crate::calls::channels::ChannelId;
use crate::calls::service::ChannelFigures;
use crate::hfa::HfaState;
use crate::lockout::AccountUnderAttack;
use crate::portal::{PortalCounts, PortalState};
use crate::sbc::{LatchStatus, SbcStats};
use crate::trace::{Profile, Traces};

/// The socket's name in the data directory.
pub const SOCKET: &str = "gateway.sock";

/// What the report is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub registered_phones: usize,
    /// The HFA server's connections (open, refused, closed to make room).
    pub hfa_connections: AdmissionCounts,
    /// The portal server's, when it runs.
    pub portal_connections: Option<AdmissionCounts>,
    pub calls: usize,
    pub channels: ChannelFigures,
    /// myPortal to go sessions and VoIP registrations, when the portal runs.
    pub portal: Option<PortalCounts>,
    /// The portal certificate's SHA-256 fingerprint (the app pins it).
    pub portal_fingerprint: Option<String>,
    /// The data plane's counters, when the SBC runs.
    pub relay: Option<String>,
    /// Accounts whose strangers are locked out after failed logins.
    pub under_attack: Vec<AccountUnderAttack>,
    /// Every registered phone and app (guide 7, point 5), by number.
    pub devices: Vec<Device>,
    /// The trace profiles switched on, when the gateway writes traces.
    pub traces: Option<Vec<Profile>>,
}

/// A registered device, as guide 7 asks for it: what it is, which release
/// it runs and where it connects from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub number: String,
    /// The phone type (`OpenStage 60 (HFA)`) or `myPortal to go (android)`.
    pub kind: String,
    pub release: String,
    /// The registration's source address and port (after any NAT).
    pub source: SocketAddr,
    /// From outside the company LAN.
    pub internet: bool,
    /// The RTP proxy channel and its latch, while in a call through it.
    pub channel: Option<(ChannelId, LatchStatus)>,
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let network = if self.internet { "internet" } else { "LAN" };
        write!(
            f,
            "{} {}, release {}, from {} ({network})",
            self.number, self.kind, self.release, self.source
        )?;
        if let Some((channel, latch)) = &self.channel {
            write!(f, "; SBC channel {}: {}", channel.0, latch_text(latch))?;
        }
        Ok(())
    }
}

fn latch_text(latch: &LatchStatus) -> String {
    match latch {
        LatchStatus::Latched { source, .. } => format!("latched to {source}"),
        LatchStatus::Learning => "learning".to_owned(),
        LatchStatus::Idle => "not learning".to_owned(),
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let channels = &self.channels;
        writeln!(f, "registered phones: {}", self.registered_phones)?;
        writeln!(f, "registered devices: {}", self.devices.len())?;
        for device in &self.devices {
            writeln!(f, "  {device}")?;
        }
        if let Some(traces) = &self.traces {
            let names: Vec<&str> = traces.iter().map(|profile| profile.name()).collect();
            match names.is_empty() {
                true => writeln!(f, "traces on: none")?,
                false => writeln!(f, "traces on: {}", names.join(", "))?,
            }
        }
        write_connections(f, "HFA", "registered", &self.hfa_connections)?;
        if let Some(portal) = &self.portal_connections {
            write_connections(f, "HTTPS", "logged in", portal)?;
        }
        if let (Some(portal), Some(fingerprint)) = (&self.portal, &self.portal_fingerprint) {
            writeln!(
                f,
                "myPortal to go: {} sessions, {} VoIP registrations, {} event streams",
                portal.sessions, portal.registrations, portal.streams
            )?;
            writeln!(f, "portal certificate SHA-256: {fingerprint}")?;
        }
        writeln!(f, "calls: {}", self.calls)?;
        writeln!(
            f,
            "RTP proxy channels: {} of {} in use (peak {}); internet calls {}",
            channels.in_use, channels.capacity, channels.peak, channels.internet_calls
        )?;
        writeln!(
            f,
            "refused: {} for want of a channel, {} for want of an internet call",
            channels.refused_no_channel, channels.refused_budget
        )?;
        if self.under_attack.is_empty() {
            writeln!(f, "accounts under attack: none")?;
        } else {
            writeln!(f, "accounts under attack: {}", self.under_attack.len())?;
            for account in &self.under_attack {
                writeln!(f, "  {account}")?;
            }
        }
        if let Some(relay) = &self.relay {
            write!(f, "{relay}")?;
        }
        Ok(())
    }
}

/// `HFA connections: 3 open, 1 not registered; since start 12 refused,
/// 4 closed to make room`.
fn write_connections(
    f: &mut std::fmt::Formatter<'_>,
    server: &str,
    proven: &str,
    counts: &AdmissionCounts,
) -> std::fmt::Result {
    writeln!(
        f,
        "{server} connections: {} open, {} not {proven}; since start {} refused, {} closed to make room",
        counts.open, counts.unproven, counts.refused, counts.evicted
    )
}

/// What the status is gathered from.
pub struct Sources<'a> {
    pub hfa: &'a HfaState,
    pub calls: &'a CallService,
    pub portal: Option<&'a PortalState>,
    pub sbc: &'a SbcStats,
    pub under_attack: Vec<AccountUnderAttack>,
    pub traces: Option<&'a Traces>,
}

/// Gathers the status of a running gateway.
pub fn collect(sources: Sources<'_>) -> Status {
    let Sources {
        hfa,
        calls,
        portal,
        sbc,
        under_attack,
        traces,
    } = sources;
    Status {
        devices: devices(hfa, calls, portal, sbc),
        traces: traces.map(Traces::enabled),
        registered_phones: hfa.registry().len(),
        hfa_connections: hfa.connections(),
        portal_connections: portal.map(PortalState::connections),
        calls: calls.calls(),
        channels: calls.channel_figures(),
        portal: portal.map(PortalState::counts),
        portal_fingerprint: portal.map(|portal| portal.fingerprint().to_owned()),
        relay: Some(relay_report(sbc)),
        under_attack,
    }
}

/// The registered phones and apps, by number, with their channel's latch.
fn devices(
    hfa: &HfaState,
    calls: &CallService,
    portal: Option<&PortalState>,
    sbc: &SbcStats,
) -> Vec<Device> {
    let channel = |number: &str| {
        let id = calls.anchor_of(number)?;
        let stats = sbc.channels.iter().find(|channel| channel.id == id)?;
        Some((id, stats.latch))
    };
    let mut devices: Vec<Device> = hfa
        .registry()
        .iter()
        .map(|(number, phone)| Device {
            number: number.to_owned(),
            kind: hfa
                .config
                .client(number)
                .map_or_else(|| "HFA phone".to_owned(), |client| client.kind.to_string()),
            release: phone.release.clone(),
            source: phone.source,
            internet: !hfa.config.is_company_lan(phone.source.ip()),
            channel: None,
        })
        .collect();
    for app in portal.map(PortalState::registered_apps).unwrap_or_default() {
        devices.push(Device {
            kind: format!("myPortal to go ({})", app.platform),
            number: app.number,
            release: app.release,
            source: app.source,
            internet: app.internet,
            channel: None,
        });
    }
    for device in &mut devices {
        device.channel = channel(&device.number);
    }
    devices.sort_by(|a, b| a.number.cmp(&b.number));
    devices
}

/// The longest request a client may send (`trace enable NAME`).
const MAX_REQUEST: u64 = 256;
/// How long a client may take to send its request.
const REQUEST_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// What a client of the socket asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// The report (an empty request too).
    Status,
    /// `trace enable NAME` / `trace disable NAME`.
    Trace { profile: Profile, on: bool },
}

impl std::str::FromStr for Request {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.as_slice() {
            [] | ["status"] => Ok(Request::Status),
            ["trace", switch @ ("enable" | "disable"), name] => Ok(Request::Trace {
                profile: name.parse()?,
                on: *switch == "enable",
            }),
            _ => Err(format!(
                "not a request: {text:?} (status, trace enable NAME, trace disable NAME)"
            )),
        }
    }
}

impl std::fmt::Display for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Request::Status => f.write_str("status"),
            Request::Trace { profile, on } => {
                let switch = if *on { "enable" } else { "disable" };
                write!(f, "trace {switch} {profile}")
            }
        }
    }
}

/// An answer that is an error starts with this.
pub const ERROR: &str = "error: ";

/// Answers every connection to `path`: the client sends its request and
/// closes its side; the gateway answers with the report `report` makes, or
/// switches a trace of `traces`.
pub fn serve(
    path: &Path,
    report: Arc<dyn Fn() -> String + Send + Sync>,
    traces: Option<Arc<Traces>>,
) -> std::io::Result<JoinHandle<()>> {
    // A socket left behind by a gateway that did not stop cleanly.
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    Ok(tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let (report, traces) = (report.clone(), traces.clone());
                    tokio::spawn(answer(stream, report, traces));
                }
                Err(error) => {
                    warn!("status socket: {error}");
                    return;
                }
            }
        }
    }))
}

async fn answer(
    mut stream: UnixStream,
    report: Arc<dyn Fn() -> String + Send + Sync>,
    traces: Option<Arc<Traces>>,
) {
    let mut text = String::new();
    let mut limited = (&mut stream).take(MAX_REQUEST);
    let read = limited.read_to_string(&mut text);
    let reply = match tokio::time::timeout(REQUEST_TIME, read).await {
        Ok(Ok(_)) => match text.parse::<Request>() {
            Ok(Request::Status) => report(),
            Ok(Request::Trace { profile, on }) => switch(traces.as_deref(), profile, on),
            Err(reason) => format!("{ERROR}{reason}\n"),
        },
        Ok(Err(error)) => format!("{ERROR}{error}\n"),
        Err(_) => format!("{ERROR}no request within {REQUEST_TIME:?}\n"),
    };
    let _ = stream.write_all(reply.as_bytes()).await;
}

fn switch(traces: Option<&Traces>, profile: Profile, on: bool) -> String {
    let Some(traces) = traces else {
        return format!("{ERROR}this gateway writes no traces\n");
    };
    match traces.set(profile, on) {
        Ok(path) if on => format!("trace {profile}: on, writing {}\n", path.display()),
        Ok(path) => format!("trace {profile}: off ({} kept)\n", path.display()),
        Err(error) => format!("{ERROR}trace {profile}: {error}\n"),
    }
}

/// Sends `request` to the gateway whose data directory is `data_dir`;
/// returns its answer.
pub async fn request(data_dir: &Path, request: Request) -> std::io::Result<String> {
    let mut stream = UnixStream::connect(socket_path(data_dir)).await?;
    stream.write_all(request.to_string().as_bytes()).await?;
    stream.shutdown().await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    Ok(answer)
}

/// Asks the gateway whose data directory is `data_dir` for its status.
pub async fn query(data_dir: &Path) -> std::io::Result<String> {
    request(data_dir, Request::Status).await
}

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET)
}

/// The data plane's part of the report: totals, then each anchored channel.
pub fn relay_report(stats: &SbcStats) -> String {
    let totals = &stats.totals;
    let drops = &totals.dropped;
    let mut out = format!(
        "relay: {} packets from devices, {} to devices; dropped {} foreign, {} in probation, {} outside a learning window\n",
        totals.from_device.packets,
        totals.to_device.packets,
        drops.foreign,
        drops.probation,
        drops.not_learning
    );
    for channel in stats.channels.iter().filter(|channel| channel.anchored) {
        let latch = latch_text(&channel.latch);
        let call = &channel.call;
        out += &format!(
            "  channel {}: {latch}; {} packets in, {} out; {} foreign dropped\n",
            channel.id.0, call.from_device.packets, call.to_device.packets, call.dropped.foreign
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_read_back_as_written_and_others_are_refused_in_words() {
        let requests = [
            Request::Status,
            Request::Trace {
                profile: Profile::Csta,
                on: true,
            },
            Request::Trace {
                profile: Profile::VoiceFax,
                on: false,
            },
        ];
        for request in requests {
            assert_eq!(request.to_string().parse(), Ok(request));
        }
        assert_eq!("".parse(), Ok(Request::Status));
        let error = "trace on CSTA_applications"
            .parse::<Request>()
            .expect_err("not a request");
        assert!(error.contains("trace enable NAME"), "{error}");
        let error = "trace enable csta"
            .parse::<Request>()
            .expect_err("no such profile");
        assert!(error.contains("no trace profile \"csta\""), "{error}");
    }
}
