//! pcapng captures of our own traffic (`--capture FILE`), written from the
//! sockets' own send and receive points: every datagram and every TCP read
//! or write is wrapped in synthesized Ethernet/IPv4 (or IPv6)/UDP or TCP
//! headers with the real ports, lengths and checksums, so Wireshark and
//! tshark dissect HFA (TCP payload on its port), TLS and RTP as if captured
//! on the wire.
//!
//! Recording never blocks the caller: records go through a bounded channel
//! to a writer thread; when it is full the record is dropped and counted
//! ([`Capture::dropped`]). The writer flushes whenever the channel runs
//! empty, so the file is complete up to the last record once traffic stops.
//!
//! TCP connections get a synthesized handshake (SYN, SYN-ACK, ACK) the
//! first time they are seen and sequence and acknowledgement numbers that
//! advance with the bytes each side sent, which Wireshark's stream
//! reassembly needs.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use etherparse::PacketBuilder;
use pcap_file::DataLink;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};

/// Records waiting for the writer thread before new ones are dropped.
const QUEUE: usize = 8192;
/// TCP payload per synthesized segment (an IPv4 packet holds at most 64 KiB).
const SEGMENT: usize = 32 * 1024;
/// The window every synthesized TCP header announces.
const WINDOW: u16 = 65535;

/// A capture being written; clones record into the same file.
#[derive(Debug, Clone)]
pub struct Capture {
    records: SyncSender<Record>,
    dropped: Arc<AtomicU64>,
}

/// One thing seen on a socket, stamped when it was seen.
#[derive(Debug)]
struct Record {
    at: SystemTime,
    from: SocketAddr,
    to: SocketAddr,
    what: What,
}

#[derive(Debug)]
enum What {
    Udp(Vec<u8>),
    TcpData(Vec<u8>),
    /// `from` (the client) connected to `to`.
    TcpOpen,
    /// `from` closed its sending side.
    TcpClose,
}

impl Capture {
    /// Creates `path` (truncating it) and starts the writer thread.
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = BufWriter::new(File::create(path)?);
        let mut writer = PcapNgWriter::new(file).map_err(io::Error::other)?;
        let interface = InterfaceDescriptionBlock {
            linktype: DataLink::ETHERNET,
            snaplen: 0,
            // Nanosecond timestamps, to line up with the trace files.
            options: vec![InterfaceDescriptionOption::IfTsResol(9)],
        };
        writer
            .write_pcapng_block(interface)
            .map_err(io::Error::other)?;
        writer.get_mut().flush()?;
        let (records, receiver) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("capture-writer".into())
            .spawn(move || write_all(writer, receiver))?;
        Ok(Self {
            records,
            dropped: Arc::new(AtomicU64::new(0)),
        })
    }

    /// A datagram `from` → `to` (sent or received).
    pub fn udp(&self, from: SocketAddr, to: SocketAddr, payload: &[u8]) {
        self.record(from, to, What::Udp(payload.to_vec()));
    }

    /// Bytes `from` → `to` on a TCP connection (written or read).
    pub fn tcp(&self, from: SocketAddr, to: SocketAddr, payload: &[u8]) {
        if !payload.is_empty() {
            self.record(from, to, What::TcpData(payload.to_vec()));
        }
    }

    /// `client` connected to `server` (accepted or connected).
    pub fn tcp_open(&self, client: SocketAddr, server: SocketAddr) {
        self.record(client, server, What::TcpOpen);
    }

    /// `from` closed its side of the connection to `to`.
    pub fn tcp_close(&self, from: SocketAddr, to: SocketAddr) {
        self.record(from, to, What::TcpClose);
    }

    /// Records dropped because the writer fell behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn record(&self, from: SocketAddr, to: SocketAddr, what: What) {
        let record = Record {
            at: SystemTime::now(),
            from,
            to,
            what,
        };
        match self.records.try_send(record) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// The writer thread: until every [`Capture`] is gone, writes what comes
/// and flushes whenever the queue runs empty. A write error ends it (the
/// senders then count drops).
fn write_all(mut writer: PcapNgWriter<BufWriter<File>>, records: Receiver<Record>) {
    let mut flows = Flows::default();
    while let Ok(first) = records.recv() {
        let mut next = Some(first);
        while let Some(record) = next {
            for frame in flows.frames(&record) {
                if write_frame(&mut writer, record.at, &frame).is_err() {
                    return;
                }
            }
            next = records.try_recv().ok();
        }
        if writer.get_mut().flush().is_err() {
            return;
        }
    }
}

fn write_frame(
    writer: &mut PcapNgWriter<BufWriter<File>>,
    at: SystemTime,
    frame: &[u8],
) -> Result<(), pcap_file::PcapError> {
    let block = EnhancedPacketBlock {
        interface_id: 0,
        timestamp: at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO),
        original_len: u32::try_from(frame.len()).unwrap_or(u32::MAX),
        data: frame.into(),
        options: vec![],
    };
    writer.write_pcapng_block(block).map(|_| ())
}

