//! The phones registered right now, by subscriber number.
//!
//! One entry per subscriber: a second registration of the same number
//! replaces the first, whose connection is told why and closed. The entry of
//! a connection that ends is removed only if it is still that connection's
//! (a replaced connection must not remove its successor).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use shared::hfa::{DeclineCause, Message, SessionId};
use tokio::sync::mpsc;

/// Identifies one accepted TCP connection for the life of the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionId(pub u64);

impl ConnectionId {
    /// The phone on this connection, as call control knows its attachment.
    pub const fn attachment(self) -> crate::calls::AttachmentId {
        crate::calls::AttachmentId::new("hfa", self.0)
    }
}

/// What the rest of the gateway asks of a phone's connection task.
#[derive(Debug)]
pub enum ConnectionCommand {
    /// Send a stimulus or media message to the phone (boxed: the channel
    /// reserves room for many commands per connection, and a message is
    /// ten times the size of a pointer).
    Send(Box<Message>),
    /// Decline with `cause` (replaced, system going down) and close.
    Terminate(DeclineCause),
}

/// A registered phone.
#[derive(Debug, Clone)]
pub struct RegisteredPhone {
    pub connection: ConnectionId,
    pub session: SessionId,
    /// Where the registration came from (after any NAT).
    pub source: SocketAddr,
    /// The software release the phone reported when it registered.
    pub release: String,
    pub commands: mpsc::UnboundedSender<ConnectionCommand>,
}

/// The registered phones, and the session ids in use.
#[derive(Debug, Default)]
pub struct Registry {
    phones: HashMap<String, RegisteredPhone>,
    sessions: HashSet<SessionId>,
    last_session: u16,
}

impl Registry {
    /// A session id not in use (1..=65535), or `None` when all are taken.
    /// It counts as in use once a phone is inserted with it.
    pub fn allocate_session(&mut self) -> Option<SessionId> {
        for _ in 0..u16::MAX {
            self.last_session = self.last_session.checked_add(1).unwrap_or(1);
            let candidate = SessionId(self.last_session);
            if !self.sessions.contains(&candidate) {
                return Some(candidate);
            }
        }
        None
    }

    /// Registers `phone` as `number`; returns the registration it replaces.
    pub fn insert(&mut self, number: &str, phone: RegisteredPhone) -> Option<RegisteredPhone> {
        self.sessions.insert(phone.session);
        let replaced = self.phones.insert(number.to_owned(), phone);
        if let Some(old) = &replaced {
            self.sessions.remove(&old.session);
        }
        replaced
    }

    /// Removes `number` if it is still registered on `connection`.
    pub fn remove(&mut self, number: &str, connection: ConnectionId) -> bool {
        if self
            .phones
            .get(number)
            .is_some_and(|phone| phone.connection == connection)
        {
            if let Some(phone) = self.phones.remove(number) {
                self.sessions.remove(&phone.session);
            }
            return true;
        }
        false
    }

    pub fn get(&self, number: &str) -> Option<&RegisteredPhone> {
        self.phones.get(number)
    }

    /// Every registered phone with its number.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &RegisteredPhone)> {
        self.phones
            .iter()
            .map(|(number, phone)| (number.as_str(), phone))
    }

    pub fn len(&self) -> usize {
        self.phones.len()
    }

    pub fn is_empty(&self) -> bool {
        self.phones.is_empty()
    }
}
