//! STUN Binding messages on the wire (RFC 8489, with the RFC 5780
//! attributes), encoded and decoded by `stun-rs`.

use std::net::SocketAddr;

use stun_rs::attributes::discovery::{
    ChangeRequest, ChangeRequestFlags, OtherAddress, ResponseOrigin,
};
use stun_rs::attributes::stun::{ErrorCode, MappedAddress, Software, XorMappedAddress};
use stun_rs::methods::BINDING;
use stun_rs::{
    MessageClass, MessageDecoderBuilder, MessageEncoderBuilder, StunMessage, StunMessageBuilder,
    TransactionId,
};

/// The 96-bit transaction id that pairs a response with its request.
pub type Transaction = [u8; 12];

/// Where a Binding request asks the server to answer from (RFC 5780
/// CHANGE-REQUEST): the filtering tests use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Change {
    /// Answer from where the request arrived (no CHANGE-REQUEST sent).
    #[default]
    Nothing,
    /// Answer from the same address, other port.
    Port,
    /// Answer from the other address and the other port.
    AddressAndPort,
}

/// A decoded Binding success response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// Our address as the server saw it (XOR-MAPPED-ADDRESS, or MAPPED-ADDRESS
    /// from an RFC 3489 server).
    pub mapped: SocketAddr,
    /// The server's second address and port (RFC 5780); `None` from a server
    /// that cannot do NAT behaviour discovery.
    pub other_address: Option<SocketAddr>,
    /// Where the server says it sent the response from (RFC 5780).
    pub response_origin: Option<SocketAddr>,
}

/// What a response says about its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A success response.
    Success(Binding),
    /// An error response (for example 420 when the server does not know
    /// CHANGE-REQUEST).
    Error {
        /// The STUN error code (300-699).
        code: u16,
        /// The server's reason phrase.
        reason: String,
    },
}

/// A Binding response and the transaction it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The transaction id of the request it answers.
    pub transaction: Transaction,
    /// Success or error.
    pub outcome: Outcome,
}

/// Bytes that are not a usable Binding response (peer misbehaviour or
/// stray traffic); the client ignores them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Not a well-formed STUN message.
    #[error("not a STUN message: {0}")]
    Malformed(String),
    /// A STUN message, but not a Binding response.
    #[error("not a Binding response (method {method:#06x}, class {class})")]
    NotBindingResponse {
        /// The message's method.
        method: u16,
        /// The message's class, in words.
        class: &'static str,
    },
    /// A success response that carries no mapped address.
    #[error("a Binding success response without XOR-MAPPED-ADDRESS or MAPPED-ADDRESS")]
    NoMappedAddress,
    /// An error response without ERROR-CODE.
    #[error("a Binding error response without ERROR-CODE")]
    NoErrorCode,
}

/// The request could not be encoded (a local bug, never the peer's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not encode a STUN Binding request: {0}")]
pub struct EncodeError(String);

/// The SOFTWARE attribute our requests carry.
const SOFTWARE: &str = "device-at-home stun client";

/// Encodes a Binding request with the given transaction id.
pub fn encode_request(transaction: Transaction, change: Change) -> Result<Vec<u8>, EncodeError> {
    let mut builder = StunMessageBuilder::new(BINDING, MessageClass::Request)
        .with_transaction_id(TransactionId::from(transaction));
    let flags = match change {
        Change::Nothing => None,
        Change::Port => Some(ChangeRequestFlags::ChangePort.into()),
        Change::AddressAndPort => {
            Some(ChangeRequestFlags::ChangeIp | ChangeRequestFlags::ChangePort)
        }
    };
    if flags.is_some() {
        builder = builder.with_attribute(ChangeRequest::new(flags));
    }
    let software = Software::new(SOFTWARE).map_err(|e| EncodeError(e.to_string()))?;
    let message = builder.with_attribute(software).build();
    let mut buffer = [0u8; 128];
    let size = MessageEncoderBuilder::default()
        .build()
        .encode(&mut buffer, &message)
        .map_err(|e| EncodeError(e.to_string()))?;
    Ok(buffer[..size].to_vec())
}

/// Decodes a Binding response. Never panics, whatever the bytes.
pub fn decode_response(bytes: &[u8]) -> Result<Response, WireError> {
    let (message, _) = MessageDecoderBuilder::default()
        .build()
        .decode(bytes)
        .map_err(|e| WireError::Malformed(e.to_string()))?;
    let transaction = *message.transaction_id().as_bytes();
    let outcome = match (message.method() == BINDING, message.class()) {
        (true, MessageClass::SuccessResponse) => Outcome::Success(binding(&message)?),
        (true, MessageClass::ErrorResponse) => {
            let error = message
                .get::<ErrorCode>()
                .and_then(|attribute| attribute.as_error_code().ok())
                .ok_or(WireError::NoErrorCode)?
                .error_code();
            Outcome::Error {
                code: error.error_code(),
                reason: error.reason().to_owned(),
            }
        }
        (_, class) => {
            return Err(WireError::NotBindingResponse {
                method: message.method().as_u16(),
                class: class_name(class),
            });
        }
    };
    Ok(Response {
        transaction,
        outcome,
    })
}

