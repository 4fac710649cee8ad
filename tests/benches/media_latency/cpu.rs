//! CPU per active call: 2 × N softphones with null audio devices (silence
//! in, sound discarded, each on its own 20 ms clock thread) registered to
//! an in-process gateway; this process's CPU over a window with the phones
//! idle, then over a window with N calls between them (media on both
//! legs). Per call = (calls − idle) / N: the media of two phones.
//!
//! The gateway runs on its own runtime ("gateway" threads, and its RTP
//! proxy's "sbc-worker" threads), the phones on another ("phones" threads);
//! /proc/self/task/*/stat splits the process's CPU by thread name, so the
//! gateway's share shows (RTP goes phone to phone, so it should be nil).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use e2e_tests::{Handset, LAN_IP, account};
use gateway::config::RtpRange;
use gateway::gateway::{Gateway, StartOptions};
use shared::hfa_engine::phone::PhoneTimers;
use shared::media::{Codec, StreamStats};
use softphone::audio::NullBackend;
use softphone::media::MediaOptions;
use softphone::media::call::MediaReport;

use crate::Runtimes;
use crate::args::Args;
use crate::common::office::{self, Phone as Configured};
use crate::common::procfs::{self, Process};
use crate::common::stats::Tally;

/// One run: N calls in one codec.
#[derive(Debug)]
pub struct CpuRun {
    pub calls: usize,
    /// What the phones offered first.
    pub offered: &'static str,
    /// Calls whose media started on both phones.
    pub calls_up: usize,
    /// The codec each phone's media started with.
    pub negotiated: Tally,
    pub idle: Window,
    pub busy: Window,
    pub media: MediaCheck,
}

/// CPU used in a timed window, in all and by thread group.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub period: Duration,
    pub process: Duration,
    pub groups: BTreeMap<&'static str, Duration>,
}

/// Whether the media flowed: the phones' figures when it stopped.
#[derive(Debug, Clone, Default)]
pub struct MediaCheck {
    pub sent: u64,
    pub received: u64,
    pub lost: u64,
    pub late: u64,
    pub concealed: u64,
    /// The largest playout delay of any phone at the end, ms.
    pub max_playout_delay_ms: f64,
    /// Phones whose playout delay was above 100 ms at the end.
    pub over_100_ms: usize,
}

/// Thread groups by name prefix (`comm`, up to 15 bytes).
pub const GROUPS: [(&str, &str); 4] = [
    ("phones", "phones runtime (HFA clients, media tasks)"),
    ("audio-clock", "device clock threads"),
    ("gateway", "gateway runtime"),
    ("sbc-worker", "gateway's RTP proxy workers"),
];

pub fn run(
    runtimes: &Runtimes,
    calls: usize,
    codecs: &[Codec],
    args: &Args,
) -> anyhow::Result<CpuRun> {
    let phones = office::phones(2 * calls);
    let (hfa_port, https_port) = office::free_ports()?;
    let text = office::config_toml(&phones, hfa_port, https_port);
    let config = gateway::config::from_toml_str(&text, "media_latency office")
        .map_err(|errors| anyhow!("the generated office is invalid: {errors}"))?;
    // The system clock and default timers, as `gateway run`; the RTP
    // proxy's ports (2 per channel of the office's model) in a block of
    // this process, away from the defaults that a gateway run next to the
    // bench would bind. The phones all register from the company LAN, so
    // no call takes a channel: their RTP goes phone to phone.
    let channels = u16::try_from(config.rtp_proxy_channels()).unwrap_or(u16::MAX);
    let first = 12_000 + (std::process::id() % 20) as u16 * 400;
    let options = StartOptions {
        hfa_listen: Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
        rtp_range: Some(RtpRange {
            first,
            last: first + 2 * channels.min(200) - 1,
        }),
        ..StartOptions::default()
    };
    let gateway = runtimes
        .gateway
        .block_on(Gateway::start(config, options))
        .context("the gateway did not start")?;
    let address = gateway.hfa_addr();
    let result = runtimes
        .phones
        .block_on(calls_phase(address, &phones, codecs, args));
    runtimes.gateway.block_on(gateway.stop());
    result
}

