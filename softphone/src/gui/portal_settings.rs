//! The myPortal to go VoIP settings page (guide 4.2): the user account's
//! WAN server (address and port, 8802 or the forwarded one), the optional
//! LAN server, the "VoIP" and "Use VoIP in remote WiFi networks" flags, the
//! call number and the UC password, and the status field the guide says
//! shows a successful registration. A value that cannot work is refused
//! under its field, with the reason.

use std::net::IpAddr;

use eframe::egui::{self, RichText};
use shared::secret::Secret;

use super::settings::PortalAccount;
use crate::portal::settings::DEFAULT_PORTAL_PORT;
use crate::portal::{Network, ServerAddress};

/// The fields of the page, as typed.
#[derive(Debug, Clone)]
pub struct PortalForm {
    user: String,
    password: String,
    wan_host: String,
    wan_port: String,
    lan_host: String,
    lan_port: String,
    voip: bool,
    remote_wifi: bool,
    company_bind: String,
    remote_bind: String,
    /// Kept from the saved account (not on the page).
    network: Network,
    known_gateways: Option<std::path::PathBuf>,
    /// A UC password is saved already: an empty field keeps it.
    has_password: bool,
    /// The field refused last, and why.
    refusal: Option<(Field, String)>,
}

/// A field of the page, to show a refusal under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    User,
    Password,
    WanHost,
    WanPort,
    LanHost,
    LanPort,
    CompanyBind,
    RemoteBind,
}

/// What the page asks the app to do.
#[derive(Debug)]
pub enum FormAction {
    /// Save these settings (and the UC password, if one was typed) and
    /// register with them.
    Save(PortalAccount, Option<Secret>),
    Cancel,
}

impl PortalForm {
    /// The page filled with `current` (the guide's defaults on first
    /// run); the password is never shown again.
    pub fn new(current: Option<&PortalAccount>, has_password: bool) -> Self {
        let (wan_host, wan_port) = split(current.map(|a| a.wan.as_str()));
        let (lan_host, lan_port) = split(current.and_then(|a| a.lan.as_deref()));
        let bind = |ip: Option<IpAddr>| ip.map(|ip| ip.to_string()).unwrap_or_default();
        Self {
            user: current.map(|a| a.user.clone()).unwrap_or_default(),
            password: String::new(),
            wan_host,
            wan_port,
            lan_host,
            lan_port,
            voip: current.is_none_or(|a| a.voip),
            remote_wifi: current.is_some_and(|a| a.remote_wifi),
            company_bind: bind(current.and_then(|a| a.company_bind)),
            remote_bind: bind(current.and_then(|a| a.remote_bind)),
            network: current.map_or(Network::CompanyWifi, |a| a.network),
            known_gateways: current.and_then(|a| a.known_gateways.clone()),
            has_password: current.is_some() && has_password,
            refusal: None,
        }
    }

    /// Takes the flags and the network the face changed meanwhile.
    pub fn follow(&mut self, account: &PortalAccount) {
        self.voip = account.voip;
        self.remote_wifi = account.remote_wifi;
        self.network = account.network;
    }

