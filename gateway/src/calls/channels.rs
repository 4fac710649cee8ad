//! The RTP proxy's channels as call control counts them (guide 1.3.5):
//! which are free, the simultaneous-internet-calls budget on top, and the
//! addresses each channel has, so that Set Payload can name them.
//!
//! Sans-IO bookkeeping only; the SBC's data plane (`crate::sbc`) moves the
//! packets and is told what to do through `Output::Sbc`.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};

pub use crate::sbc::ChannelId;

/// Where one channel receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelAddresses {
    /// The public side's RTP port (RTCP is one above), the port the
    /// company router forwards 1:1.
    pub public_rtp_port: u16,
    /// The inner side, facing the rest of the call.
    pub inner_rtp: SocketAddr,
    pub inner_rtcp: SocketAddr,
}

/// The pool as the SBC bound it.
#[derive(Debug, Clone, Default)]
pub struct ChannelPlan {
    /// The system's public address, as devices at home reach it.
    pub public_ip: Option<IpAddr>,
    /// Channel `i`'s addresses at index `i`.
    pub channels: Vec<ChannelAddresses>,
    /// Simultaneous internet calls allowed (guide 2.3).
    pub internet_calls: usize,
}

/// Why a call could not have its channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Every channel of the pool is in use.
    NoChannel,
    /// The simultaneous-internet-calls limit is reached.
    NoInternetCall,
}

/// Free channels, counters. The number of internet calls in progress is
/// not kept here: call control derives it from its calls, so it cannot
/// drift from them.
#[derive(Debug, Clone)]
pub struct ChannelPool {
    plan: ChannelPlan,
    free: BTreeSet<ChannelId>,
    pub peak: usize,
    pub refused_no_channel: u64,
    pub refused_budget: u64,
}

impl ChannelPool {
    pub fn new(plan: ChannelPlan) -> Self {
        let free = (0..plan.channels.len())
            .filter_map(|i| u16::try_from(i).ok())
            .map(ChannelId)
            .collect();
        Self {
            plan,
            free,
            peak: 0,
            refused_no_channel: 0,
            refused_budget: 0,
        }
    }

    /// Takes `count` channels for one new call, all or none, while
    /// `internet_calls` internet calls are in progress. Each anchored leg is
    /// one internet call: a call between two phones at home streams over
    /// the company's upstream twice, so it counts twice against the limit
    /// the upstream bandwidth sets (guide 2.3).
    pub fn take(&mut self, count: usize, internet_calls: usize) -> Result<Vec<ChannelId>, Refusal> {
        if count == 0 {
            return Ok(Vec::new());
        }
        if self.free.len() < count {
            self.refused_no_channel += 1;
            return Err(Refusal::NoChannel);
        }
        if internet_calls + count > self.plan.internet_calls {
            self.refused_budget += 1;
            return Err(Refusal::NoInternetCall);
        }
        let taken: Vec<ChannelId> = std::iter::from_fn(|| self.free.pop_first())
            .take(count)
            .collect();
        self.peak = self.peak.max(self.in_use());
        Ok(taken)
    }

    /// Gives channels back.
    pub fn give_back(&mut self, channels: impl IntoIterator<Item = ChannelId>) {
        self.free.extend(channels);
    }

    pub fn in_use(&self) -> usize {
        self.plan.channels.len() - self.free.len()
    }

    pub fn capacity(&self) -> usize {
        self.plan.channels.len()
    }

    pub fn addresses(&self, channel: ChannelId) -> Option<&ChannelAddresses> {
        self.plan.channels.get(usize::from(channel.0))
    }

    pub fn public_ip(&self) -> Option<IpAddr> {
        self.plan.public_ip
    }

    /// The system's public address changed (dynamic DNS, STUN).
    pub fn set_public_ip(&mut self, ip: IpAddr) {
        self.plan.public_ip = Some(ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(channels: usize, internet_calls: usize) -> ChannelPlan {
        let address = |i: usize| ChannelAddresses {
            public_rtp_port: 30274 + 2 * i as u16,
            inner_rtp: SocketAddr::from(([10, 10, 0, 2], 50000 + 2 * i as u16)),
            inner_rtcp: SocketAddr::from(([10, 10, 0, 2], 50001 + 2 * i as u16)),
        };
        ChannelPlan {
            public_ip: None,
            channels: (0..channels).map(address).collect(),
            internet_calls,
        }
    }

    #[test]
    fn all_or_nothing_and_counted_back() {
        let mut pool = ChannelPool::new(plan(3, 10));
        let first = pool.take(2, 0).unwrap();
        assert_eq!(first, [ChannelId(0), ChannelId(1)]);
        assert_eq!(pool.take(2, 1), Err(Refusal::NoChannel));
        assert_eq!(pool.in_use(), 2, "a refused call takes nothing");
        pool.give_back(first);
        assert_eq!((pool.in_use(), pool.peak), (0, 2));
        assert_eq!(pool.refused_no_channel, 1);
    }

    #[test]
    fn the_internet_call_budget_applies_on_top_and_counts_every_leg() {
        let mut pool = ChannelPool::new(plan(60, 3));
        pool.take(1, 0).unwrap();
        pool.take(2, 1)
            .expect("two phones at home: two internet calls");
        assert_eq!(pool.take(1, 3), Err(Refusal::NoInternetCall));
        assert_eq!(pool.refused_budget, 1);
        assert_eq!(
            pool.take(2, 2),
            Err(Refusal::NoInternetCall),
            "a call of two anchored legs needs two of the budget, all or none"
        );
        assert!(pool.take(1, 2).is_ok(), "one leg still fits");
        assert_eq!(
            pool.take(0, 3),
            Ok(Vec::new()),
            "a LAN call takes no channel and no budget"
        );
    }
}
