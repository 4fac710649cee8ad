//! Mouth to ear, measured with clicks: phone A plays a file of clicks, B
//! records, and each click's delay comes from its positions in the two
//! files and the instants at which the two device clocks started, all on
//! this process's monotonic clock.
//!
//! ```text
//! spoken(s) = A's origin + s / rate            (input sample s; its frame is
//!                                               pushed at the end of its 20 ms)
//! heard(r)  = B's origin + 20 ms + r / rate    (recorded sample r; its frame
//!                                               was pulled at tick r / frame)
//! delay     = heard(onset in B's recording) − spoken(click in A's file)
//!           = (B's tick that wrote it − A's tick that read it) + 20 ms capture frame
//! ```
//!
//! Each origin comes from the device clock's own ticks, watched through its
//! level meter (`stamped.rs`); for that B plays the same file, which goes
//! to A's speaker and is not recorded.
//!
//! Paths between the same kind of devices: the softphone's whole stack (a
//! call through an in-process gateway: media task, RTP over loopback,
//! jitter buffer), and, in this process, direct paths from A's capture ring
//! to B's playback ring: the baseline, the media task's loop without network
//! and jitter buffer ([`Direct::Driver`]); and the floor, each frame moved
//! as soon as it is captured ([`Direct::Immediate`]).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use e2e_tests::{ANNA, BEN, Handset, LAN_IP, account};
use shared::hfa_engine::phone::PhoneTimers;
use shared::media::{Codec, StreamStats};
use softphone::audio::{AudioBackend, AudioConfig, AudioControls, AudioEvent, WavBackend};
use softphone::media::MediaOptions;
use softphone::media::call::MediaReport;
use softphone::media::pacing::{POLL_INTERVAL, Pace, PlayoutPacer};
use tokio::sync::oneshot;
use tokio::time::MissedTickBehavior;

use crate::clicks::{self, Clicks};
use crate::spread::{Spread, ms_between};
use crate::stamped::{Clock, Stamped, Starts};

/// The device and driver tick.
pub const FRAME: Duration = Duration::from_millis(20);

/// What one path did to the clicks.
#[derive(Debug, Clone)]
pub struct PathRun {
    /// Column heading.
    pub label: String,
    pub clicks_sent: usize,
    /// Mouth-to-ear delay of each click heard, ms, in order.
    pub delays: Vec<f64>,
    /// Sounds in the recording that matched no click (or a click twice).
    pub extra_sounds: usize,
    /// B's clock started this long after A's, ms.
    pub b_after_a_ms: f64,
    /// Each clock started this long after its `start` returned, ms.
    pub late_start_ms: (f64, f64),
    /// The latest a tick was seen after its deadline, ms (A, B).
    pub seen_late_ms: (f64, f64),
    /// Back end starts beyond the first (A + B).
    pub restarts: usize,
    /// For the stack: what the softphone reported.
    pub stack: Option<StackFigures>,
}

/// Opus's algorithmic delay at 8 and 16 kHz (`OPUS_DELAY` of the media
/// session, which it adds to its own estimate; not public).
pub const OPUS_DELAY_MS: f64 = 6.5;

/// G.722's algorithmic delay, its QMF banks (`G722_DELAY` of the session).
pub const G722_DELAY_MS: f64 = 1.5;

impl PathRun {
    pub fn spread(&self) -> Spread {
        Spread::new(self.delays.clone())
    }

    /// The codec's algorithmic delay, ms.
    pub fn codec_ms(&self) -> f64 {
        match &self.stack {
            Some(stack) if stack.codec == "opus" => OPUS_DELAY_MS,
            Some(stack) if stack.codec == "G722" => G722_DELAY_MS,
            _ => 0.0,
        }
    }

    /// Where B's ticks fall between A's: `(B's origin − A's origin) mod 20 ms`.
    pub fn phase_ms(&self) -> f64 {
        self.b_after_a_ms.rem_euclid(FRAME.as_secs_f64() * 1e3)
    }

    /// The whole frames a click waited between A's tick that captured it
    /// and B's tick that played it, beyond the capture frame, the codec and
    /// the devices' phase: `(delay − 20 − codec − phase) ÷ 20`, which comes
    /// out whole when the origins are right.
    pub fn frames_waited(&self) -> Option<f64> {
        let frame_ms = FRAME.as_secs_f64() * 1e3;
        let delay = self.spread().median()?;
        Some((delay - frame_ms - self.codec_ms() - self.phase_ms()) / frame_ms)
    }
}

/// The receiving phone's own figures during the call.
#[derive(Debug, Clone)]
pub struct StackFigures {
    pub codec: String,
    /// `playout_delay_ms` of B's quality reports during the clicks.
    pub playout_delay: Spread,
    /// `target_delay_ms` of the same reports.
    pub target_delay: Spread,
    /// `mouth_to_ear_ms`, the stack's own estimate for its MOS.
    pub estimate: Spread,
    /// B's figures when media stopped.
    pub last: StreamStats,
}

