//! Byte-exact frames, written by hand from the offsets of the protocol
//! document (`docs/hfa-protocol.md`, which shows the same hex): each must
//! decode to the expected message and the message must encode to exactly
//! these bytes.

use std::net::Ipv4Addr;

use shared::hfa::stimulus::{Cadence, RingerSound, RingerVolume, SetDisplay, StartRinger};
use shared::hfa::{
    AliveRequest, AliveResponse, Codec, CodecCapabilities, CodecEntry, DeclineCause, DeviceAddress,
    Frame, HashAlgorithm, Header, Key, LedState, MacAddress, MediaDirection, MediaId, Message,
    PayloadType, PhoneId, Register, RegisterDecline, RegisterResponse, RegistrationData,
    SequenceNumber, SessionId, SetPayload, Stimulus, Subscriber, SubscriberNumber, Text, Timestamp,
};
use shared::secret::Secret;

/// Bytes from hex text; whitespace and `|` separators are ignored.
fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    assert_eq!(digits.len() % 2, 0, "odd number of hex digits");
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).expect("ascii"), 16).expect("hex"))
        .collect()
}

fn header(session: u16, sequence: u32) -> Header {
    Header::new(SessionId(session), SequenceNumber(sequence))
}

/// Checks both directions: `wire` decodes to `frame`, `frame` encodes to `wire`.
fn check(wire: &str, frame: Frame) {
    let wire = hex(wire);
    assert_eq!(Frame::from_bytes(&wire).as_ref(), Ok(&frame));
    assert_eq!(frame.to_bytes().expect("encodes").as_ref(), &wire[..]);
}

#[test]
fn register() {
    let subscriber = Subscriber::new("201").expect("digits");
    let challenge = Timestamp(0x6553_f100);
    let register = Register {
        device_address: Some(DeviceAddress::Ipv4(Ipv4Addr::new(192, 168, 1, 20))),
        subscriber: SubscriberNumber::internal(subscriber.clone()),
        mac: Some(MacAddress([0x00, 0x1a, 0xe8, 0x01, 0x02, 0x03])),
        registration: RegistrationData::signed(
            PhoneId::OPENSTAGE_40,
            challenge,
            &subscriber,
            &Secret::new("secret"),
            "V3R0.33.1",
        ),
        other_ies: Vec::new(),
    };
    assert_eq!(register.registration.algorithm, HashAlgorithm::HMAC_SHA1);
    assert!(register.verify(&Secret::new("secret")));
    assert!(!register.verify(&Secret::new("secret2")));
    check(
        "0071 | 01 00 0000 00000001 | 04
         01 000d 01 3139322e3136382e312e3230
         72 0004 81 323031
         7f 0006 001ae8010203
         0e 0043 2c 0000000000000000000000000000000000000000000000000000000000
                 6553f100 00000001
                 fb4fe6f043e747acf38dbe0518063c4028fbba3d
                 563352302e33332e31",
        Frame::new(header(0, 1), register),
    );
}

#[test]
fn register_response_assigns_the_session_in_its_header() {
    check(
        "0019 | 01 00 0001 00000002 | 06
         78 0003 01 03 01
         7b 0001 00
         28 0001 01",
        Frame::new(header(1, 2), RegisterResponse::openscape_business(3, 1)),
    );
}

#[test]
fn register_decline() {
    check(
        "000f | 01 00 0000 00000002 | 07
         08 0001 02",
        Frame::new(
            header(0, 2),
            RegisterDecline::new(DeclineCause::WRONG_PASSWORD),
        ),
    );
}

#[test]
fn alive_timestamp_request_and_answer() {
    check(
        "000e | 01 00 0000 00000001 | 28 000000",
        Frame::new(header(0, 1), AliveRequest::TimestampRequest),
    );
    check(
        "0015 | 01 00 0000 00000001 | 2a 000000000000 6553f100",
        Frame::new(
            header(0, 1),
            AliveResponse {
                timestamp: Timestamp(0x6553_f100),
            },
        ),
    );
}

#[test]
fn alive_keep_alive() {
    check(
        "0015 | 01 00 0001 00000005 | 28 000000000000 6553f13c",
        Frame::new(
            header(1, 5),
            AliveRequest::KeepAlive(Timestamp(0x6553_f13c)),
        ),
    );
}

#[test]
fn key_press() {
    let key = Key::from_digit('2').expect("digit");
    check(
        "000d | 01 00 0001 00000007 | 20 40 02",
        Frame::new(header(1, 7), Stimulus::KeyPress(key)),
    );
}

#[test]
fn led() {
    let led = Stimulus::Led {
        key: Key::fpk(1).expect("fpk"),
        state: LedState::FLASH_500_500,
    };
    check(
        "000e | 01 00 0001 00000009 | 20 40 12 04",
        Frame::new(header(1, 9), led),
    );
}

#[test]
fn set_display() {
    let text = Text::new("Calling 202").expect("latin-1");
    let display = Stimulus::SetDisplay(SetDisplay {
        row: 0,
        column: 0,
        text,
    });
    check(
        "001a | 01 00 0001 0000000a | 20 43 00 00 00 43616c6c696e6720323032",
        Frame::new(header(1, 10), display),
    );
}

#[test]
fn start_ringer_double_ring() {
    let ringer = StartRinger {
        volume: RingerVolume::ring(5).expect("volume"),
        sound: RingerSound::ring(1).expect("sound"),
        cadence: Cadence { pulse: 8, pause: 4 },
        second: Some(Cadence {
            pulse: 8,
            pause: 60,
        }),
    };
    check(
        "0012 | 01 00 0002 0000000b | 20 55 94 30 08 04 08 3c",
        Frame::new(header(2, 11), Stimulus::StartRinger(ringer)),
    );
}

#[test]
fn codec_capabilities() {
    let address = Ipv4Addr::new(192, 168, 1, 20).into();
    let entry = |payload_type, silence_suppression| CodecEntry {
        payload_type,
        packet_ms: 20,
        silence_suppression,
        rtp_port: 5004,
        rtcp_port: 5005,
        address,
    };
    let caps: CodecCapabilities = [
        entry(PayloadType::PCMA, false),
        entry(PayloadType::PCMU, true),
    ]
    .into_iter()
    .collect();
    check(
        "004b | 01 00 0001 00000003 | 30
         01 001d 0000 08 00 14 00 138c 138d 000000000000 3139322e3136382e312e323000
         01 001d 0000 00 00 14 01 138c 138d 000000000000 3139322e3136382e312e323000",
        Frame::new(header(1, 3), caps),
    );
}

#[test]
fn set_payload() {
    let payload = SetPayload {
        direction: MediaDirection::SendReceive,
        payload_type: PayloadType::PCMA,
        packet_ms: 20,
        media_id: MediaId(7),
        address: Ipv4Addr::new(87, 173, 127, 147).into(),
        rtp_port: 30_274,
        rtcp_port: 30_275,
    };
    check(
        "002d | 01 00 0001 0000000c | 31
         0000 0c 08 14 00000007 7642 7643 000000000000 38372e3137332e3132372e31343700",
        Frame::new(header(1, 12), payload),
    );
}

#[test]
fn message_types_are_the_known_codes() {
    let frame =
        Frame::from_bytes(&hex("000d 01 00 0000 00000001 99 abcd")).expect("unknown type decodes");
    assert!(matches!(frame.message, Message::Unknown { .. }));
    assert_eq!(
        format!("{:?}", frame.message.message_type()),
        "MessageType(0x99)"
    );
}