    /// The account and the typed password, or the field refused and why.
    pub fn validate(&self) -> Result<(PortalAccount, Option<Secret>), (Field, String)> {
        let user = self.user.trim();
        if user.is_empty() || user.len() > 32 || !user.bytes().all(|b| b.is_ascii_digit()) {
            return Err((
                Field::User,
                format!(
                    "Call number \"{user}\": the user is the call number, 1 to 32 digits (guide 4.2)."
                ),
            ));
        }
        let password = match (self.password.is_empty(), self.has_password) {
            (false, _) => Some(Secret::new(&self.password)),
            (true, true) => None,
            (true, false) => {
                return Err((
                    Field::Password,
                    "Enter the UC password of your myPortal to go user (guide 6).".to_owned(),
                ));
            }
        };
        let wan_host = self.wan_host.trim();
        if wan_host.is_empty()
            || wan_host.chars().any(char::is_whitespace)
            || wan_host.contains('/')
        {
            return Err((
                Field::WanHost,
                format!(
                    "WAN server address \"{wan_host}\": enter the public IP address or DNS name \
                     of the OpenScape Business (guide 4.2)."
                ),
            ));
        }
        let wan_port = port(&self.wan_port).map_err(|why| {
            (
                Field::WanPort,
                format!(
                    "WAN server port \"{}\": {why}; use 8802 or the port forwarded in the \
                     company Internet router (guide 4.2).",
                    self.wan_port.trim()
                ),
            )
        })?;
        let lan_host = self.lan_host.trim();
        let lan = if lan_host.is_empty() {
            None
        } else {
            if lan_host.parse::<IpAddr>().is_err() {
                return Err((
                    Field::LanHost,
                    format!(
                        "LAN server address \"{lan_host}\": enter the internal IP address of the \
                         OpenScape Business in your company WiFi, e.g. 10.10.0.2 (guide 4.2)."
                    ),
                ));
            }
            let lan_port = port(&self.lan_port).map_err(|why| {
                (
                    Field::LanPort,
                    format!(
                        "LAN server port \"{}\": {why}; the guide's LAN server port is 8802 \
                         (guide 4.2).",
                        self.lan_port.trim()
                    ),
                )
            })?;
            Some(join(lan_host, lan_port))
        };
        let company_bind = address(&self.company_bind).map_err(|why| {
            (
                Field::CompanyBind,
                format!("This PC in the company WiFi: {why}"),
            )
        })?;
        let remote_bind = address(&self.remote_bind)
            .map_err(|why| (Field::RemoteBind, format!("This PC elsewhere: {why}")))?;
        let account = PortalAccount {
            user: user.to_owned(),
            wan: join(wan_host, wan_port),
            lan,
            voip: self.voip,
            remote_wifi: self.remote_wifi,
            network: self.network,
            company_bind,
            remote_bind,
            known_gateways: self.known_gateways.clone(),
        };
        // The agent parses the same text: what is saved here, it takes.
        if ServerAddress::parse(&account.wan).is_none() {
            return Err((
                Field::WanHost,
                format!(
                    "WAN server address \"{wan_host}\" is not a host name or IP address (guide 4.2)."
                ),
            ));
        }
        Ok((account, password))
    }

    /// Draws the page under `status` (the status field); an action when
    /// the user saves or cancels.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        status: &str,
        can_cancel: bool,
    ) -> Option<FormAction> {
        let mut action = None;
        ui.horizontal(|ui| {
            let label = ui.label("Status");
            ui.label(RichText::new(status).strong())
                .labelled_by(label.id);
        });
        ui.add_space(6.0);
        let refusal = self.refusal.clone();
        let refused = |ui: &mut egui::Ui, field: Field| {
            if let Some((refused, why)) = &refusal
                && *refused == field
            {
                ui.label("");
                let color = ui.visuals().error_fg_color;
                ui.vertical(|ui| {
                    ui.set_max_width(300.0);
                    ui.add(egui::Label::new(RichText::new(why).color(color)).wrap());
                });
                ui.end_row();
            }
        };
        egui::Grid::new("portal-fields")
            .num_columns(2)
            .spacing([12.0, 6.0])
            .show(ui, |ui| {
                section(ui, "User account");
                text_row(ui, "Call number", &mut self.user, false);
                refused(ui, Field::User);
                let hint = if self.has_password {
                    "UC password (empty: unchanged)"
                } else {
                    "UC password"
                };
                text_row(ui, hint, &mut self.password, true);
                refused(ui, Field::Password);
                text_row(ui, "WAN server IP address", &mut self.wan_host, false);
                refused(ui, Field::WanHost);
                text_row(ui, "WAN server IP port", &mut self.wan_port, false);
                refused(ui, Field::WanPort);
                text_row(
                    ui,
                    "LAN server IP address (optional)",
                    &mut self.lan_host,
                    false,
                );
                refused(ui, Field::LanHost);
                text_row(ui, "LAN server IP port", &mut self.lan_port, false);
                refused(ui, Field::LanPort);
                section(ui, "VoIP settings");
                ui.label("");
                ui.checkbox(&mut self.voip, "VoIP");
                ui.end_row();
                ui.label("");
                ui.checkbox(&mut self.remote_wifi, "Use VoIP in remote WiFi networks");
                ui.end_row();
                section(ui, "This PC's address (optional)");
                text_row(ui, "In the company WiFi", &mut self.company_bind, false);
                refused(ui, Field::CompanyBind);
                text_row(
                    ui,
                    "In a remote WiFi or on mobile data",
                    &mut self.remote_bind,
                    false,
                );
                refused(ui, Field::RemoteBind);
            });
        ui.add_space(4.0);
        ui.small(
            "WAN server: the public IP address or DNS name of the OpenScape Business, port 8802 \
             or the one the company Internet router forwards. LAN server: its internal IP \
             address in the company WiFi, port 8802 (guide 4.2). VoIP runs in WiFi networks \
             only, not on mobile data.",
        );
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            if ui.button("Save VoIP settings").clicked() {
                match self.validate() {
                    Ok((account, password)) => {
                        self.refusal = None;
                        action = Some(FormAction::Save(account, password));
                    }
                    Err(refusal) => self.refusal = Some(refusal),
                }
            }
            if can_cancel && ui.button("Cancel").clicked() {
                action = Some(FormAction::Cancel);
            }
        });
        action
    }
}

