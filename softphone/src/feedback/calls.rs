//! The last calls' quality figures for the feedback archive: when a call's
//! media stops, one summary (codec, duration, loss, jitter, MOS estimate,
//! both directions where RTCP gave them) is appended to `calls.jsonl` in
//! the profile, which keeps the newest [`KEPT_CALLS`]. The window and the
//! headless commands both feed it through a [`CallRecorder`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use shared::media::StreamStats;

use crate::media::call::MediaReport;

/// The summaries' file inside a profile, one JSON object a line.
pub const CALLS_FILE: &str = "calls.jsonl";
/// How many calls the file keeps.
pub const KEPT_CALLS: usize = 50;

/// Who made the calls: the device and where it registers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// "OpenStage 60 HFA", "myPortal to go".
    pub device: String,
    /// Its software release (firmware, or the app version).
    pub release: String,
    /// Its own call number.
    pub number: String,
    /// The gateway as configured (host:port, as typed).
    pub gateway: String,
}

/// What one direction of a call looked like.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Direction {
    pub packets: u64,
    /// Lost, percent.
    pub loss_percent: f64,
    /// Interarrival jitter, ms.
    pub jitter_ms: f64,
}

/// One call's quality summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallSummary {
    /// When the media stopped, UTC to the microsecond.
    pub ended: String,
    #[serde(flatten)]
    pub device: Device,
    pub codec: String,
    /// Where the media went last (the system's SBC or the other phone).
    pub remote_media: Option<SocketAddr>,
    pub duration_s: f64,
    /// What this phone received, as it measured it.
    pub received: Direction,
    /// What this phone sent, as the other side's RTCP reports it
    /// (`None` when no receiver report came).
    pub sent: Option<Direction>,
    pub rtt_ms: Option<f64>,
    /// G.107 E-model estimate for what this phone heard.
    pub mos: f64,
}

impl CallSummary {
    fn new(device: Device, started: &Started, stats: &StreamStats) -> Self {
        let sent = stats.remote_loss_fraction.map(|loss| Direction {
            packets: stats.sent,
            loss_percent: loss * 100.0,
            jitter_ms: stats.remote_jitter_ms.unwrap_or_default(),
        });
        Self {
            ended: format!("{:.6}", jiff::Timestamp::now()),
            device,
            codec: started.codec.clone(),
            remote_media: Some(started.remote),
            duration_s: started.at.elapsed().as_secs_f64(),
            received: Direction {
                packets: stats.received,
                loss_percent: stats.loss_fraction * 100.0,
                jitter_ms: stats.jitter_ms,
            },
            sent,
            rtt_ms: stats.rtt_ms,
            mos: stats.mos,
        }
    }
}

/// Where a profile's summaries go, and whose calls they are.
#[derive(Debug, Clone)]
pub struct CallLog {
    path: PathBuf,
    device: Device,
}

impl CallLog {
    /// The log in the profile directory `profile_dir`.
    pub fn new(profile_dir: &Path, device: Device) -> Self {
        Self {
            path: profile_dir.join(CALLS_FILE),
            device,
        }
    }

    /// A recorder of one phone's calls.
    pub fn recorder(&self) -> CallRecorder {
        CallRecorder {
            log: self.clone(),
            started: None,
        }
    }

    /// Appends `summary`, keeping the newest [`KEPT_CALLS`].
    fn append(&self, summary: &CallSummary) -> std::io::Result<()> {
        let mut lines: Vec<String> = match std::fs::read_to_string(&self.path) {
            Ok(text) => text.lines().map(str::to_owned).collect(),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(error) => return Err(error),
        };
        lines.push(serde_json::to_string(summary).map_err(std::io::Error::other)?);
        let skip = lines.len().saturating_sub(KEPT_CALLS);
        let mut text = lines[skip..].join("\n");
        text.push('\n');
        write_private(&self.path, &text)
    }
}

