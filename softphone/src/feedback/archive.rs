//! The feedback archive (guide 7): one tar.gz holding the client trace,
//! the client's capture if one was recorded, the setup information (the
//! device and its release, the routers as the user named them, every IP
//! address involved) and the last calls' quality figures, with a
//! README.txt saying what each file is and which trace profiles of the
//! system to switch on as well.
//!
//! Nothing secret goes in: the profile's password files and settings are
//! never copied; the setup is written afresh from what is known.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::calls::{self, CallSummary};
use super::trace::{ROTATION, trace_path};
use super::{Device, addresses, last_capture, last_device};
use crate::gui::settings::{Personality, Profile, Settings};

/// What the user asks for.
#[derive(Debug, Clone)]
pub struct Request {
    /// The profile whose trace, calls and settings go in.
    pub profile_dir: PathBuf,
    /// The archive to write.
    pub out: PathBuf,
    /// The router at home, as the user names it (make and model).
    pub home_router: Option<String>,
    /// The router at the office.
    pub office_router: Option<String>,
    /// A STUN server (host[:port]) to learn the home router's public address.
    pub stun: Option<String>,
}

/// Why no archive was written.
#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    #[error("cannot write the feedback archive {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The archive written, and the names of the files in it.
#[derive(Debug, Clone)]
pub struct Written {
    pub path: PathBuf,
    pub files: Vec<String>,
}

/// `softphone-feedback-20261207T130405Z.tar.gz`: a name that sorts by time.
pub fn default_name() -> String {
    format!(
        "softphone-feedback-{}.tar.gz",
        jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ")
    )
}

/// Gathers everything and writes the archive.
pub async fn create(request: Request) -> Result<Written, FeedbackError> {
    let calls = calls::read(&request.profile_dir);
    let setup = setup(&request, &calls).await;
    let out = request.out.clone();
    let write = tokio::task::spawn_blocking(move || write(&request, &setup, &calls));
    match write.await {
        Ok(result) => result,
        Err(join) => Err(FeedbackError::Write {
            path: out,
            source: std::io::Error::other(join.to_string()),
        }),
    }
}

/// One member of the archive: its name and bytes.
struct Member {
    name: String,
    bytes: Vec<u8>,
}

fn write(request: &Request, setup: &str, calls: &[CallSummary]) -> Result<Written, FeedbackError> {
    let mut members = vec![Member {
        name: "setup.txt".to_owned(),
        bytes: setup.as_bytes().to_vec(),
    }];
    members.push(Member {
        name: "calls.txt".to_owned(),
        bytes: calls_text(calls).into_bytes(),
    });
    let jsonl: String = calls
        .iter()
        .filter_map(|call| serde_json::to_string(call).ok())
        .map(|line| line + "\n")
        .collect();
    members.push(Member {
        name: "calls.jsonl".to_owned(),
        bytes: jsonl.into_bytes(),
    });
    // The trace, oldest file first.
    let trace = trace_path(&request.profile_dir);
    for n in (0..ROTATION.files).rev() {
        let path = gateway::trace::numbered(&trace, n);
        if let Ok(bytes) = std::fs::read(&path)
            && let Some(name) = path.file_name()
        {
            members.push(Member {
                name: format!("trace/{}", name.to_string_lossy()),
                bytes,
            });
        }
    }
    if let Some(capture) = last_capture(&request.profile_dir)
        && let Ok(bytes) = std::fs::read(&capture)
    {
        members.push(Member {
            name: "capture.pcapng".to_owned(),
            bytes,
        });
    }
    let names: Vec<String> = members.iter().map(|member| member.name.clone()).collect();
    members.insert(
        0,
        Member {
            name: "README.txt".to_owned(),
            bytes: readme(&names).into_bytes(),
        },
    );
    let error = |source| FeedbackError::Write {
        path: request.out.clone(),
        source,
    };
    let mut temporary = request.out.as_os_str().to_owned();
    temporary.push(".partial");
    let temporary = PathBuf::from(temporary);
    pack(&temporary, &members).map_err(error)?;
    std::fs::rename(&temporary, &request.out).map_err(error)?;
    Ok(Written {
        path: request.out.clone(),
        files: members.into_iter().map(|member| member.name).collect(),
    })
}

/// The members in a directory named after the archive, gzip-compressed.
fn pack(path: &Path, members: &[Member]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    let mut tar = tar::Builder::new(GzEncoder::new(file, Compression::default()));
    let top = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let top = top
        .trim_end_matches(".partial")
        .trim_end_matches(".tar.gz")
        .trim_end_matches(".tgz")
        .to_owned();
    let now = jiff::Timestamp::now().as_second().max(0).cast_unsigned();
    for member in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(member.bytes.len() as u64);
        header.set_mode(0o600);
        header.set_mtime(now);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(
            &mut header,
            format!("{top}/{}", member.name),
            member.bytes.as_slice(),
        )?;
    }
    tar.into_inner()?.finish()?.sync_all()
}

