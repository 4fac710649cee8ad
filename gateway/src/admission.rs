//! Who gets a connection when strangers hold many (the HFA and HTTPS
//! listeners both ask here before serving an accepted connection).
//!
//! A connection starts *unproven*: nobody knows yet who is at the other
//! end (an HFA phone that has not registered, a TLS handshake, an HTTPS
//! client that has not logged in). An attacker with a few dozen addresses
//! opens connections far faster than any timeout closes them, so timeouts
//! alone cannot keep room for the company's own users. The rules:
//!
//! - at most `total` connections are open at once (file descriptors);
//! - an internet source holds at most `per_source` unproven connections
//!   (an IPv6 source stands for its /64); more are refused at once. Company
//!   LAN sources have no share: they are the company's own devices, and
//!   the registration storm after a restart comes from there;
//! - when `total` is reached, the oldest unproven connection of the source
//!   holding the most unproven ones is closed to make room. A real client
//!   holds one or two, so it is not the one closed while an attacker holds
//!   more, and once proven (registered, logged in) it is never closed to
//!   make room. Only when every open connection is proven is a newcomer
//!   refused.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;
use tracing::{info, warn};

use crate::lockout::source_key;
use crate::log_limit;

/// How many connections a listener keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once, proven or not.
    pub total: usize,
    /// Unproven connections one internet source may hold.
    pub per_source: usize,
}

/// Why a connection was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("{held} connections not yet logged in from {address} already (its share)")]
    SourceShare { address: IpAddr, held: usize },
    #[error("{open} connections open, all of them logged in")]
    Full { open: usize },
}

/// A connection let in.
#[derive(Debug)]
pub struct Admitted {
    pub ticket: Ticket,
    /// The source whose oldest unproven connection was closed to make room.
    pub evicted: Option<IpAddr>,
}

/// What a listener holds and has turned away, for status and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdmissionCounts {
    pub open: usize,
    pub unproven: usize,
    /// Connections refused at accept, since start.
    pub refused: u64,
    /// Unproven connections closed to make room, since start.
    pub evicted: u64,
}

/// One listener's connections.
#[derive(Debug)]
pub struct Admission {
    limits: Limits,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    open: usize,
    next_id: u64,
    /// Unproven connections by id (ids grow with age).
    unproven: BTreeMap<u64, Unproven>,
    /// The ids of each source's unproven connections.
    by_source: HashMap<IpAddr, BTreeSet<u64>>,
    refused: u64,
    evicted: u64,
}

/// How one server's admission lines read (and are keyed in the log limiter).
#[derive(Debug)]
pub struct AdmissionLog {
    /// "HFA connection refused".
    pub refused_kind: &'static str,
    /// "HFA connection closed to make room".
    pub evicted_kind: &'static str,
    /// What an unproven connection is, "HFA connection not registered yet".
    pub unproven: &'static str,
}

#[derive(Debug)]
struct Unproven {
    source: IpAddr,
    /// Set to `true` to close the connection; dropped once it is proven.
    evict: watch::Sender<bool>,
}

impl Admission {
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            inner: Mutex::default(),
        })
    }

    /// [`Self::admit`] for a server's accept loop: the lines a stranger
    /// causes (a refusal, a connection closed to make room) go through the
    /// log limiter in `log`'s words. `None`: close the connection at once.
    pub fn admit_logged(
        self: &Arc<Self>,
        peer: SocketAddr,
        lan: bool,
        log: &AdmissionLog,
    ) -> Option<Ticket> {
        match self.admit(peer.ip(), lan) {
            Ok(admitted) => {
                if let Some(source) = admitted.evicted
                    && log_limit::allow(log.evicted_kind, source)
                {
                    info!(%source, "{} closed to make room for {peer}", log.unproven);
                }
                Some(admitted.ticket)
            }
            Err(refused) => {
                if log_limit::allow(log.refused_kind, peer.ip()) {
                    warn!(%peer, "{}: {refused}", log.refused_kind);
                }
                None
            }
        }
    }

    /// Lets in a connection from `peer` (`lan`: from the company LAN, which
    /// has no per-source share), closing another to make room if need be.
    pub fn admit(self: &Arc<Self>, peer: IpAddr, lan: bool) -> Result<Admitted, Refused> {
        let source = source_key(peer);
        let mut inner = self.lock();
        let held = inner.by_source.get(&source).map_or(0, BTreeSet::len);
        if !lan && held >= self.limits.per_source {
            inner.refused += 1;
            return Err(Refused::SourceShare {
                address: source,
                held,
            });
        }
        let mut evicted = None;
        if inner.open >= self.limits.total {
            match inner.evict_one() {
                Some(victim) => evicted = Some(victim),
                None => {
                    inner.refused += 1;
                    return Err(Refused::Full { open: inner.open });
                }
            }
        }
        inner.next_id += 1;
        let id = inner.next_id;
        let (evict, watch) = watch::channel(false);
        inner.open += 1;
        inner.unproven.insert(id, Unproven { source, evict });
        inner.by_source.entry(source).or_default().insert(id);
        drop(inner);
        Ok(Admitted {
            ticket: Ticket {
                admission: self.clone(),
                id,
                watch,
            },
            evicted,
        })
    }

    pub fn counts(&self) -> AdmissionCounts {
        let inner = self.lock();
        AdmissionCounts {
            open: inner.open,
            unproven: inner.unproven.len(),
            refused: inner.refused,
            evicted: inner.evicted,
        }
    }

    /// Every update completes under the lock: a poisoned one is taken over.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    /// Closes the oldest unproven connection of the source holding the
    /// most (the older one's source on a tie); returns that source.
    fn evict_one(&mut self) -> Option<IpAddr> {
        let (_, &oldest) = self
            .by_source
            .values()
            .filter_map(|ids| Some((ids.len(), ids.first()?)))
            .max_by(|(a_len, a_oldest), (b_len, b_oldest)| {
                a_len.cmp(b_len).then(b_oldest.cmp(a_oldest))
            })?;
        let victim = self.forget(oldest)?;
        let _ = victim.evict.send(true);
        self.open -= 1;
        self.evicted += 1;
        Some(victim.source)
    }

    /// Takes an unproven connection out of the books (not out of `open`).
    fn forget(&mut self, id: u64) -> Option<Unproven> {
        let entry = self.unproven.remove(&id)?;
        if let Some(ids) = self.by_source.get_mut(&entry.source) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_source.remove(&entry.source);
            }
        }
        Some(entry)
    }
}

