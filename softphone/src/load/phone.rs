//! One emulated phone of the load: the softphone's own driver
//! ([`HfaClient`], one tokio task around the sans-IO `PhoneEngine`) and its
//! [`PhoneModel`], the phone as its user sees it, built from the stimuli
//! the gateway sends. The load presses keys and waits until the model
//! shows something; it never sleeps.

use std::time::{Duration, Instant};

use shared::hfa_engine::phone::{PhoneEvent, PhoneState, PhoneTimers};
use shared::media::StreamStats;
use tokio::sync::mpsc::UnboundedReceiver;

use super::party::NotReady;
use super::stats::Tally;
use crate::audio::NullBackend;
use crate::hfa::{HfaAccount, HfaClient, Led, MediaHandle, PhoneModel, ToneKind, press_digit};
use crate::media::MediaOptions;
use crate::media::call::MediaReport;

/// How long a stopped phone's media may take to report its last figures.
const MEDIA_STOP_PATIENCE: Duration = Duration::from_secs(5);

/// A running phone and what it shows.
#[derive(Debug)]
pub struct Phone {
    pub number: String,
    /// The top row of the idle screen (e.g. `10000 Phone 0`), when known:
    /// a gateway of our own office; any other shows what its admin chose.
    idle_label: Option<String>,
    client: HfaClient,
    events: UnboundedReceiver<PhoneEvent>,
    /// The call media's reports, when the phone sends RTP.
    media: Option<MediaHandle>,
    pub model: PhoneModel,
    /// Messages sent to the gateway (hook switch and keys).
    pub sent: u64,
    /// Messages received from the gateway while registered.
    pub received: u64,
    /// Connections lost, by reason (the client reconnects by itself).
    pub lost: Tally,
}

impl Phone {
    /// Starts registering `account` without media (signalling only;
    /// default timers: an Alive Request every 15 s). Call it on the tokio
    /// runtime.
    pub fn start(account: HfaAccount, idle_label: Option<String>) -> Self {
        let number = account.number.to_string();
        let (client, events) = HfaClient::spawn(account, PhoneTimers::default());
        Self::new(number, idle_label, client, events, None)
    }

    /// Like [`Phone::start`], with G.711 media: RTP and RTCP sockets on
    /// the signalling's source address, silence frames sent in every call.
    pub async fn start_with_media(
        account: HfaAccount,
        idle_label: Option<String>,
    ) -> std::io::Result<Self> {
        let number = account.number.to_string();
        let media = MediaOptions::g711(Box::new(NullBackend));
        let (client, events, handle) =
            HfaClient::spawn_with_media(account, PhoneTimers::default(), media).await?;
        Ok(Self::new(number, idle_label, client, events, Some(handle)))
    }

    fn new(
        number: String,
        idle_label: Option<String>,
        client: HfaClient,
        events: UnboundedReceiver<PhoneEvent>,
        media: Option<MediaHandle>,
    ) -> Self {
        Self {
            number,
            idle_label,
            client,
            events,
            media,
            model: PhoneModel::new(),
            sent: 0,
            received: 0,
            lost: Tally::default(),
        }
    }

    /// Waits for the registration and then for the complete idle screen
    /// (the last function key labelled); by `deadline`, or why not in
    /// words: the gateway's refusal, or the last connection loss. When
    /// registered: the moment the phone saw the Register Response, the
    /// point the storm benchmark times to.
    pub async fn until_ready(&mut self, deadline: Instant) -> Result<Instant, NotReady> {
        let registered = tokio::time::timeout_at(deadline.into(), async {
            while let Some(event) = self.events.recv().await {
                match event {
                    PhoneEvent::Registered { .. } => return Ok(Instant::now()),
                    PhoneEvent::StateChanged(PhoneState::Declined { cause }) => {
                        return Err(NotReady::Declined(cause));
                    }
                    event => self.observe(event),
                }
            }
            Err(NotReady::ClientStopped)
        });
        let trouble = |phone: &Self| {
            (phone.lost.counts().keys().last()).map(|loss| format!("last connection loss: {loss}"))
        };
        let registered_at = match registered.await {
            Ok(Ok(at)) => at,
            Ok(Err(why)) => return Err(why),
            Err(_) => {
                return Err(NotReady::NotRegistered {
                    trouble: trouble(self),
                });
            }
        };
        // Our office's idle screen ends with the Release key; another
        // gateway's keys are its admin's choice.
        let labelled = |model: &PhoneModel| model.label(5) == Some("Release");
        let screen = self.idle_label.is_none() || self.until(deadline, labelled).await.is_some();
        if screen && self.until_idle(deadline).await.is_some() {
            Ok(registered_at)
        } else {
            Err(NotReady::NoIdleScreen {
                trouble: trouble(self),
            })
        }
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
            label
                .as_deref()
                .is_none_or(|label| model.display_row(0) == label)
                && model.led(1) == Led::Off
                && !model.ringer()
                && model.tone().is_none()
                && model.media().is_none()
        };
        let at = self.until(deadline, idle).await;
        self.idle_label = label;
        at
    }

    /// Applies every event already queued (what the gateway sent, lost
    /// connections) without waiting.
    pub fn catch_up(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            self.observe(event);
        }
    }

    /// Closes the connection and waits for the client's task; the final
    /// figures of every call's media stream, if the phone had media.
    pub async fn stop(self) -> Vec<StreamStats> {
        self.client.stop().await;
        let mut streams = Vec::new();
        if let Some(mut media) = self.media {
            // The media task reports its last figures as it ends, after the
            // client's; the channel closes once it has.
            let reports = async {
                while let Some(report) = media.reports.recv().await {
                    if let MediaReport::Stopped(stats) = report {
                        streams.push(stats);
                    }
                }
            };
            let _ = tokio::time::timeout(MEDIA_STOP_PATIENCE, reports).await;
        }
        streams
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
