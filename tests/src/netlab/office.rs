//! The test office in the lab: the gateway on its host in the company LAN
//! (HFA on 4060, the portal on 8802, the X models' RTP range, all behind
//! the company router's forwards), phones at home and in the office.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

use gateway::clock::Clock;
use gateway::config::RtpRange;
use gateway::gateway::{Gateway, StartOptions};
use gateway::public_ip::RefreshTimers;
use shared::hfa_engine::phone::PhoneTimers;
use shared::hfa_engine::system::SystemTimers;
use softphone::audio::WavBackend;
use softphone::media::MediaOptions;
use softphone::media::call::MediaReport;
use softphone::portal::Trust;
use tempfile::TempDir;

use super::{
    COMPANY_PUBLIC, GATEWAY_LAN, HFA_PORT, HFA_PUBLIC_PORT, HOME_PC, HomeNat, Host, Lab, NsRuntime,
    OFFICE_DEVICE, PORTAL_PORT, RTP_RANGE,
};
use crate::{ANNA, BEN, Handset, account, lab_office};

/// The office, its gateway running in the company LAN of its own lab.
pub struct Office {
    pub gateway: Gateway,
    /// Pins the portal's certificate (the gateway made it at start).
    pub trust: Trust,
    /// Code in the company LAN (the gateway, office devices).
    pub company: NsRuntime,
    /// Code on the home worker's PC.
    pub home: NsRuntime,
    _data: TempDir,
    /// Declared last: torn down after everything running in it stopped.
    pub lab: Lab,
}

impl Office {
    /// A lab with the home router in `home_nat` mode and the office's
    /// gateway started in it, its public address configured.
    pub async fn start(home_nat: HomeNat) -> Self {
        Self::start_with(
            home_nat,
            Some(COMPANY_PUBLIC.into()),
            RefreshTimers::default(),
        )
        .await
    }

    /// As [`Office::start`]; without `public`, the gateway learns its
    /// public address from the lab's STUN server (guide 2.4), again on
    /// `refresh`.
    pub async fn start_with(
        home_nat: HomeNat,
        public: Option<IpAddr>,
        refresh: RefreshTimers,
    ) -> Self {
        let lab = Lab::start(home_nat)
            .unwrap_or_else(|error| panic!("the lab must come up (as root): {error}"));
        let company = lab
            .runtime(Host::CompanyLan)
            .expect("a runtime in the company LAN");
        let home = lab.runtime(Host::HomeLan).expect("a runtime at home");
        let data = crate::portal::temp_dir("lab-gateway");
        let config = lab_office(public).data_dir(data.path()).validated();
        let gateway = company
            .run(async move {
                let options = StartOptions {
                    hfa_listen: Some(SocketAddr::from((Ipv4Addr::UNSPECIFIED, HFA_PORT))),
                    portal_listen: Some(SocketAddr::from((Ipv4Addr::UNSPECIFIED, PORTAL_PORT))),
                    timers: SystemTimers::default(),
                    clock: Clock::system(),
                    rtp_range: Some(RtpRange {
                        first: RTP_RANGE.0,
                        last: RTP_RANGE.1,
                    }),
                    status_socket: None,
                    public_ip_refresh: refresh,
                    ..StartOptions::default()
                };
                Gateway::start(config, options).await
            })
            .await
            .unwrap_or_else(|error| panic!("the gateway must start in the company LAN: {error}"));
        let fingerprint = gateway
            .portal_fingerprint()
            .expect("the portal has a certificate")
            .parse()
            .expect("a SHA-256 fingerprint");
        Self {
            gateway,
            trust: Trust::Pin(fingerprint),
            company,
            home,
            _data: data,
            lab,
        }
    }

    /// Registers `who` from the home PC through the company router's
    /// forward (203.0.113.10:4070), as guide 4.1 configures a phone.
    pub async fn phone_at_home(
        &self,
        who: (&'static str, &'static str),
        media: MediaOptions,
    ) -> Handset {
        let gateway = SocketAddr::from((COMPANY_PUBLIC, HFA_PUBLIC_PORT));
        let account = account(gateway, who, IpAddr::V4(HOME_PC));
        self.home
            .run(Handset::register_with_media(
                account,
                PhoneTimers::default(),
                media,
            ))
            .await
    }

    /// Registers `who` from the office (its own address in the LAN).
    pub async fn phone_in_office(
        &self,
        who: (&'static str, &'static str),
        media: MediaOptions,
    ) -> Handset {
        let gateway = SocketAddr::from((GATEWAY_LAN, HFA_PORT));
        let account = account(gateway, who, IpAddr::V4(OFFICE_DEVICE));
        self.company
            .run(Handset::register_with_media(
                account,
                PhoneTimers::default(),
                media,
            ))
            .await
    }

    /// Anna at home calls Ben in the office and he answers; each plays
    /// `speech` and records what it hears into its file. Returns once
    /// Anna's media started: (Anna, Ben).
    pub async fn speech_call(
        &self,
        speech: &Path,
        anna_records: &Path,
        ben_records: &Path,
    ) -> (Handset, Handset) {
        let media = |record: &Path| {
            MediaOptions::g711(Box::new(WavBackend {
                play: Some(speech.to_path_buf()),
                record: Some(record.to_path_buf()),
            }))
        };
        let mut anna = self.phone_at_home(ANNA, media(anna_records)).await;
        let mut ben = self.phone_in_office(BEN, media(ben_records)).await;
        anna.press("h202");
        ben.until("the ringer", |m| m.ringer()).await;
        ben.press("h");
        anna.media_report("media", |r| matches!(r, MediaReport::Started { .. }))
            .await;
        (anna, ben)
    }

    /// The public port the home router maps the home PC's UDP `port` to,
    /// from its connection tracking table.
    pub fn home_mapping(&self, port: u16) -> Option<u16> {
        let table = self
            .lab
            .run_in(
                Host::HomeRouter,
                "conntrack",
                &[
                    "-L",
                    "-p",
                    "udp",
                    "--orig-src",
                    &HOME_PC.to_string(),
                    "--orig-port-src",
                    &port.to_string(),
                ],
            )
            .ok()?;
        // "src=PC dst=.. sport=P dport=.. src=.. dst=HOME_PUBLIC sport=.. dport=MAPPED"
        let line = table.lines().next()?;
        let reply_dport = line
            .split_whitespace()
            .filter(|f| f.starts_with("dport="))
            .nth(1)?;
        reply_dport.trim_start_matches("dport=").parse().ok()
    }

    /// Stops the gateway, then the lab.
    pub async fn stop(self) {
        self.gateway.stop().await;
        drop((self.company, self.home));
        self.lab.down().expect("the lab goes down");
    }
}
