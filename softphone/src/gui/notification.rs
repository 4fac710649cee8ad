//! The desktop notification of an incoming call: a freedesktop
//! notification over the D-Bus session bus, shown while the phone rings
//! and withdrawn when the ringing stops (answered, missed, or taken by
//! another phone). One task on the tokio runtime talks to D-Bus, in the
//! order the UI asks, so the UI thread never waits for the bus. Without a
//! notification service (no session bus) nothing is shown; the window
//! still asks for attention itself.

use notify_rust::{Hint, Notification, NotificationHandle, Timeout, Urgency};
use tokio::sync::mpsc;

/// The notification's application name.
const APP_NAME: &str = "Device@Home softphone";

/// The UI's handle on the notification task.
#[derive(Debug)]
pub struct Notifier {
    requests: mpsc::UnboundedSender<Option<String>>,
}

impl Notifier {
    /// Starts the task on `runtime`.
    pub fn start(runtime: &tokio::runtime::Handle) -> Self {
        let (requests, inbox) = mpsc::unbounded_channel();
        runtime.spawn(run(inbox));
        Self { requests }
    }

    /// The phone rings: "Incoming call" with what the display says.
    pub fn ringing(&self, caller: String) {
        let _ = self.requests.send(Some(caller));
    }

    /// The ringing has stopped.
    pub fn stopped(&self) {
        let _ = self.requests.send(None);
    }
}

async fn run(mut inbox: mpsc::UnboundedReceiver<Option<String>>) {
    let mut shown: Option<NotificationHandle> = None;
    while let Some(request) = inbox.recv().await {
        if let Some(handle) = shown.take() {
            handle.close_async().await;
        }
        let Some(caller) = request else {
            continue;
        };
        let result = Notification::new()
            .appname(APP_NAME)
            .summary("Incoming call")
            .body(&caller)
            .icon("call-start")
            .urgency(Urgency::Critical)
            .hint(Hint::Category("call.incoming".into()))
            .timeout(Timeout::Never)
            .show_async()
            .await;
        match result {
            Ok(handle) => shown = Some(handle),
            Err(error) => tracing::debug!(%error, "no desktop notification"),
        }
    }
}
