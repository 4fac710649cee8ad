//! One emulated phone of the call phase: the softphone's own driver
//! ([`HfaClient`], one tokio task around the sans-IO `PhoneEngine`) and its
//! [`PhoneModel`], the phone as its user sees it, built from the stimuli
//! the gateway sends. The bench presses keys and waits until the model
//! shows something; it never sleeps.

use std::net::SocketAddr;
use std::time::Instant;

use shared::hfa_engine::phone::{PhoneEvent, PhoneTimers};
use softphone::hfa::{HfaClient, Led, PhoneModel, ToneKind, press_digit};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::common::office;
use crate::common::stats::Tally;

/// A running phone and what it shows.
#[derive(Debug)]
pub struct Phone {
    pub number: String,
    /// The top row of the idle screen, `10000 Phone 0`.
    idle_label: String,
    client: HfaClient,
    events: UnboundedReceiver<PhoneEvent>,
    pub model: PhoneModel,
    /// Messages sent to the gateway (hook switch and keys).
    pub sent: u64,
    /// Messages received from the gateway while registered.
    pub received: u64,
    /// Connections lost, by reason (the client reconnects by itself).
    pub lost: Tally,
}

impl Phone {
    /// Starts registering `phone` at `gateway` (default timers: an Alive
    /// Request every 15 s). Call it on the tokio runtime.
    pub fn start(gateway: SocketAddr, phone: &office::Phone) -> anyhow::Result<Self> {
        let account = phone.account(gateway)?;
        let (client, events) = HfaClient::spawn(account, PhoneTimers::default());
        Ok(Self {
            number: phone.number.clone(),
            idle_label: phone.idle_label(),
            client,
            events,
            model: PhoneModel::new(),
            sent: 0,
            received: 0,
            lost: Tally::default(),
        })
    }

    /// Waits for the registration and then for the complete idle screen
    /// (the last function key labelled); false if not by `deadline`.
    pub async fn until_ready(&mut self, deadline: Instant) -> bool {
        let registered = tokio::time::timeout_at(deadline.into(), async {
            while let Some(event) = self.events.recv().await {
                if matches!(event, PhoneEvent::Registered { .. }) {
                    return true;
                }
                self.observe(event);
            }
            false
        });
        if registered.await != Ok(true) {
            return false;
        }
        let labelled = |model: &PhoneModel| model.label(5) == Some("Release");
        self.until(deadline, labelled).await.is_some() && self.until_idle(deadline).await.is_some()
    }

    /// Presses keys and the hook switch: `h` off-hook, `u` on-hook,
    /// `0-9*#` dial keys.
    pub fn press(&mut self, keys: &str) {
        for key in keys.chars() {
            let message = match key {
                'h' => Some(self.model.off_hook()),
                'u' => Some(self.model.on_hook()),
                digit => press_digit(digit),
            };
            if let Some(message) = message {
                self.client.send(message);
                self.sent += 1;
            }
        }
    }

    /// Applies what the gateway sends until the model satisfies `done`;
    /// when it does, or `None` if not by `deadline` (or the client ended).
    pub async fn until(
        &mut self,
        deadline: Instant,
        done: impl Fn(&PhoneModel) -> bool,
    ) -> Option<Instant> {
        let wait = async {
            while !done(&self.model) {
                let event = self.events.recv().await?;
                self.observe(event);
            }
            Some(Instant::now())
        };
        tokio::time::timeout_at(deadline.into(), wait)
            .await
            .ok()
            .flatten()
    }

    /// Waits until the phone shows its idle screen again: own number and
    /// name, line key dark, no ringer, tone or media.
    pub async fn until_idle(&mut self, deadline: Instant) -> Option<Instant> {
        let label = std::mem::take(&mut self.idle_label);
        let idle = |model: &PhoneModel| {
            model.display_row(0) == label
                && model.led(1) == Led::Off
                && !model.ringer()
                && model.tone().is_none()
                && model.media().is_none()
        };
        let at = self.until(deadline, idle).await;
        self.idle_label = label;
        at
    }

    /// Closes the connection and waits for the client's task.
    pub async fn stop(self) {
        self.client.stop().await;
    }

    fn observe(&mut self, event: PhoneEvent) {
        match event {
            PhoneEvent::Received(message) => {
                self.received += 1;
                self.model.apply(&message);
            }
            PhoneEvent::ConnectionLost(loss) => self.lost.add(loss.to_string()),
            _ => {}
        }
    }
}

/// The callee's screen once the caller hung up: "Call ended", busy tone.
pub fn call_ended(model: &PhoneModel) -> bool {
    model.tone() == Some(ToneKind::Busy) && model.display_row(0) == "Call ended"
}