/// README.txt: what each file is, and the rest of section 7.
fn readme(names: &[String]) -> String {
    let mut text = String::from(
        "Feedback archive of the Device@Home softphone (OpenScape Business \
         Device@Home guide, section 7: Troubleshooting)\n\nFiles\n",
    );
    let describe = |name: &str| -> &'static str {
        match name {
            "setup.txt" => {
                "Setup information (section 7, point 5): the device type and software \
                 release, the routers at home and at the office as named by the user, and \
                 the IP addresses of all involved entities: this machine, the home router's \
                 public address (from STUN), the OpenScape Business system as configured \
                 and as resolved, and the media peers of the last calls."
            }
            "calls.txt" => {
                "The last calls' quality figures, newest last: codec, duration, what this \
                 phone received (packets, loss, jitter), what it sent as the other side's \
                 RTCP receiver reports give it, round-trip time and the E-model MOS estimate."
            }
            "calls.jsonl" => "The same figures, one JSON object per call, for scripts.",
            "capture.pcapng" => {
                "The softphone's own capture (--capture FILE): its HFA connection or \
                 portal HTTPS (TCP with the real addresses) and its calls' RTP/RTCP. \
                 Open it in Wireshark; with the SSLKEYLOGFILE the softphone wrote, \
                 Wireshark decrypts the myPortal to go API (Preferences - Protocols - TLS)."
            }
            _ if name.starts_with("trace/") => {
                "The client trace (section 7, point 2): the softphone's own events, one a \
                 line, UTC to the microsecond so they line up with the system's traces and \
                 the captures; .1, .2, ... are older files of the same trace."
            }
            _ => "",
        }
    };
    for name in names {
        let _ = writeln!(text, "- {name}: {}", describe(name));
    }
    if !names.iter().any(|name| name == "capture.pcapng") {
        text.push_str(
            "- (no capture: none was recorded from this profile; run the softphone with \
             --capture FILE while the problem happens)\n",
        );
    }
    text.push_str(
        "\nAlso needed from the office (section 7, points 1 to 4)\n\
         1. The internal trace of OpenScape Business with these trace profiles switched on \
         (our gateway emulator: `gateway trace enable NAME`):\n\
         \x20  - Voice_Fax_connection\n\
         \x20  - SIP_Interconnection_Subscriber_ITSP\n\
         \x20  - Calls_with_System_Device_HFA\n\
         \x20  - CSTA_applications (when myPortal to go is used)\n\
         2. With myPortal to go: the application trace of OpenScape Business as well \
         (profile Application) and this archive.\n\
         3. A Wireshark trace between the office router and the OpenScape Business system \
         (a TCP dump on the router, or a capture on the LAN).\n\
         4. A Wireshark trace at home between the phone and the home router (the capture \
         above is the phone's side of it).\n",
    );
    text
}

/// setup.txt.
async fn setup(request: &Request, calls: &[CallSummary]) -> String {
    let settings = Profile::at(request.profile_dir.clone())
        .load()
        .unwrap_or_default();
    let device = last_device(&request.profile_dir)
        .or_else(|| calls.last().map(|call| call.device.clone()))
        .or_else(|| device_of_settings(&settings));
    let mut text = format!(
        "Setup information (OpenScape Business Device@Home guide, section 7, point 5)\n\
         written {:.0} by softphone {}\n\n",
        jiff::Timestamp::now(),
        env!("CARGO_PKG_VERSION")
    );
    text.push_str("Used device at the remote location\n");
    match &device {
        Some(device) => {
            let _ = writeln!(text, "  type: {}", device.device);
            let _ = writeln!(text, "  software release: {}", device.release);
            let _ = writeln!(text, "  call number: {}", device.number);
        }
        None => text.push_str("  not known: this profile has not run a phone yet\n"),
    }
    let named = |router: &Option<String>, option: &str| {
        router
            .clone()
            .unwrap_or_else(|| format!("not given (softphone feedback {option} TEXT)"))
    };
    let _ = writeln!(
        text,
        "Used router at the remote location: {}",
        named(&request.home_router, "--home-router")
    );
    let _ = writeln!(
        text,
        "Used router at the office location: {}",
        named(&request.office_router, "--office-router")
    );

    text.push_str("\nIP addresses of all involved entities\n");
    text.push_str("  this machine (the HFA phone / smart phone), by interface:\n");
    for address in addresses::local_addresses() {
        let _ = writeln!(text, "    {address}");
    }
    let public = match &request.stun {
        Some(server) => match addresses::public_address(server).await {
            Ok(address) => format!("{address} (as STUN server {server} sees this machine)"),
            Err(reason) => format!("unknown: {reason}"),
        },
        None => "not asked (softphone feedback --stun HOST[:PORT])".to_owned(),
    };
    let _ = writeln!(text, "  the home router's public address: {public}");
    text.push_str("  the OpenScape Business system, as configured -> as resolved now:\n");
    let gateways = gateways(device.as_ref(), &settings);
    if gateways.is_empty() {
        text.push_str("    none configured in this profile\n");
    }
    for (role, configured) in gateways {
        let resolved = addresses::resolved(&configured).await;
        let _ = writeln!(text, "    {role} {configured} -> {resolved}");
    }
    let mut peers: Vec<String> = calls
        .iter()
        .filter_map(|call| call.remote_media.map(|peer| peer.to_string()))
        .collect();
    peers.sort();
    peers.dedup();
    if !peers.is_empty() {
        let _ = writeln!(
            text,
            "  media peers of the last calls (the system's SBC, or the other phone): {}",
            peers.join(", ")
        );
    }
    text
}

