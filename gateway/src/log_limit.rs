//! Repeated log lines, limited: a stranger who fails logins or opens
//! connections as fast as it can must not fill the disk with one line per
//! try. Per key (the kind of line and its source address; an IPv6 source
//! stands for its /64) at most [`LogLimit::lines`] lines pass per
//! [`LogLimit::window`]; the rest are counted, and when the window has
//! ended one line says how many were left out, e.g.
//! `HFA registration declined from 192.0.2.7: 4711 more suppressed in 60.0 s`.
//!
//! The keys are bounded: past [`LogLimit::max_keys`] sources, new ones share
//! one key per kind ("from other sources"), so many addresses cannot grow
//! the table either. Summaries come with the key's next line after its
//! window, from [`report_periodically`], and all at once when the gateway
//! stops ([`report_all`]).
//!
//! (tracing-throttle, the crate that does this for tracing, keys on the
//! message text and every field value: a guesser that varies the number it
//! tries, or the source port, gets a fresh key with every line.)

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::lockout::source_key;

/// How much of a kind of line one source may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimit {
    pub lines: u32,
    pub window: Duration,
    pub max_keys: usize,
}

impl Default for LogLimit {
    fn default() -> Self {
        Self {
            lines: 5,
            window: Duration::from_secs(60),
            max_keys: 4096,
        }
    }
}

/// Where the lines of a key come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A peer's address (an IPv6 one stands for its /64).
    Source(IpAddr),
    /// The sources past the table's bound, together.
    OtherSources,
    /// The gateway itself (e.g. a failing listener).
    Local,
}

/// Lines of one kind from one origin.
type Key = (&'static str, Origin);

/// Lines left out of one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed {
    pub kind: &'static str,
    pub origin: Origin,
    pub count: u64,
    pub over: Duration,
}

impl std::fmt::Display for Suppressed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind)?;
        match self.origin {
            Origin::Source(source) => write!(f, " from {source}")?,
            Origin::OtherSources => f.write_str(" from other sources")?,
            Origin::Local => {}
        }
        write!(
            f,
            ": {} more suppressed in {:.1} s",
            self.count,
            self.over.as_secs_f64()
        )
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    logged: u32,
    suppressed: u64,
}

/// Counts lines per key and window.
#[derive(Debug)]
pub struct LogLimiter {
    limit: LogLimit,
    windows: Mutex<HashMap<Key, Window>>,
}

impl LogLimiter {
    pub fn new(limit: LogLimit) -> Self {
        Self {
            limit,
            windows: Mutex::default(),
        }
    }

    /// Whether a `kind` line from `origin` may be written at `now`; with
    /// the summary of the key's previous window if that just ended.
    pub fn allow(
        &self,
        now: Instant,
        kind: &'static str,
        origin: Origin,
    ) -> (bool, Option<Suppressed>) {
        let mut windows = self.windows();
        let origin = match origin {
            Origin::Source(ip) => Origin::Source(source_key(ip)),
            other => other,
        };
        let mut key = (kind, origin);
        if windows.len() >= self.limit.max_keys && !windows.contains_key(&key) {
            key.1 = Origin::OtherSources;
        }
        let fresh = Window {
            start: now,
            logged: 0,
            suppressed: 0,
        };
        let window = windows.entry(key).or_insert(fresh);
        let mut summary = None;
        if now.saturating_duration_since(window.start) >= self.limit.window {
            summary = self.summary(key, window, now);
            *window = fresh;
        }
        let allowed = window.logged < self.limit.lines;
        if allowed {
            window.logged += 1;
        } else {
            window.suppressed += 1;
        }
        (allowed, summary)
    }

    /// The summaries of the windows that have ended by `now` (`None`: of
    /// every window); their keys are forgotten.
    pub fn ended(&self, now: Option<Instant>) -> Vec<Suppressed> {
        let mut windows = self.windows();
        let window = self.limit.window;
        let over =
            |start: Instant| now.is_none_or(|now| now.saturating_duration_since(start) >= window);
        let mut summaries = Vec::new();
        windows.retain(|key, entry| {
            if !over(entry.start) {
                return true;
            }
            let end = now.unwrap_or_else(Instant::now);
            summaries.extend(self.summary(*key, entry, end));
            false
        });
        summaries
    }

    fn summary(&self, key: Key, window: &Window, now: Instant) -> Option<Suppressed> {
        (window.suppressed > 0).then(|| Suppressed {
            kind: key.0,
            origin: key.1,
            count: window.suppressed,
            over: now
                .saturating_duration_since(window.start)
                .min(self.limit.window),
        })
    }

