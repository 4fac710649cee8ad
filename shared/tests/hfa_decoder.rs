//! The stream decoder against TCP's habits: frames split across segments,
//! several frames in one segment, one byte at a time, and lengths out of
//! bounds.

use bytes::BytesMut;
use shared::hfa::stimulus::{SetDisplay, Stimulus};
use shared::hfa::{
    AliveRequest, AliveResponse, Codec, DeclineCause, DecodeError, Frame, FrameDecoder, Header,
    Key, MAX_FRAME_LEN, RegisterDecline, SequenceNumber, SessionId, Text, Timestamp,
};

fn frames() -> Vec<Frame> {
    let header = |sequence| Header::new(SessionId(7), SequenceNumber(sequence));
    let text = Text::new("Hello").expect("latin-1");
    vec![
        Frame::new(header(1), AliveRequest::TimestampRequest),
        Frame::new(
            header(2),
            AliveResponse {
                timestamp: Timestamp(42),
            },
        ),
        Frame::new(header(3), Stimulus::KeyPress(Key::HASH)),
        Frame::new(
            header(4),
            Stimulus::SetDisplay(SetDisplay {
                row: 1,
                column: 2,
                text,
            }),
        ),
        Frame::new(header(5), RegisterDecline::new(DeclineCause::SYSTEM_BUSY)),
    ]
}

/// All frames back to back, as one byte stream.
fn stream(frames: &[Frame]) -> Vec<u8> {
    let mut out = BytesMut::new();
    for frame in frames {
        frame.encode(&mut out).expect("encodes");
    }
    out.to_vec()
}

/// Feeds `bytes` in chunks of `size` and collects every result.
fn feed(decoder: &mut FrameDecoder, bytes: &[u8], size: usize) -> Vec<Result<Frame, DecodeError>> {
    let mut out = Vec::new();
    for mut chunk in bytes.chunks(size) {
        loop {
            match decoder.decode(&mut chunk) {
                Ok(Some(frame)) => out.push(Ok(frame)),
                Ok(None) => break,
                Err(error) => {
                    out.push(Err(error.clone()));
                    if error.is_framing() {
                        return out;
                    }
                }
            }
        }
    }
    out
}

#[test]
fn joined_frames_in_one_segment_all_come_out() {
    let expected = frames();
    let mut decoder = FrameDecoder::new();
    let got = feed(&mut decoder, &stream(&expected), usize::MAX);
    assert_eq!(got, expected.into_iter().map(Ok).collect::<Vec<_>>());
    assert_eq!(decoder.buffered(), 0);
}

#[test]
fn byte_by_byte_and_every_split_give_the_same_frames() {
    let expected: Vec<_> = frames().into_iter().map(Ok).collect();
    let bytes = stream(&frames());
    for size in 1..=bytes.len() {
        let mut decoder = FrameDecoder::new();
        assert_eq!(
            feed(&mut decoder, &bytes, size),
            expected,
            "chunk size {size}"
        );
        assert_eq!(decoder.buffered(), 0);
    }
}

#[test]
fn a_split_at_every_position_of_one_frame() {
    let frame = frames().swap_remove(3);
    let bytes = frame.to_bytes().expect("encodes");
    for cut in 0..=bytes.len() {
        let mut decoder = FrameDecoder::new();
        let (mut head, mut tail) = bytes.split_at(cut);
        let first = decoder.decode(&mut head);
        if cut < bytes.len() {
            assert_eq!(first, Ok(None), "cut at {cut}");
            assert_eq!(decoder.buffered(), cut);
            assert_eq!(decoder.decode(&mut tail), Ok(Some(frame.clone())));
        } else {
            assert_eq!(first, Ok(Some(frame.clone())));
        }
        assert_eq!(decoder.decode(&mut tail), Ok(None));
    }
}

#[test]
fn too_short_lengths_are_framing_errors() {
    for len in [0u16, 1, 2, 10] {
        let mut decoder = FrameDecoder::new();
        let mut bytes: &[u8] = &[
            (len >> 8) as u8,
            len as u8,
            1,
            0,
            0,
            0,
            0,
            0,
            0,
            1,
            0x28,
            0,
            0,
            0,
        ];
        let error = DecodeError::FrameTooShort { len: len.into() };
        assert_eq!(decoder.decode(&mut bytes), Err(error.clone()));
        assert!(error.is_framing());
        assert_eq!(decoder.decode(&mut bytes), Err(error));
    }
}

#[test]
fn too_long_lengths_are_framing_errors_before_any_body_is_buffered() {
    for len in [MAX_FRAME_LEN + 1, 0xffff] {
        let mut decoder = FrameDecoder::new();
        let wire = u16::try_from(len).expect("fits").to_be_bytes();
        let mut bytes: &[u8] = &[wire[0], wire[1], 1, 0, 0];
        assert_eq!(
            decoder.decode(&mut bytes),
            Err(DecodeError::FrameTooLong { len })
        );
        assert!(decoder.buffered() <= 2);
    }
}

#[test]
fn the_longest_frame_is_accepted() {
    let mut bytes = vec![0x10, 0x00, 1, 0, 0, 0, 0, 0, 0, 1, 0x99];
    bytes.resize(MAX_FRAME_LEN, 0xaa);
    let mut decoder = FrameDecoder::new();
    let frame = feed(&mut decoder, &bytes, 1000)
        .pop()
        .expect("one result")
        .expect("decodes");
    assert_eq!(frame.to_bytes().expect("re-encodes").len(), MAX_FRAME_LEN);
}

#[test]
fn a_connection_closed_mid_frame_leaves_bytes_buffered() {
    let bytes = stream(&frames());
    let mut decoder = FrameDecoder::new();
    let results = feed(&mut decoder, &bytes[..bytes.len() - 3], 4);
    assert_eq!(results.len(), 4);
    assert!(decoder.buffered() > 0);
}

#[test]
fn a_bad_body_does_not_lose_the_frames_after_it() {
    let mut bytes = vec![0, 12, 1, 0, 0, 0, 0, 0, 0, 1, 0x07, 0xee];
    bytes.extend(stream(&frames()));
    let mut decoder = FrameDecoder::new();
    let results = feed(&mut decoder, &bytes, 5);
    assert_eq!(
        results.first(),
        Some(&Err(DecodeError::Truncated { what: "IE length" }))
    );
    assert_eq!(results.len(), 1 + frames().len());
    assert!(results[1..].iter().all(Result::is_ok));
}
