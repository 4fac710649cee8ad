//! The quality panel's model: the figures of the current call over time,
//! one sample per media report, with marks where something happened (the
//! device moved to another network). Bounded: an all-day call keeps only
//! the most recent [`MAX_SAMPLES`].

use std::collections::VecDeque;
use std::time::Instant;

use shared::media::StreamStats;

/// Samples kept: 30 minutes at the window's one report a second.
pub const MAX_SAMPLES: usize = 1800;
/// Marks kept (older ones have scrolled out of the plots with their samples).
pub const MAX_MARKS: usize = 64;

/// The figures of one report interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Seconds since the call's media started.
    pub at: f64,
    /// Whether any packet arrived in the interval: without one, jitter and
    /// playout delay say nothing, and the plots leave a gap.
    pub receiving: bool,
    /// Jitter of the stream we receive, ms.
    pub jitter_ms: f64,
    /// Jitter of the stream we send, as the peer reports it (RTCP), ms.
    pub remote_jitter_ms: Option<f64>,
    /// Packets lost of those expected in this interval, %.
    pub loss_percent: f64,
    /// Loss of our stream over the peer's last report interval, %.
    pub remote_loss_percent: Option<f64>,
    pub playout_delay_ms: f64,
    pub rtt_ms: Option<f64>,
    /// G.107 E-model estimate, 1 to 4.5.
    pub mos: f64,
}

/// Something that happened during the call, drawn as a vertical line.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub at: f64,
    pub label: String,
}

/// The current (or last) call's figures.
#[derive(Debug, Clone, Default)]
pub struct QualityHistory {
    started: Option<Instant>,
    codec: Option<String>,
    samples: VecDeque<Sample>,
    marks: VecDeque<Mark>,
    /// Counters of the previous report, for per-interval loss.
    previous: Option<(u64, u64)>,
    /// The last figures, whole.
    last: Option<StreamStats>,
    /// Whether the call's media still runs.
    running: bool,
}

impl QualityHistory {
    /// A new call's media started at `now` with `codec`: the previous
    /// call's figures go.
    pub fn start(&mut self, now: Instant, codec: &str) {
        *self = Self {
            started: Some(now),
            codec: Some(codec.to_owned()),
            running: true,
            ..Self::default()
        };
    }

    /// A quality report at `now`.
    pub fn record(&mut self, now: Instant, stats: &StreamStats) {
        let Some(started) = self.started else {
            return; // figures of a call whose start we did not see
        };
        let (received, lost) = (stats.received, stats.lost);
        let (new_received, new_lost) = match self.previous {
            Some((was_received, was_lost)) => (
                received.saturating_sub(was_received),
                lost.saturating_sub(was_lost),
            ),
            None => (received, lost),
        };
        self.previous = Some((received, lost));
        let expected = new_received + new_lost;
        let loss_percent = if expected == 0 {
            0.0
        } else {
            100.0 * new_lost as f64 / expected as f64
        };
        if self.samples.len() == MAX_SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back(Sample {
            at: now.saturating_duration_since(started).as_secs_f64(),
            receiving: new_received > 0,
            jitter_ms: stats.jitter_ms,
            remote_jitter_ms: stats.remote_jitter_ms,
            loss_percent,
            remote_loss_percent: stats.remote_loss_fraction.map(|f| 100.0 * f),
            playout_delay_ms: stats.playout_delay_ms,
            rtt_ms: stats.rtt_ms,
            mos: stats.mos,
        });
        let oldest = self.samples.front().map_or(0.0, |sample| sample.at);
        while self.marks.front().is_some_and(|mark| mark.at < oldest) {
            self.marks.pop_front();
        }
        self.last = Some(stats.clone());
    }

    /// Marks `label` at `now` (e.g. "moved" when the device changed network).
    pub fn mark(&mut self, now: Instant, label: impl Into<String>) {
        let Some(started) = self.started else {
            return;
        };
        if self.marks.len() == MAX_MARKS {
            self.marks.pop_front();
        }
        self.marks.push_back(Mark {
            at: now.saturating_duration_since(started).as_secs_f64(),
            label: label.into(),
        });
    }

    /// The call's media stopped at `now` with these last figures.
    pub fn stop(&mut self, now: Instant, stats: &StreamStats) {
        self.record(now, stats);
        self.running = false;
    }

    pub fn samples(&self) -> &VecDeque<Sample> {
        &self.samples
    }

    pub fn marks(&self) -> &VecDeque<Mark> {
        &self.marks
    }

    pub fn codec(&self) -> Option<&str> {
        self.codec.as_deref()
    }

    pub fn last(&self) -> Option<&StreamStats> {
        self.last.as_ref()
    }

    pub fn running(&self) -> bool {
        self.running
    }

    /// The points of one figure, split where nothing was received (and, for
    /// figures of the peer's reports, where it reported nothing): a gap in
    /// the plot rather than a line drawn across it.
    pub fn segments(&self, figure: impl Fn(&Sample) -> Option<f64>) -> Vec<Vec<[f64; 2]>> {
        let mut segments = Vec::new();
        let mut current: Vec<[f64; 2]> = Vec::new();
        for sample in &self.samples {
            match figure(sample) {
                Some(value) => current.push([sample.at, value]),
                None if current.is_empty() => {}
                None => segments.push(std::mem::take(&mut current)),
            }
        }
        if !current.is_empty() {
            segments.push(current);
        }
        segments
    }