fn binding(message: &StunMessage) -> Result<Binding, WireError> {
    let xor_mapped = message
        .get::<XorMappedAddress>()
        .and_then(|a| a.as_xor_mapped_address().ok())
        .map(|a| *a.socket_address());
    let mapped = message
        .get::<MappedAddress>()
        .and_then(|a| a.as_mapped_address().ok())
        .map(|a| *a.socket_address());
    Ok(Binding {
        mapped: xor_mapped.or(mapped).ok_or(WireError::NoMappedAddress)?,
        other_address: message
            .get::<OtherAddress>()
            .and_then(|a| a.as_other_address().ok())
            .map(|a| *a.socket_address()),
        response_origin: message
            .get::<ResponseOrigin>()
            .and_then(|a| a.as_response_origin().ok())
            .map(|a| *a.socket_address()),
    })
}

fn class_name(class: MessageClass) -> &'static str {
    match class {
        MessageClass::Request => "request",
        MessageClass::Indication => "indication",
        MessageClass::SuccessResponse => "success response",
        MessageClass::ErrorResponse => "error response",
    }
}

/// Encodes a Binding response, as a STUN server would: the client's tests
/// script servers with it.
#[cfg(test)]
pub(crate) fn encode_success(transaction: Transaction, binding: Binding) -> Vec<u8> {
    let mut builder = StunMessageBuilder::new(BINDING, MessageClass::SuccessResponse)
        .with_transaction_id(TransactionId::from(transaction))
        .with_attribute(XorMappedAddress::from(binding.mapped));
    if let Some(other) = binding.other_address {
        builder = builder.with_attribute(OtherAddress::from(other));
    }
    if let Some(origin) = binding.response_origin {
        builder = builder.with_attribute(ResponseOrigin::from(origin));
    }
    let mut buffer = [0u8; 256];
    let size = MessageEncoderBuilder::default()
        .build()
        .encode(&mut buffer, &builder.build())
        .expect("a test response fits");
    buffer[..size].to_vec()
}

/// Encodes a Binding error response (tests).
#[cfg(test)]
pub(crate) fn encode_error(transaction: Transaction, code: u16, reason: &str) -> Vec<u8> {
    let error = stun_rs::ErrorCode::new(code, reason).expect("a valid error code");
    let message = StunMessageBuilder::new(BINDING, MessageClass::ErrorResponse)
        .with_transaction_id(TransactionId::from(transaction))
        .with_attribute(ErrorCode::from(error))
        .build();
    let mut buffer = [0u8; 256];
    let size = MessageEncoderBuilder::default()
        .build()
        .encode(&mut buffer, &message)
        .expect("a test response fits");
    buffer[..size].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes a request the way a server would, to check what we send.
    fn decode_request(bytes: &[u8]) -> StunMessage {
        MessageDecoderBuilder::default()
            .build()
            .decode(bytes)
            .expect("a valid request")
            .0
    }

    #[test]
    fn a_plain_request_carries_no_change_request() {
        let bytes = encode_request([7; 12], Change::Nothing).expect("encodes");
        let request = decode_request(&bytes);
        assert_eq!(request.method(), BINDING);
        assert_eq!(request.class(), MessageClass::Request);
        assert_eq!(request.transaction_id().as_bytes(), &[7; 12]);
        assert!(request.get::<ChangeRequest>().is_none());
    }

    #[test]
    fn change_requests_set_the_rfc5780_flags() {
        for (change, ip, port) in [
            (Change::Port, false, true),
            (Change::AddressAndPort, true, true),
        ] {
            let bytes = encode_request([1; 12], change).expect("encodes");
            let flags = decode_request(&bytes)
                .get::<ChangeRequest>()
                .expect("has CHANGE-REQUEST")
                .as_change_request()
                .expect("is CHANGE-REQUEST")
                .flags();
            assert_eq!(flags.contains(ChangeRequestFlags::ChangeIp), ip);
            assert_eq!(flags.contains(ChangeRequestFlags::ChangePort), port);
        }
    }

    #[test]
    fn a_success_response_round_trips() {
        let binding = Binding {
            mapped: "203.0.113.20:40000".parse().expect("addr"),
            other_address: Some("203.0.113.4:3479".parse().expect("addr")),
            response_origin: Some("203.0.113.3:3478".parse().expect("addr")),
        };
        let response = decode_response(&encode_success([9; 12], binding)).expect("decodes");
        assert_eq!(response.transaction, [9; 12]);
        assert_eq!(response.outcome, Outcome::Success(binding));
    }

    #[test]
    fn an_error_response_keeps_code_and_reason() {
        let response =
            decode_response(&encode_error([3; 12], 420, "Unknown Attribute")).expect("decodes");
        assert_eq!(
            response.outcome,
            Outcome::Error {
                code: 420,
                reason: "Unknown Attribute".into()
            }
        );
    }

    #[test]
    fn garbage_and_requests_are_errors_not_panics() {
        assert!(matches!(
            decode_response(b"hello"),
            Err(WireError::Malformed(_))
        ));
        assert!(matches!(decode_response(&[]), Err(WireError::Malformed(_))));
        let request = encode_request([2; 12], Change::Nothing).expect("encodes");
        assert!(matches!(
            decode_response(&request),
            Err(WireError::NotBindingResponse { .. })
        ));
        // Every truncation of a valid response.
        let full = encode_success(
            [5; 12],
            Binding {
                mapped: "192.0.2.1:1".parse().expect("addr"),
                other_address: None,
                response_origin: None,
            },
        );
        for len in 0..full.len() {
            assert!(decode_response(&full[..len]).is_err(), "length {len}");
        }
    }
}