/// A connection's place; given back when dropped.
#[derive(Debug)]
pub struct Ticket {
    admission: Arc<Admission>,
    id: u64,
    watch: watch::Receiver<bool>,
}

impl Ticket {
    /// The peer proved who it is: the connection no longer counts against
    /// its source's share and is never closed to make room.
    pub fn prove(&self) {
        self.admission.lock().forget(self.id);
    }

    /// Completes when the connection was closed to make room; never once
    /// it is proven.
    pub async fn evicted(&self) {
        let mut watch = self.watch.clone();
        if watch.wait_for(|evicted| *evicted).await.is_err() {
            // Proven: its sender is gone, and with it any eviction.
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut inner = self.admission.lock();
        let evicted = *self.watch.borrow();
        // An evicted connection already gave its place back.
        if !evicted {
            inner.forget(self.id);
            inner.open -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const LIMITS: Limits = Limits {
        total: 6,
        per_source: 3,
    };

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn admit(admission: &Arc<Admission>, from: &str) -> Admitted {
        admission.admit(ip(from), false).expect("admitted")
    }

    async fn is_evicted(ticket: &Ticket) -> bool {
        tokio::time::timeout(Duration::from_millis(10), ticket.evicted())
            .await
            .is_ok()
    }

    #[test]
    fn an_internet_source_holds_its_share_of_unproven_connections() {
        let admission = Admission::new(Limits {
            total: 100,
            ..LIMITS
        });
        let held: Vec<_> = (0..3).map(|_| admit(&admission, "192.0.2.7")).collect();
        assert_eq!(
            admission.admit(ip("192.0.2.7"), false).map(|_| ()),
            Err(Refused::SourceShare {
                address: ip("192.0.2.7"),
                held: 3
            })
        );
        // The company LAN has no share; a proven connection leaves it.
        for _ in 0..4 {
            assert!(admission.admit(ip("10.0.0.5"), true).is_ok());
        }
        held[0].ticket.prove();
        assert!(admission.admit(ip("192.0.2.7"), false).is_ok());
        assert_eq!(admission.counts().refused, 1);
    }

    #[test]
    fn an_ipv6_source_is_its_slash_64() {
        let admission = Admission::new(LIMITS);
        let _held: Vec<_> = ["2001:db8::1", "2001:db8::2", "2001:db8::3"]
            .into_iter()
            .map(|from| admit(&admission, from))
            .collect();
        assert!(admission.admit(ip("2001:db8::ffff"), false).is_err());
        assert!(admission.admit(ip("2001:db8:0:1::1"), false).is_ok());
    }

    #[tokio::test]
    async fn when_full_the_biggest_holder_loses_its_oldest_unproven_connection() {
        let admission = Admission::new(LIMITS);
        let attacker: Vec<_> = (0..3).map(|_| admit(&admission, "192.0.2.66")).collect();
        let other: Vec<_> = (0..2).map(|_| admit(&admission, "192.0.2.67")).collect();
        let phone = admit(&admission, "198.51.100.1");
        assert_eq!(admission.counts().open, LIMITS.total);

        let app = admit(&admission, "198.51.100.2");
        assert_eq!(app.evicted, Some(ip("192.0.2.66")));
        assert!(is_evicted(&attacker[0].ticket).await);
        assert!(!is_evicted(&attacker[1].ticket).await);
        // Now both attackers hold two: the older connection goes first.
        let next = admit(&admission, "198.51.100.3");
        assert_eq!(next.evicted, Some(ip("192.0.2.66")));
        let next = admit(&admission, "198.51.100.4");
        assert_eq!(next.evicted, Some(ip("192.0.2.67")));
        assert!(!is_evicted(&phone.ticket).await);
        assert!(!is_evicted(&app.ticket).await);
        assert_eq!(
            admission.counts(),
            AdmissionCounts {
                open: 6,
                unproven: 6,
                refused: 0,
                evicted: 3
            }
        );
        drop((attacker, other));
        assert_eq!(
            admission.counts().open,
            4,
            "evicted places are not given twice"
        );
    }

    #[tokio::test]
    async fn proven_connections_are_never_closed_to_make_room() {
        let admission = Admission::new(LIMITS);
        let proven: Vec<_> = (0..LIMITS.total)
            .map(|n| {
                let admitted = admit(&admission, &format!("192.0.2.{n}"));
                admitted.ticket.prove();
                admitted
            })
            .collect();
        assert_eq!(
            admission.admit(ip("192.0.2.200"), false).map(|_| ()),
            Err(Refused::Full { open: 6 })
        );
        for admitted in &proven {
            assert!(!is_evicted(&admitted.ticket).await);
        }
        drop(proven);
        assert_eq!(
            admission.counts(),
            AdmissionCounts {
                open: 0,
                unproven: 0,
                refused: 1,
                evicted: 0
            }
        );
    }
}
