//! The baseline: the same phones, registered over raw HFA connections
//! ([`RawPhone`]), each sending an Alive Request and waiting for the Alive
//! Response in a loop. That is the gateway's signalling round trip
//! without call control: frame decoding, the connection's sans-IO engine,
//! frame encoding and two trips through the loopback TCP stack.
//!
//! The softphone's driver cannot be used for this: its engine answers Alive
//! Responses itself and reports none of them.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use e2e_tests::raw::{RawPhone, register_message};
use shared::hfa::{AliveRequest, Message, Subscriber, Timestamp};

use crate::common::office;

/// One phone's round trips in the window.
#[derive(Debug, Default)]
pub struct PingOutcome {
    /// Per round trip: when the response came, and the round-trip time.
    pub round_trips: Vec<(Instant, Duration)>,
    /// Why the phone stopped early, if it did.
    pub failure: Option<String>,
    /// Other messages received meanwhile (the gateway's own keepalives).
    pub other_messages: u64,
}

/// Connects and registers `phone`, then does one round trip, which also
/// takes in the idle screen the gateway sends after a registration.
pub async fn register(
    gateway: SocketAddr,
    phone: &office::Phone,
    patience: Duration,
) -> Result<RawPhone, String> {
    let attempt = async {
        let mut raw = RawPhone::try_connect(gateway)
            .await
            .map_err(|error| format!("connect: {error}"))?;
        raw.try_send(AliveRequest::TimestampRequest)
            .await
            .map_err(|error| format!("send: {error}"))?;
        let challenge = match next(&mut raw).await? {
            Message::AliveResponse(response) => response.timestamp,
            other => {
                return Err(format!(
                    "{:?} instead of the challenge",
                    other.message_type()
                ));
            }
        };
        let subscriber = Subscriber::new(&phone.number).map_err(|error| error.to_string())?;
        let register = register_message(challenge, subscriber, &phone.password);
        raw.try_send(register)
            .await
            .map_err(|error| format!("send: {error}"))?;
        match next(&mut raw).await? {
            Message::RegisterResponse(_) => {}
            Message::RegisterDecline(decline) => {
                return Err(format!("declined: {}", decline.cause.describe()));
            }
            other => return Err(format!("{:?} instead of the answer", other.message_type())),
        }
        round_trip(&mut raw, Timestamp(0)).await?;
        Ok(raw)
    };
    tokio::time::timeout(patience, attempt)
        .await
        .unwrap_or_else(|_| Err("registration timed out".to_owned()))
}

/// Alive Request → Alive Response until `end`; a round trip that takes
/// longer than `patience` ends the loop.
pub async fn ping(mut phone: RawPhone, end: Instant, patience: Duration) -> PingOutcome {
    let mut outcome = PingOutcome::default();
    let mut timestamp = 1u32;
    while Instant::now() < end {
        let sent = Instant::now();
        let trip = tokio::time::timeout(patience, round_trip(&mut phone, Timestamp(timestamp)));
        match trip.await {
            Ok(Ok(others)) => {
                let now = Instant::now();
                outcome.round_trips.push((now, now - sent));
                outcome.other_messages += others;
            }
            Ok(Err(why)) => {
                outcome.failure = Some(why);
                break;
            }
            Err(_) => {
                outcome.failure = Some(format!("no Alive Response within {patience:?}"));
                break;
            }
        }
        timestamp = timestamp.wrapping_add(1);
    }
    outcome
}

/// One Alive Request and its response; the number of other messages that
/// came before it.
async fn round_trip(phone: &mut RawPhone, timestamp: Timestamp) -> Result<u64, String> {
    phone
        .try_send(AliveRequest::KeepAlive(timestamp))
        .await
        .map_err(|error| format!("send: {error}"))?;
    let mut others = 0;
    loop {
        match next(phone).await? {
            Message::AliveResponse(_) => return Ok(others),
            _ => others += 1,
        }
    }
}

async fn next(phone: &mut RawPhone) -> Result<Message, String> {
    match phone.next_message().await {
        Ok(Some(message)) => Ok(message),
        Ok(None) => Err("the gateway closed the connection".to_owned()),
        Err(error) => Err(format!("not HFA: {error}")),
    }
}
