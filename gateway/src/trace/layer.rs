//! The `tracing` layer behind the trace profiles: an event goes to the file
//! of every profile that is on and records its target.

use std::fmt::Write as _;
use std::sync::Arc;

use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Filter, Layer};

use super::profile::MOST_DETAIL;
use super::{Profile, Traces};

/// Writes events to the trace files; its filter lets through only events
/// some profile that is on records, so the rest cost a few atomic loads.
#[derive(Debug, Clone)]
pub struct TraceLayer {
    traces: Arc<Traces>,
}

impl TraceLayer {
    pub(super) fn new(traces: Arc<Traces>) -> Self {
        Self { traces }
    }

    /// The layer with its own filter (independent of `RUST_LOG`).
    pub fn filtered<S>(self) -> tracing_subscriber::filter::Filtered<Self, ProfileFilter, S>
    where
        S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        let filter = ProfileFilter {
            traces: self.traces.clone(),
        };
        Layer::with_filter(self, filter)
    }
}

/// Lets an event through when a profile that is on records it.
#[derive(Debug, Clone)]
pub struct ProfileFilter {
    traces: Arc<Traces>,
}

impl<S> Filter<S> for ProfileFilter {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        meta.is_event()
            && Profile::ALL
                .into_iter()
                .any(|profile| self.traces.is_on(profile) && profile.records(meta))
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        // Profiles are switched at run time: an event some profile records
        // is asked about each time; the others (`trace` events, dependencies'
        // `debug`) never, so they cost nothing.
        if meta.is_event()
            && Profile::ALL
                .into_iter()
                .any(|profile| profile.records(meta))
        {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::from_level(MOST_DETAIL))
    }
}

impl<S: Subscriber> Layer<S> for TraceLayer {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        let line = line(event);
        for profile in Profile::ALL {
            if self.traces.is_on(profile) && profile.records(meta) {
                self.traces.write(profile, line.as_bytes());
            }
        }
    }
}

/// `event` as one trace line: `TIME LEVEL target: message key=value`,
/// newline included (the softphone's client trace writes the same lines).
pub fn line(event: &Event<'_>) -> String {
    let meta = event.metadata();
    let mut line = format!("{} {} {}:", now(), meta.level(), meta.target());
    let mut fields = Fields(String::new());
    event.record(&mut fields);
    line += &fields.0;
    line.push('\n');
    line
}

/// The time now, UTC, microseconds, RFC 3339: `2026-12-07T13:04:05.123456Z`.
pub(super) fn now() -> String {
    format!("{:.6}", jiff::Timestamp::now())
}

/// ` message key=value key=value`, on one line.
struct Fields(String);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            let _ = write!(self.0, " {}", one_line(value));
        } else {
            let _ = write!(self.0, " {}={:?}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            let _ = write!(self.0, " {}", one_line(&text));
        } else {
            let _ = write!(self.0, " {}={}", field.name(), one_line(&text));
        }
    }
}

/// A trace line is one line whatever a value holds.
fn one_line(text: &str) -> String {
    text.replace('\n', "\\n").replace('\r', "\\r")
}