    /// One line for people and screen readers: the codec and the latest
    /// figures of both directions.
    pub fn summary(&self) -> String {
        let Some(codec) = self.codec() else {
            return "No call yet: the figures show during a call.".to_owned();
        };
        let state = if self.running { "call" } else { "last call" };
        let Some(sample) = self.samples.back() else {
            return format!("{codec} {state}: waiting for the first figures");
        };
        let remote = |value: Option<f64>, unit: &str| {
            value.map_or_else(|| "not reported".to_owned(), |v| format!("{v:.1} {unit}"))
        };
        format!(
            "{codec} {state}, {} samples: jitter {:.1} ms in, {} out; loss {:.1} % in, {} out; \
             playout delay {:.0} ms; MOS {:.2}",
            self.samples.len(),
            sample.jitter_ms,
            remote(sample.remote_jitter_ms, "ms"),
            sample.loss_percent,
            remote(sample.remote_loss_percent, "%"),
            sample.playout_delay_ms,
            sample.mos,
        )
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn stats(received: u64, lost: u64) -> StreamStats {
        StreamStats {
            received,
            lost,
            jitter_ms: 2.0,
            playout_delay_ms: 40.0,
            mos: 4.4,
            ..StreamStats::default()
        }
    }

    #[test]
    fn an_all_day_call_keeps_the_last_half_hour() {
        let start = Instant::now();
        let mut history = QualityHistory::default();
        history.start(start, "PCMA");
        let day = 8 * 3600;
        for second in 1..=day {
            let now = start + Duration::from_secs(second);
            history.record(now, &stats(50 * second, 0));
            if second % 600 == 0 {
                history.mark(now, "moved");
            }
        }
        assert_eq!(history.samples().len(), MAX_SAMPLES);
        let newest = history.samples().back().expect("samples").at;
        let oldest = history.samples().front().expect("samples").at;
        assert_eq!(newest, day as f64);
        assert_eq!(oldest, (day - MAX_SAMPLES as u64 + 1) as f64);
        // Marks older than the oldest sample went with it.
        assert!(history.marks().iter().all(|mark| mark.at >= oldest));
        assert_eq!(history.marks().len(), 3);
    }

    #[test]
    fn loss_is_per_interval_and_a_silent_interval_is_a_gap() {
        let start = Instant::now();
        let mut history = QualityHistory::default();
        history.start(start, "PCMA");
        let at = |s| start + Duration::from_secs(s);
        history.record(at(1), &stats(50, 0));
        history.record(at(2), &stats(100, 0));
        // The device moves: a second with nothing received, half of the
        // next one lost.
        history.mark(at(2), "moved");
        history.record(at(3), &stats(100, 50));
        history.record(at(4), &stats(125, 75));
        history.record(at(5), &stats(175, 75));

        let loss: Vec<f64> = history.samples().iter().map(|s| s.loss_percent).collect();
        assert_eq!(loss, [0.0, 0.0, 100.0, 50.0, 0.0]);
        let jitter = history.segments(|s| s.receiving.then_some(s.jitter_ms));
        assert_eq!(jitter.len(), 2, "the silent second splits the line");
        assert_eq!(jitter[0].len(), 2);
        assert_eq!(jitter[1], [[4.0, 2.0], [5.0, 2.0]]);
        assert_eq!(
            history.marks().iter().collect::<Vec<_>>(),
            [&Mark {
                at: 2.0,
                label: "moved".into()
            }]
        );
    }

    #[test]
    fn a_new_call_starts_afresh_and_the_summary_names_both_directions() {
        let start = Instant::now();
        let mut history = QualityHistory::default();
        assert!(history.summary().starts_with("No call yet"));
        history.record(start, &stats(10, 0));
        assert!(history.samples().is_empty(), "no call started");
        history.start(start, "PCMA");
        let mut figures = stats(50, 0);
        figures.remote_jitter_ms = Some(3.25);
        figures.remote_loss_fraction = Some(0.02);
        history.record(start + Duration::from_secs(1), &figures);
        history.mark(start + Duration::from_secs(1), "moved");
        let summary = history.summary();
        assert!(summary.contains("PCMA call, 1 samples"), "{summary}");
        assert!(
            summary.contains("jitter 2.0 ms in, 3.2 ms out"),
            "{summary}"
        );
        assert!(summary.contains("loss 0.0 % in, 2.0 % out"), "{summary}");
        history.stop(start + Duration::from_secs(2), &stats(100, 0));
        assert!(!history.running());
        assert!(history.summary().contains("PCMA last call, 2 samples"));

        history.start(start + Duration::from_secs(10), "PCMU");
        assert!(history.samples().is_empty() && history.marks().is_empty());
        assert_eq!(history.codec(), Some("PCMU"));
    }
}
