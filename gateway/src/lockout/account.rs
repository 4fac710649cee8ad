//! The lockout state of one configured client: strangers' failures, and
//! the device that last logged in, which keeps a lane of its own.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::record::Record;
use super::{AccountUnderAttack, Device, LockoutPolicy};

/// Whose failures an attempt counts towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lane {
    /// Anyone but the known device.
    Strangers,
    /// The device of the account's last successful login.
    KnownDevice,
}

#[derive(Debug, Clone, Copy)]
struct KnownDevice {
    device: Device,
    record: Record,
}

/// One configured client's record. Never evicted: there is one per
/// client, so the configuration bounds them.
#[derive(Debug, Default)]
pub(super) struct Account {
    strangers: Record,
    known: Option<KnownDevice>,
    /// Strangers' failed and refused attempts since the last successful
    /// login from a new device (for `gateway status`).
    stranger_attempts: u64,
    last_stranger: Option<IpAddr>,
}

impl Account {
    pub(super) fn lane(&self, device: &Device) -> Lane {
        match &self.known {
            Some(known) if known.device == *device => Lane::KnownDevice,
            _ => Lane::Strangers,
        }
    }

    pub(super) fn known_device(&self) -> Option<Device> {
        self.known.map(|known| known.device)
    }

    /// The lockout in force for `device`'s lane, if any; a stranger refused
    /// for it is counted.
    pub(super) fn check(
        &mut self,
        now: Instant,
        device: &Device,
    ) -> Option<(Lane, Instant, Duration)> {
        let lane = self.lane(device);
        let (until, duration) = self.record(lane).active_lock(now)?;
        if lane == Lane::Strangers {
            self.note_stranger(device);
        }
        Some((lane, until, duration))
    }

    /// Counts a failure in `device`'s lane; returns the lane and the
    /// lockout's length if it starts one.
    pub(super) fn fail(
        &mut self,
        now: Instant,
        device: &Device,
        policy: &LockoutPolicy,
    ) -> (Lane, Option<Duration>) {
        let lane = self.lane(device);
        if lane == Lane::Strangers {
            self.note_stranger(device);
        }
        (lane, self.record_mut(lane).fail(now, policy))
    }

    /// `device` proved the password. The known device's success forgives
    /// only its own lane: its re-registrations must not hand a guesser new
    /// attempts. Any other device becomes the known one; strangers' count
    /// towards the next lockout starts again, their escalation does not.
    pub(super) fn succeed(&mut self, device: &Device) {
        if self.lane(device) == Lane::Strangers {
            self.strangers.forgive_failures();
            self.stranger_attempts = 0;
        }
        self.known = Some(KnownDevice {
            device: *device,
            record: Record::default(),
        });
    }

    /// What `gateway status` says while strangers are locked out.
    pub(super) fn under_attack(&self, number: &str, now: Instant) -> Option<AccountUnderAttack> {
        let (until, _) = self.strangers.active_lock(now)?;
        Some(AccountUnderAttack {
            number: number.to_owned(),
            locked_for: until.saturating_duration_since(now),
            lockouts: self.strangers.lockouts(),
            attempts: self.stranger_attempts,
            last_source: self.last_stranger,
            known_device: self.known_device(),
        })
    }

    fn note_stranger(&mut self, device: &Device) {
        self.stranger_attempts = self.stranger_attempts.saturating_add(1);
        self.last_stranger = Some(device.address());
    }

    fn record(&self, lane: Lane) -> &Record {
        match (lane, &self.known) {
            (Lane::KnownDevice, Some(known)) => &known.record,
            _ => &self.strangers,
        }
    }

    fn record_mut(&mut self, lane: Lane) -> &mut Record {
        match (lane, &mut self.known) {
            (Lane::KnownDevice, Some(known)) => &mut known.record,
            _ => &mut self.strangers,
        }
    }
}