/// How the direct path moves A's frames to B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direct {
    /// The media task's loop with the network and the jitter buffer taken
    /// out: a poll every `POLL_INTERVAL`, started right after the back ends
    /// as `MediaPort::apply` starts the media task; each poll takes every
    /// complete captured frame into a queue, and the media task's
    /// `PlayoutPacer` says when to write one frame (from the queue, else
    /// silence) into the playback ring, or to discard one.
    Driver,
    /// The floor: each captured frame goes to the playback ring within a
    /// millisecond of its capture (a 1 ms poll), with no prefill: two 20 ms
    /// device clocks and nothing else.
    Immediate,
}

/// A direct path from A's back end to B's, in this process; B's device
/// clock starts `b_phase` after A's.
pub async fn direct(
    clicks: &Clicks,
    dir: &Path,
    how: Direct,
    b_phase: Duration,
) -> anyhow::Result<PathRun> {
    let played = dir.join(format!("direct-{how:?}-in.wav"));
    let recorded = dir.join(format!("direct-{how:?}-out.wav"));
    clicks.write(&played)?;
    let (mut a, a_starts) = Stamped::new(WavBackend::playing(played.clone()));
    let (mut b, b_starts) = Stamped::delayed(
        WavBackend {
            play: Some(played),
            record: Some(recorded.clone()),
        },
        b_phase,
    );
    let config = AudioConfig::for_rate(clicks.rate);
    let mut a_streams = a.start(config)?;
    let b_streams = b.start(config)?;
    let (stop, stop_rx) = oneshot::channel();
    let rings = (a_streams.capture, b_streams.playback);
    let b_controls = Arc::clone(&b_streams.controls);
    let relay = tokio::spawn(relay(rings, b_controls, config.frame, how, stop_rx));
    let patience = clicks.duration() + Duration::from_secs(10);
    tokio::time::timeout(patience, async {
        while let Some(event) = a_streams.events.recv().await {
            if event == AudioEvent::PlaybackFinished {
                return;
            }
        }
    })
    .await
    .context("the direct path's clicks did not play to their end")?;
    let _ = stop.send(());
    relay.await?;
    let (a_guard, b_guard) = (a_streams.guard, b_streams.guard);
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        a_guard.stop()?;
        b_guard.stop()?;
        Ok(())
    })
    .await??;
    let label = match how {
        Direct::Driver => "**baseline: direct path**, the media task's polling, no network",
        Direct::Immediate => "floor: device clocks only",
    };
    analyse(
        label.to_owned(),
        clicks,
        &recorded,
        &a_starts,
        &b_starts,
        None,
    )
}