/// The summaries in `profile_dir`, oldest first; lines that do not parse
/// are skipped (a file from an older release).
pub fn read(profile_dir: &Path) -> Vec<CallSummary> {
    std::fs::read_to_string(profile_dir.join(CALLS_FILE))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// The running call's start, as its media reported it.
#[derive(Debug)]
struct Started {
    at: Instant,
    codec: String,
    remote: SocketAddr,
}

/// Watches one phone's media reports and logs each call as it ends.
#[derive(Debug)]
pub struct CallRecorder {
    log: CallLog,
    started: Option<Started>,
}

impl CallRecorder {
    /// Notes a call's start; at its end, appends its summary.
    pub fn report(&mut self, report: &MediaReport) {
        match report {
            MediaReport::Started { remote, codec } => {
                self.started = Some(Started {
                    at: Instant::now(),
                    codec: codec.clone(),
                    remote: *remote,
                });
            }
            MediaReport::Stopped(stats) => {
                if let Some(started) = self.started.take() {
                    let summary = CallSummary::new(self.log.device.clone(), &started, stats);
                    tracing::info!(
                        codec = %summary.codec,
                        duration_s = summary.duration_s,
                        loss_percent = summary.received.loss_percent,
                        jitter_ms = summary.received.jitter_ms,
                        mos = summary.mos,
                        "call ended"
                    );
                    if let Err(error) = self.log.append(&summary) {
                        tracing::warn!(path = %self.log.path.display(), %error, "call summary not kept");
                    }
                }
            }
            // The media peer the call ended with (re-anchored by the SBC).
            MediaReport::Redirected { remote } => {
                if let Some(started) = self.started.as_mut() {
                    started.remote = *remote;
                }
            }
            MediaReport::Quality(_)
            | MediaReport::Dtmf(_)
            | MediaReport::Audio(_)
            | MediaReport::Moved { .. } => {}
        }
    }
}

/// Writes `text` to `path` through a temporary file, readable by the user
/// only (the directory is created private if missing).
pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".new");
    let temporary = PathBuf::from(temporary);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device() -> Device {
        Device {
            device: "OpenStage 60 HFA".to_owned(),
            release: "V3R1.41.0".to_owned(),
            number: "201".to_owned(),
            gateway: "company.example.com:4060".to_owned(),
        }
    }

    fn call(recorder: &mut CallRecorder, received: u64) {
        recorder.report(&MediaReport::Started {
            remote: "192.0.2.1:30000".parse().expect("an address"),
            codec: "PCMA".to_owned(),
        });
        let stats = StreamStats {
            sent: 100,
            received,
            loss_fraction: 0.02,
            jitter_ms: 3.5,
            remote_loss_fraction: Some(0.01),
            remote_jitter_ms: Some(2.0),
            mos: 4.2,
            ..StreamStats::default()
        };
        recorder.report(&MediaReport::Stopped(stats));
    }

    #[test]
    fn a_stopped_call_leaves_its_figures_both_ways_and_the_file_keeps_the_newest() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let log = CallLog::new(dir.path(), device());
        let mut recorder = log.recorder();
        // A stop without a start (media that never flowed) logs nothing.
        recorder.report(&MediaReport::Stopped(StreamStats::default()));
        assert!(read(dir.path()).is_empty());
        for received in 0..KEPT_CALLS as u64 + 3 {
            call(&mut recorder, received);
        }
        let calls = read(dir.path());
        assert_eq!(calls.len(), KEPT_CALLS);
        assert_eq!(calls[0].received.packets, 3, "the oldest three went");
        let last = calls.last().expect("a call");
        assert_eq!(last.device, device());
        assert_eq!(last.codec, "PCMA");
        assert!((last.received.loss_percent - 2.0).abs() < 1e-9);
        let sent = last.sent.as_ref().expect("the peer's report");
        assert!((sent.loss_percent - 1.0).abs() < 1e-9 && sent.jitter_ms == 2.0);
        assert_eq!(last.mos, 4.2);
    }
}