/// The device the window's settings describe.
pub(crate) fn device_of_settings(settings: &Settings) -> Option<Device> {
    match settings.personality {
        Personality::Hfa => settings.account.as_ref().map(|account| Device {
            device: account.phone_type.name().to_owned(),
            release: settings
                .hfa_release
                .clone()
                .unwrap_or_else(|| crate::hfa::account::DEFAULT_SOFTWARE_VERSION.to_string()),
            number: account.number.clone(),
            gateway: format!("{}:{}", account.gateway_host, account.gateway_port),
        }),
        Personality::Portal => settings.portal.as_ref().map(|portal| Device {
            device: PORTAL_DEVICE.to_owned(),
            release: crate::portal::settings::DEFAULT_APP_VERSION.to_string(),
            number: portal.user.clone(),
            gateway: portal.wan.clone(),
        }),
    }
}

/// The device name of the myPortal to go client.
pub const PORTAL_DEVICE: &str = "myPortal to go (VoIP)";

/// Every gateway address the profile knows, with its role, once each.
fn gateways(device: Option<&Device>, settings: &Settings) -> Vec<(&'static str, String)> {
    let mut found: Vec<(&'static str, String)> = Vec::new();
    if let Some(device) = device {
        let role = if device.device == PORTAL_DEVICE {
            "myPortal to go server"
        } else {
            "HFA"
        };
        found.push((role, device.gateway.clone()));
    }
    if let Some(account) = &settings.account {
        found.push((
            "HFA",
            format!("{}:{}", account.gateway_host, account.gateway_port),
        ));
    }
    if let Some(portal) = &settings.portal {
        found.push(("myPortal to go WAN server", portal.wan.clone()));
        if let Some(lan) = &portal.lan {
            found.push(("myPortal to go LAN server", lan.clone()));
        }
    }
    let mut seen = std::collections::HashSet::new();
    found.retain(|(_, address)| seen.insert(address.clone()));
    found
}

/// calls.txt.
fn calls_text(calls: &[CallSummary]) -> String {
    if calls.is_empty() {
        return "No call recorded in this profile yet.\n".to_owned();
    }
    let mut text = String::from("The last calls, newest last\n");
    for call in calls {
        let _ = writeln!(
            text,
            "\n{} {} {} (release {}), via {}\n  codec {}, {:.1} s, media with {}",
            call.ended,
            call.device.number,
            call.device.device,
            call.device.release,
            call.device.gateway,
            call.codec,
            call.duration_s,
            call.remote_media
                .map_or_else(|| "-".to_owned(), |peer| peer.to_string()),
        );
        let _ = writeln!(
            text,
            "  received: {} packets, loss {:.1} %, jitter {:.1} ms",
            call.received.packets, call.received.loss_percent, call.received.jitter_ms
        );
        match &call.sent {
            Some(sent) => {
                let _ = writeln!(
                    text,
                    "  sent: {} packets, loss {:.1} %, jitter {:.1} ms (the other side's RTCP)",
                    sent.packets, sent.loss_percent, sent.jitter_ms
                );
            }
            None => text.push_str("  sent: no RTCP receiver report from the other side\n"),
        }
        let rtt = call
            .rtt_ms
            .map_or_else(|| "-".to_owned(), |rtt| format!("{rtt:.1} ms"));
        let _ = writeln!(text, "  round trip {rtt}, MOS estimate {:.2}", call.mos);
    }
    text
}