/// Sequence numbers of the TCP connections seen: per direction, the next
/// byte's number.
#[derive(Debug, Default)]
struct Flows {
    next_seq: HashMap<(SocketAddr, SocketAddr), u32>,
    /// Directions that sent their FIN while the other side had not.
    closed: HashSet<(SocketAddr, SocketAddr)>,
}

/// TCP flags of a synthesized segment.
#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    syn: bool,
    ack: bool,
    fin: bool,
    psh: bool,
}

impl Flows {
    /// The Ethernet frames for `record`.
    fn frames(&mut self, record: &Record) -> Vec<Vec<u8>> {
        let (from, to) = (record.from, record.to);
        match &record.what {
            What::Udp(payload) => udp_frame(from, to, payload).into_iter().collect(),
            What::TcpOpen => self.open(from, to),
            What::TcpData(payload) => {
                let mut frames = if self.next_seq.contains_key(&(from, to)) {
                    Vec::new()
                } else {
                    self.open(from, to)
                };
                for chunk in payload.chunks(SEGMENT) {
                    let flags = Flags {
                        ack: true,
                        psh: true,
                        ..Flags::default()
                    };
                    frames.extend(self.segment(from, to, flags, chunk));
                }
                frames
            }
            What::TcpClose => {
                if !self.next_seq.contains_key(&(from, to)) {
                    return Vec::new();
                }
                let flags = Flags {
                    fin: true,
                    ack: true,
                    ..Flags::default()
                };
                let frames = self.segment(from, to, flags, &[]).into_iter().collect();
                // Both sides closed: forget the connection (a new one may
                // reuse the ports).
                if self.closed.remove(&(to, from)) {
                    self.next_seq.remove(&(from, to));
                    self.next_seq.remove(&(to, from));
                } else {
                    self.closed.insert((from, to));
                }
                frames
            }
        }
    }

    /// The three-way handshake of `client` → `server`, from initial
    /// sequence numbers that differ per connection.
    fn open(&mut self, client: SocketAddr, server: SocketAddr) -> Vec<Vec<u8>> {
        self.closed.remove(&(client, server));
        self.closed.remove(&(server, client));
        self.next_seq.insert((client, server), isn(client, server));
        self.next_seq.insert((server, client), isn(server, client));
        let syn = Flags {
            syn: true,
            ..Flags::default()
        };
        let syn_ack = Flags {
            syn: true,
            ack: true,
            ..Flags::default()
        };
        let ack = Flags {
            ack: true,
            ..Flags::default()
        };
        [
            self.segment(client, server, syn, &[]),
            self.segment(server, client, syn_ack, &[]),
            self.segment(client, server, ack, &[]),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// One segment `from` → `to`; advances `from`'s sequence number by the
    /// payload (and by one for SYN and FIN).
    fn segment(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        flags: Flags,
        payload: &[u8],
    ) -> Option<Vec<u8>> {
        let seq = *self.next_seq.get(&(from, to))?;
        let ack = self.next_seq.get(&(to, from)).copied().unwrap_or(0);
        let consumed = payload.len() as u32 + u32::from(flags.syn) + u32::from(flags.fin);
        self.next_seq.insert((from, to), seq.wrapping_add(consumed));
        tcp_frame(from, to, seq, ack, flags, payload)
    }
}

/// A per-connection initial sequence number (a hash of the addresses).
fn isn(from: SocketAddr, to: SocketAddr) -> u32 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one((from, to)) as u32
}

fn udp_frame(from: SocketAddr, to: SocketAddr, payload: &[u8]) -> Option<Vec<u8>> {
    let builder = ip(from, to).udp(from.port(), to.port());
    let mut frame = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut frame, payload).ok()?;
    Some(frame)
}

fn tcp_frame(
    from: SocketAddr,
    to: SocketAddr,
    seq: u32,
    ack: u32,
    flags: Flags,
    payload: &[u8],
) -> Option<Vec<u8>> {
    let mut builder = ip(from, to).tcp(from.port(), to.port(), seq, WINDOW);
    if flags.syn {
        builder = builder.syn();
    }
    if flags.ack {
        builder = builder.ack(ack);
    }
    if flags.fin {
        builder = builder.fin();
    }
    if flags.psh {
        builder = builder.psh();
    }
    let mut frame = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut frame, payload).ok()?;
    Some(frame)
}

/// Ethernet (made-up MACs from the addresses) and IPv4, or IPv6 when either
/// side is IPv6 (an IPv4 side then appears IPv4-mapped).
fn ip(from: SocketAddr, to: SocketAddr) -> etherparse::PacketBuilderStep<etherparse::IpHeaders> {
    let ethernet = PacketBuilder::ethernet2(mac(from.ip()), mac(to.ip()));
    match (from.ip(), to.ip()) {
        (IpAddr::V4(source), IpAddr::V4(destination)) => {
            ethernet.ipv4(source.octets(), destination.octets(), 64)
        }
        (source, destination) => ethernet.ipv6(v6(source), v6(destination), 64),
    }
}