/// `host:port` (IPv6 in brackets).
fn join(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A saved `host:port` back into its two fields; the guide's 8802 on a
/// fresh page.
fn split(saved: Option<&str>) -> (String, String) {
    let Some(saved) = saved else {
        return (String::new(), DEFAULT_PORTAL_PORT.to_string());
    };
    match ServerAddress::parse(saved) {
        Some(server) => (server.host, server.port.to_string()),
        None => (saved.to_owned(), DEFAULT_PORTAL_PORT.to_string()),
    }
}

/// A port field that holds no port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum NotAPort {
    /// 0, or above 65535.
    #[error("out of range, a port is 1 to 65535")]
    OutOfRange,
    /// Not digits.
    #[error("not a number")]
    NotANumber,
}

fn port(text: &str) -> Result<u16, NotAPort> {
    match text.trim().parse::<u32>() {
        Ok(port) => u16::try_from(port)
            .ok()
            .filter(|port| *port != 0)
            .ok_or(NotAPort::OutOfRange),
        Err(_) => Err(NotAPort::NotANumber),
    }
}

/// A bind field that holds no IP address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not an IP address of this PC (leave it empty to let the system choose).")]
struct NotAnAddress(String);

fn address(text: &str) -> Result<Option<IpAddr>, NotAnAddress> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| NotAnAddress(text.to_owned()))
}

fn section(ui: &mut egui::Ui, title: &str) {
    ui.label(RichText::new(title).strong());
    ui.end_row();
}

/// A labelled single-line field; the label names it for screen readers.
fn text_row(ui: &mut egui::Ui, label: &str, value: &mut String, password: bool) {
    let label = ui.label(label);
    ui.add(
        egui::TextEdit::singleline(value)
            .password(password)
            .desired_width(240.0),
    )
    .labelled_by(label.id);
    ui.end_row();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> PortalForm {
        let mut form = PortalForm::new(None, false);
        form.user = "210".into();
        form.password = "pw".into();
        form.wan_host = "company.example.com".into();
        form
    }

    #[test]
    fn a_fresh_page_has_the_guides_defaults() {
        let page = PortalForm::new(None, false);
        assert_eq!(page.wan_port, "8802");
        assert_eq!(page.lan_port, "8802");
        assert!(page.voip && !page.remote_wifi);
        let (account, password) = form().validate().expect("valid");
        assert_eq!(account.wan, "company.example.com:8802");
        assert_eq!(account.lan, None);
        assert_eq!(password.expect("typed").expose(), "pw");
    }

    #[test]
    fn each_bad_value_is_refused_under_its_field() {
        let refused = |change: fn(&mut PortalForm)| {
            let mut page = form();
            change(&mut page);
            page.validate().expect_err("refused")
        };
        let (field, why) = refused(|p| p.wan_port = "0".into());
        assert_eq!(field, Field::WanPort);
        assert!(why.contains("WAN server port \"0\": out of range"), "{why}");
        assert!(why.contains("guide 4.2"));
        assert_eq!(refused(|p| p.wan_port = "88o2".into()).0, Field::WanPort);
        assert_eq!(refused(|p| p.wan_host = " ".into()).0, Field::WanHost);
        assert_eq!(refused(|p| p.user = "21a".into()).0, Field::User);
        assert_eq!(refused(|p| p.password.clear()).0, Field::Password);
        assert_eq!(
            refused(|p| p.lan_host = "osbiz.local".into()).0,
            Field::LanHost
        );
        let (field, why) = refused(|p| {
            p.lan_host = "10.10.0.2".into();
            p.lan_port = "70000".into();
        });
        assert_eq!(field, Field::LanPort);
        assert!(why.contains("8802"), "{why}");
        assert_eq!(
            refused(|p| p.remote_bind = "home".into()).0,
            Field::RemoteBind
        );
    }

    #[test]
    fn a_saved_account_round_trips_and_keeps_its_password() {
        let mut page = form();
        page.wan_port = "18802".into();
        page.lan_host = "fd00::2".into();
        page.remote_bind = "127.0.1.10".into();
        let (account, _) = page.validate().expect("valid");
        assert_eq!(account.lan.as_deref(), Some("[fd00::2]:8802"));
        let again = PortalForm::new(Some(&account), true);
        assert_eq!(again.wan_port, "18802");
        assert_eq!(again.lan_host, "fd00::2");
        let (same, password) = again
            .validate()
            .expect("valid without retyping the password");
        assert_eq!(same, account);
        assert!(password.is_none());
    }
}