    fn windows(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Window>> {
        // Every update completes under the lock.
        self.windows.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The gateway's limiter: log lines are the process's, like the tracing
/// subscriber that writes them.
static LIMITER: LazyLock<LogLimiter> = LazyLock::new(|| LogLimiter::new(LogLimit::default()));

/// Whether a `kind` line from `source` may be written now. Call it around
/// the `warn!` of a line a stranger can cause at will:
/// `if log_limit::allow("HFA registration declined", peer.ip()) { warn!(…) }`.
pub fn allow(kind: &'static str, source: IpAddr) -> bool {
    allow_from(kind, Origin::Source(source))
}

/// As [`allow`], for a line of the gateway's own making.
pub fn allow_local(kind: &'static str) -> bool {
    allow_from(kind, Origin::Local)
}

fn allow_from(kind: &'static str, origin: Origin) -> bool {
    let (allowed, summary) = LIMITER.allow(Instant::now(), kind, origin);
    if let Some(summary) = summary {
        report(&summary);
    }
    allowed
}

/// Writes the summaries of the windows that have ended.
pub fn report_ended() {
    for summary in LIMITER.ended(Some(Instant::now())) {
        report(&summary);
    }
}

/// Writes every summary pending, ended or not (the gateway stops).
pub fn report_all() {
    for summary in LIMITER.ended(None) {
        report(&summary);
    }
}

/// Writes summaries as windows end, until aborted.
pub async fn report_periodically() {
    let mut tick = tokio::time::interval(LogLimit::default().window / 6);
    loop {
        tick.tick().await;
        report_ended();
    }
}

fn report(summary: &Suppressed) {
    tracing::warn!(suppressed = summary.count, "{summary}");
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: LogLimit = LogLimit {
        lines: 2,
        window: Duration::from_secs(60),
        max_keys: 3,
    };

    fn ip(text: &str) -> Origin {
        Origin::Source(text.parse().expect("an address"))
    }

    #[test]
    fn a_source_writes_its_lines_then_one_summary_per_window() {
        let limiter = LogLimiter::new(LIMIT);
        let start = Instant::now();
        let tries: Vec<_> = (0..5)
            .map(|_| limiter.allow(start, "declined", ip("192.0.2.7")).0)
            .collect();
        assert_eq!(tries, [true, true, false, false, false]);
        // Another kind or another source has lines of its own.
        assert!(limiter.allow(start, "refused", ip("192.0.2.7")).0);
        assert!(limiter.allow(start, "declined", ip("192.0.2.8")).0);

        let later = start + Duration::from_secs(61);
        let (allowed, summary) = limiter.allow(later, "declined", ip("192.0.2.7"));
        assert!(allowed);
        let summary = summary.expect("the last window's count");
        assert_eq!(summary.count, 3);
        assert_eq!(
            summary.to_string(),
            "declined from 192.0.2.7: 3 more suppressed in 60.0 s"
        );
    }

    #[test]
    fn ended_windows_are_reported_once_and_forgotten() {
        let limiter = LogLimiter::new(LIMIT);
        let start = Instant::now();
        for _ in 0..4 {
            limiter.allow(start, "declined", ip("192.0.2.7"));
        }
        limiter.allow(start, "declined", ip("192.0.2.8"));
        assert!(
            limiter
                .ended(Some(start + Duration::from_secs(10)))
                .is_empty()
        );
        let ended = limiter.ended(Some(start + Duration::from_secs(60)));
        assert_eq!(
            ended.len(),
            1,
            "only windows with lines left out: {ended:?}"
        );
        assert_eq!(ended[0].count, 2);
        assert!(limiter.ended(None).is_empty(), "forgotten");
        // A stop reports what is pending at once.
        for _ in 0..3 {
            limiter.allow(start, "declined", ip("192.0.2.9"));
        }
        assert_eq!(limiter.ended(None)[0].count, 1);
    }

    #[test]
    fn many_sources_share_one_key_past_the_bound() {
        let limiter = LogLimiter::new(LIMIT);
        let now = Instant::now();
        let mut allowed = 0;
        for n in 0..100 {
            for _ in 0..3 {
                allowed += u32::from(limiter.allow(now, "refused", ip(&format!("192.0.2.{n}"))).0);
            }
        }
        // Three sources of their own, then all others together.
        assert_eq!(allowed, 4 * LIMIT.lines);
        let ended = limiter.ended(None);
        assert_eq!(ended.len(), 4);
        assert!(
            ended
                .iter()
                .any(|summary| summary.origin == Origin::OtherSources
                    && summary.count == 97 * 3 - u64::from(LIMIT.lines))
        );
    }

    #[test]
    fn an_ipv6_source_is_its_slash_64() {
        let limiter = LogLimiter::new(LIMIT);
        let now = Instant::now();
        let allowed = (1..=4)
            .filter(|n| {
                limiter
                    .allow(now, "declined", ip(&format!("2001:db8::{n}")))
                    .0
            })
            .count();
        assert_eq!(allowed, 2);
    }
}