fn v6(address: IpAddr) -> [u8; 16] {
    match address {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// A locally administered MAC ending in the address's last four bytes.
fn mac(address: IpAddr) -> [u8; 6] {
    let octets = v6(address);
    [2, 0, octets[12], octets[13], octets[14], octets[15]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    fn at(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// (seq, ack, syn, fin, payload length) of a synthesized TCP frame,
    /// after checking its checksum.
    fn tcp_of(frame: &[u8]) -> (u32, u32, bool, bool, usize) {
        let packet = SlicedPacket::from_ethernet(frame).expect("a well-formed frame");
        let Some(NetSlice::Ipv4(ip)) = &packet.net else {
            panic!("IPv4 expected")
        };
        let Some(TransportSlice::Tcp(tcp)) = &packet.transport else {
            panic!("TCP expected")
        };
        let header = tcp.to_header();
        let checksum = header
            .calc_checksum_ipv4(&ip.header().to_header(), tcp.payload())
            .expect("checksum");
        assert_eq!(header.checksum, checksum, "TCP checksum");
        (
            tcp.sequence_number(),
            tcp.acknowledgment_number(),
            tcp.syn(),
            tcp.fin(),
            tcp.payload().len(),
        )
    }

    fn record(from: SocketAddr, to: SocketAddr, what: What) -> Record {
        Record {
            at: SystemTime::now(),
            from,
            to,
            what,
        }
    }

    #[test]
    fn a_connection_gets_a_handshake_and_sequence_numbers_that_follow_the_bytes() {
        let (phone, system) = (at(40000), at(4060));
        let mut flows = Flows::default();
        let mut frames = flows.frames(&record(phone, system, What::TcpData(vec![1; 10])));
        frames.extend(flows.frames(&record(system, phone, What::TcpData(vec![2; 70000]))));
        frames.extend(flows.frames(&record(phone, system, What::TcpClose)));
        let segments: Vec<_> = frames.iter().map(|frame| tcp_of(frame)).collect();
        // SYN, SYN-ACK, ACK, 10 bytes, 70000 bytes in three segments, FIN.
        assert_eq!(segments.len(), 8, "{segments:?}");
        let (client_isn, _, syn, _, _) = segments[0];
        let (server_isn, acked, syn_ack, _, _) = segments[1];
        assert!(syn && syn_ack);
        assert_eq!(acked, client_isn.wrapping_add(1));
        let (seq, ack, _, _, len) = segments[3];
        assert_eq!(
            (seq, ack, len),
            (client_isn.wrapping_add(1), server_isn.wrapping_add(1), 10)
        );
        let mut next = server_isn.wrapping_add(1);
        for &(seq, ack, _, _, len) in &segments[4..7] {
            assert_eq!(seq, next, "the server's bytes follow on");
            assert_eq!(
                ack,
                client_isn.wrapping_add(11),
                "acknowledging the phone's 10 bytes"
            );
            next = next.wrapping_add(len as u32);
        }
        assert_eq!(next, server_isn.wrapping_add(70001));
        let (seq, ack, _, fin, _) = segments[7];
        assert!(fin);
        assert_eq!((seq, ack), (client_isn.wrapping_add(11), next));
    }

    #[test]
    fn a_datagram_keeps_its_ports_and_payload() {
        let frame = udp_frame(at(30274), at(5004), &[0x80, 8, 0, 1]).expect("a frame");
        let packet = SlicedPacket::from_ethernet(&frame).expect("well-formed");
        let Some(TransportSlice::Udp(udp)) = &packet.transport else {
            panic!("UDP expected")
        };
        assert_eq!((udp.source_port(), udp.destination_port()), (30274, 5004));
        assert_eq!(udp.payload(), &[0x80, 8, 0, 1]);
    }

    #[test]
    fn ipv6_peers_get_ipv6_frames() {
        let v6 = SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], 4060));
        let frame = udp_frame(at(1), v6, b"x").expect("a frame");
        let packet = SlicedPacket::from_ethernet(&frame).expect("well-formed");
        assert!(matches!(packet.net, Some(NetSlice::Ipv6(_))));
    }

    #[test]
    fn the_file_holds_every_record_once_the_writer_caught_up() {
        let dir = std::env::temp_dir().join(format!("capture-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("unit.pcapng");
        let capture = Capture::create(&path).expect("created");
        for n in 0..100u8 {
            capture.udp(at(1000), at(2000), &[n; 20]);
        }
        let count = || {
            let Ok(file) = File::open(&path) else {
                return 0;
            };
            let Ok(mut reader) = pcap_file::pcapng::PcapNgReader::new(file) else {
                return 0;
            };
            let mut packets = 0;
            while let Some(Ok(block)) = reader.next_block() {
                if block.into_enhanced_packet().is_some() {
                    packets += 1;
                }
            }
            packets
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while count() < 100 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(count(), 100);
        assert_eq!(capture.dropped(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