async fn calls_phase(
    address: SocketAddr,
    phones: &[Configured],
    codecs: &[Codec],
    args: &Args,
) -> anyhow::Result<CpuRun> {
    let calls = phones.len() / 2;
    let offered = codecs.first().map_or("none", |codec| codec.name());
    let mut handsets = Vec::with_capacity(phones.len());
    for phone in phones {
        let mut media = MediaOptions::g711(Box::new(NullBackend));
        media.codecs = codecs.to_vec();
        let account = account(address, (&phone.number, phone.password.expose()), LAN_IP);
        handsets.push(Handset::register_with_media(account, PhoneTimers::default(), media).await);
    }
    eprintln!(
        "{calls} calls, {offered}: {} phones registered; {} s idle",
        phones.len(),
        args.cpu_secs
    );
    let idle = window(args.cpu_period()).await?;

    let mut negotiated = Tally::default();
    let mut calls_up = 0;
    for (pair, numbers) in handsets.chunks_mut(2).zip(phones.chunks(2)) {
        let ([caller, callee], [_, callee_phone]) = (pair, numbers) else {
            continue;
        };
        caller.press(&format!("h{}", callee_phone.number));
        callee.until("the ringer", |m| m.ringer()).await;
        callee.press("h");
        for phone in [&mut *caller, &mut *callee] {
            if let MediaReport::Started { codec, .. } = phone
                .media_report("media", |r| matches!(r, MediaReport::Started { .. }))
                .await
            {
                negotiated.add(codec);
            }
        }
        calls_up += 1;
    }
    eprintln!(
        "{calls} calls, {offered}: media on all; {} s settling, {} s measured",
        args.settle_secs, args.cpu_secs
    );
    tokio::time::sleep(args.settle()).await;
    let busy = window(args.cpu_period()).await?;

    let mut media = MediaCheck::default();
    for pair in handsets.chunks_mut(2) {
        let [caller, callee] = pair else { continue };
        caller.press("u");
        for phone in [&mut *callee, &mut *caller] {
            if let MediaReport::Stopped(stats) = phone
                .media_report("media to stop", |r| matches!(r, MediaReport::Stopped(_)))
                .await
            {
                media.add(&stats);
            }
        }
        callee.press("u");
    }
    for handset in handsets {
        handset.client.stop().await;
    }
    Ok(CpuRun {
        calls,
        offered,
        calls_up,
        negotiated,
        idle,
        busy,
        media,
    })
}

impl MediaCheck {
    fn add(&mut self, stats: &StreamStats) {
        self.sent += stats.sent;
        self.received += stats.received;
        self.lost += stats.lost;
        self.late += stats.late;
        self.concealed += stats.concealed;
        self.max_playout_delay_ms = self.max_playout_delay_ms.max(stats.playout_delay_ms);
        self.over_100_ms += usize::from(stats.playout_delay_ms > 100.0);
    }
}

/// This process's CPU over `period`, in all and by thread group.
async fn window(period: Duration) -> anyhow::Result<Window> {
    let (start, start_groups, began) = sample()?;
    tokio::time::sleep(period).await;
    let (end, end_groups, ended) = sample()?;
    let groups = end_groups
        .iter()
        .map(|(name, cpu)| {
            let before = start_groups.get(name).copied().unwrap_or_default();
            (*name, cpu.saturating_sub(before))
        })
        .collect();
    Ok(Window {
        period: ended - began,
        process: end.saturating_sub(start),
        groups,
    })
}

type Sample = (Duration, BTreeMap<&'static str, Duration>, Instant);

fn sample() -> anyhow::Result<Sample> {
    let at = Instant::now();
    let process = procfs::usage(Process::Current)?.cpu;
    let mut groups: BTreeMap<&'static str, Duration> = BTreeMap::new();
    for (name, cpu) in procfs::thread_cpu(Process::Current)? {
        let group = GROUPS
            .iter()
            .find(|(prefix, _)| name.starts_with(prefix))
            .map_or("other", |(prefix, _)| prefix);
        *groups.entry(group).or_default() += cpu;
    }
    Ok((process, groups, at))
}