/// Moves A's captured frames into B's playback ring until `stop`.
async fn relay(
    (mut capture, mut playback): (rtrb::Consumer<i16>, rtrb::Producer<i16>),
    b_controls: Arc<AudioControls>,
    frame: usize,
    how: Direct,
    mut stop: oneshot::Receiver<()>,
) {
    let period = match how {
        Direct::Driver => POLL_INTERVAL,
        Direct::Immediate => Duration::from_millis(1),
    };
    let mut queue = std::collections::VecDeque::new();
    let mut pacer = PlayoutPacer::new(FRAME, frame);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    // As the media task: wake for the write just before B's next pull.
    let mut hold: Option<Instant> = None;
    loop {
        let held = async {
            match hold {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            due = tick.tick() => pacer.woke(Instant::now(), due.into_std()),
            () = held => {}
            _ = &mut stop => return,
        }
        hold = None;
        while capture.slots() >= frame {
            queue.extend((0..frame).map(|_| capture.pop().unwrap_or(0)));
        }
        let queued = playback.buffer().capacity() - playback.slots();
        match how {
            Direct::Driver => match pacer.poll(Instant::now(), queued, b_controls.last_pull()) {
                Pace::Play { .. } => {
                    for _ in 0..frame {
                        let _ = playback.push(queue.pop_front().unwrap_or(0));
                    }
                }
                Pace::Discard { .. } => {
                    queue.drain(..frame.min(queue.len()));
                }
                Pace::Wait => {}
                Pace::Hold { until } => hold = Some(until),
            },
            Direct::Immediate => {
                while queue.len() >= frame && playback.slots() >= frame {
                    for sample in queue.drain(..frame) {
                        let _ = playback.push(sample);
                    }
                }
            }
        }
    }
}

/// The stack: Anna (A) calls Ben (B) through the gateway at `gateway`;
/// both offer `codecs`. Both register from the company LAN, so that RTP
/// goes phone to phone: the softphone's own path, with no relay (the
/// system's SBC anchors only legs from outside the LAN). Ben's device
/// clock starts `b_phase` (mod 20 ms) after Anna's starts.
pub async fn stack(
    gateway: SocketAddr,
    codecs: &[Codec],
    clicks: &Clicks,
    dir: &Path,
    b_phase: Duration,
) -> anyhow::Result<PathRun> {
    let name = codecs.first().map_or("none", |codec| codec.name());
    let played = dir.join(format!("stack-{name}-in.wav"));
    let recorded = dir.join(format!("stack-{name}-out.wav"));
    clicks.write(&played)?;
    let (anna_audio, a_starts) = Stamped::new(WavBackend::playing(played.clone()));
    let (ben_audio, b_starts) = Stamped::aligned(
        WavBackend {
            play: Some(played),
            record: Some(recorded.clone()),
        },
        &a_starts,
        b_phase,
    );
    let options = |audio: Box<dyn AudioBackend>| {
        let mut options = MediaOptions::g711(audio);
        options.codecs = codecs.to_vec();
        options
    };
    let mut anna = Handset::register_with_media(
        account(gateway, ANNA, LAN_IP),
        PhoneTimers::default(),
        options(Box::new(anna_audio)),
    )
    .await;
    let mut ben = Handset::register_with_media(
        account(gateway, BEN, LAN_IP),
        PhoneTimers::default(),
        options(Box::new(ben_audio)),
    )
    .await;
    anna.press(&format!("h{}", BEN.0));
    ben.until("the ringer", |m| m.ringer()).await;
    ben.press("h");
    let mut negotiated = Vec::new();
    for phone in [&mut anna, &mut ben] {
        if let MediaReport::Started { codec, .. } = phone
            .media_report("media", |r| matches!(r, MediaReport::Started { .. }))
            .await
        {
            negotiated.push(codec);
        }
    }
    let wanted = codecs.first().map(|codec| codec.name()).unwrap_or_default();
    ensure!(
        negotiated.iter().all(|codec| codec == wanted),
        "the gateway chose {negotiated:?}, the phones prefer {wanted}"
    );
    anna.media_report("the clicks played to their end", |r| {
        matches!(r, MediaReport::Audio(AudioEvent::PlaybackFinished))
    })
    .await;
    // Ben's quality reports so far (every 2 s), and one after the end.
    let finished = Instant::now();
    let mut reports = Vec::new();
    ben.media_report("a quality report after the clicks", |r| match r {
        MediaReport::Quality(stats) => {
            reports.push(stats.clone());
            Instant::now() > finished + Duration::from_millis(500)
        }
        _ => false,
    })
    .await;
    anna.press("u");
    let MediaReport::Stopped(last) = ben
        .media_report("media to stop", |r| matches!(r, MediaReport::Stopped(_)))
        .await
    else {
        bail!("not a Stopped report")
    };
    ben.press("u");
    anna.client.stop().await;
    ben.client.stop().await;
    let spread = |value: fn(&StreamStats) -> f64| Spread::new(reports.iter().map(value).collect());
    let figures = StackFigures {
        codec: wanted.to_owned(),
        playout_delay: spread(|s| s.playout_delay_ms),
        target_delay: spread(|s| s.target_delay_ms),
        estimate: spread(|s| s.mouth_to_ear_ms),
        last,
    };
    let label = format!("**softphone stack**, {wanted}");
    analyse(
        label,
        clicks,
        &recorded,
        &a_starts,
        &b_starts,
        Some(figures),
    )
}

/// Finds the clicks in the recording and times them.
fn analyse(
    label: String,
    clicks: &Clicks,
    recorded: &Path,
    a_starts: &Starts,
    b_starts: &Starts,
    stack: Option<StackFigures>,
) -> anyhow::Result<PathRun> {
    let frames = clicks.frames();
    let (a, b) = (Clock::of(a_starts, &frames)?, Clock::of(b_starts, &frames)?);
    let heard = clicks::read(recorded, clicks.rate)?;
    let _ = std::fs::remove_file(recorded);
    let (delays, extra_sounds) = delays(clicks, &heard, &a, &b);
    let late = |clock: &Clock| clock.seen_late.max().unwrap_or(0.0);
    Ok(PathRun {
        label,
        clicks_sent: clicks.positions.len(),
        delays,
        extra_sounds,
        b_after_a_ms: ms_between(a.origin, b.origin),
        late_start_ms: (a.late_start_ms, b.late_start_ms),
        seen_late_ms: (late(&a), late(&b)),
        restarts: a.starts + b.starts - 2,
        stack,
    })
}

/// Each heard click's delay (ms), matched to the latest click spoken
/// before it; and the sounds that matched none.
fn delays(clicks: &Clicks, heard: &[i16], a: &Clock, b: &Clock) -> (Vec<f64>, usize) {
    let rate = f64::from(clicks.rate);
    let ms = |samples: usize| samples as f64 * 1e3 / rate;
    // Both on A's origin's scale.
    let spoken: Vec<f64> = clicks.positions.iter().map(|&s| ms(s)).collect();
    let b_origin = ms_between(a.origin, b.origin);
    let frame_ms = FRAME.as_secs_f64() * 1e3;
    let mut matched = vec![None; spoken.len()];
    let mut extra = 0;
    for onset in clicks::onsets(heard, clicks.rate) {
        let at = b_origin + frame_ms + ms(onset);
        let click = spoken.iter().rposition(|&t| t <= at);
        match click {
            Some(k) if matched[k].is_none() && at - spoken[k] < 1000.0 => {
                matched[k] = Some(at - spoken[k]);
            }
            _ => extra += 1,
        }
    }
    (matched.into_iter().flatten().collect(), extra)
}
