//! The account dialog: what a home worker types into an OpenStage phone's
//! administration menu for Device@Home (guide 4.1), checked before anything
//! is sent. Syntax is checked here; whether the gateway's name resolves is
//! checked by the engine (off the UI thread), which answers with
//! [`Event::Refused`](super::engine::Event::Refused) shown in the dialog.

use eframe::egui;
use shared::hfa::Subscriber;
use shared::secret::Secret;

use super::portal_settings::{FormAction, PortalForm};
use super::settings::{AccountSettings, Personality, PhoneType, PortalAccount};

/// Why the dialog's fields cannot work, in the words the dialog shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountInputError {
    #[error("Enter the gateway address: the company's public IP address or DNS name (guide 4.1).")]
    NoHost,
    #[error("\"{0}\" is not an IP address or DNS name.")]
    NotAHost(String),
    #[error("Port {0} is out of range: a port is 1 to 65535 (usually 4070, guide 3.1).")]
    PortOutOfRange(u32),
    #[error("Port \"{0}\" is not a number: enter the forwarded port, e.g. 4070 (guide 3.1).")]
    PortNotANumber(String),
    #[error("Enter your call number (subscriber number, guide 4.1).")]
    NoNumber,
    #[error("Call number \"{0}\": use 1 to 32 digits (guide 4.1).")]
    BadNumber(String),
    #[error("Enter the HFA password configured for your number in the system (guide 4.1).")]
    NoPassword,
}

/// The dialog's fields, as typed.
#[derive(Debug, Clone)]
pub struct AccountDialog {
    host: String,
    port: String,
    number: String,
    password: String,
    phone_type: PhoneType,
    personality: Personality,
    /// The myPortal to go personality's VoIP settings page.
    portal: PortalForm,
    /// Why the last attempt was refused.
    pub error: Option<String>,
    /// Waiting for the engine to check the name.
    pub checking: bool,
}

/// What the dialog asks the app to do.
#[derive(Debug)]
pub enum DialogAction {
    /// Save and register with these settings.
    Apply(AccountSettings, Secret),
    /// Save the myPortal to go account (and the UC password, if typed)
    /// and register with it.
    ApplyPortal(PortalAccount, Option<Secret>),
    /// Close without changes (only offered once an account exists).
    Cancel,
}

/// What the dialog opens with.
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    pub hfa: Option<&'a AccountSettings>,
    pub portal: Option<&'a PortalAccount>,
    pub personality: Personality,
    /// A UC password is saved.
    pub has_uc_password: bool,
}

impl AccountDialog {
    /// The dialog filled with `current` (empty fields on first run); the
    /// password is never shown again, so it is typed anew.
    pub fn new(current: Current<'_>) -> Self {
        let portal = PortalForm::new(current.portal, current.has_uc_password);
        let hfa = current.hfa.cloned().unwrap_or_default();
        Self {
            host: hfa.gateway_host,
            port: hfa.gateway_port.to_string(),
            number: hfa.number,
            password: String::new(),
            phone_type: hfa.phone_type,
            personality: current.personality,
            portal,
            error: None,
            checking: false,
        }
    }

    /// The settings, or why they cannot work.
    pub fn validate(&self) -> Result<(AccountSettings, Secret), AccountInputError> {
        let host = self.host.trim();
        if host.is_empty() {
            return Err(AccountInputError::NoHost);
        }
        if host.chars().any(char::is_whitespace) || host.contains('/') {
            return Err(AccountInputError::NotAHost(host.to_owned()));
        }
        let port = self.port.trim();
        let port = match port.parse::<u32>() {
            Ok(port) => u16::try_from(port)
                .ok()
                .filter(|port| *port != 0)
                .ok_or(AccountInputError::PortOutOfRange(port))?,
            Err(_) => return Err(AccountInputError::PortNotANumber(port.to_owned())),
        };
        let number = self.number.trim();
        if number.is_empty() {
            return Err(AccountInputError::NoNumber);
        }
        if Subscriber::new(number).is_err() {
            return Err(AccountInputError::BadNumber(number.to_owned()));
        }
        if self.password.is_empty() {
            return Err(AccountInputError::NoPassword);
        }
        Ok((
            AccountSettings {
                gateway_host: host.to_owned(),
                gateway_port: port,
                number: number.to_owned(),
                phone_type: self.phone_type,
            },
            Secret::new(&self.password),
        ))
    }

    /// Draws the dialog (`portal_status`: the myPortal to go status
    /// field); an action when the user confirms or cancels.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        can_cancel: bool,
        portal_status: &str,
    ) -> Option<DialogAction> {
        ui.heading("Device@Home account");
        ui.horizontal(|ui| {
            ui.label("Personality");
            ui.radio_value(
                &mut self.personality,
                Personality::Hfa,
                "HFA desk phone (OpenStage)",
            );
            ui.radio_value(&mut self.personality, Personality::Portal, "myPortal to go");
        });
        ui.add_space(8.0);
        if self.personality == Personality::Portal {
            return match self.portal.show(ui, portal_status, can_cancel)? {
                FormAction::Save(account, password) => {
                    Some(DialogAction::ApplyPortal(account, password))
                }
                FormAction::Cancel => Some(DialogAction::Cancel),
            };
        }
        self.hfa_fields(ui, can_cancel)
    }

    /// The HFA desk phone's fields (guide 4.1).
    fn hfa_fields(&mut self, ui: &mut egui::Ui, can_cancel: bool) -> Option<DialogAction> {
        let mut action = None;
        egui::Grid::new("account-fields")
            .num_columns(2)
            .spacing([12.0, 8.0])
            .show(ui, |ui| {
                text_row(ui, "Gateway address", &mut self.host, false);
                text_row(ui, "Port", &mut self.port, false);
                text_row(ui, "Call number", &mut self.number, false);
                text_row(ui, "HFA password", &mut self.password, true);
                ui.label("Phone type");
                ui.horizontal(|ui| {
                    for phone_type in PhoneType::ALL {
                        ui.radio_value(&mut self.phone_type, phone_type, phone_type.name());
                    }
                });
                ui.end_row();
            });
        ui.add_space(6.0);
        ui.small(
            "Gateway address: the public IPv4 address of the company's system, or its public \
             DNS name (guide 4.1). Port: the external TCP port the company router forwards to \
             the system's HFA port 4060, e.g. 4070 (guide 3.1); 4060 only without a port \
             forward.",
        );
        ui.small(
            "Update service (DLS): none. System Device@Home does not support DLS (guide 4.1), \
             so this phone never contacts one.",
        );
        ui.add_space(8.0);
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        ui.horizontal(|ui| {
            let save = ui.add_enabled(!self.checking, egui::Button::new("Save and register"));
            let enter = ui.input(|input| input.key_pressed(egui::Key::Enter));
            if save.clicked() || (enter && !self.checking) {
                match self.validate() {
                    Ok((settings, password)) => {
                        self.error = None;
                        self.checking = true;
                        action = Some(DialogAction::Apply(settings, password));
                    }
                    Err(why) => self.error = Some(why.to_string()),
                }
            }
            if can_cancel && ui.button("Cancel").clicked() {
                action = Some(DialogAction::Cancel);
            }
            if self.checking {
                ui.spinner();
                ui.label("Checking the gateway address…");
            }
        });
        action
    }
}

/// A labelled single-line field; the label names it for screen readers.
fn text_row(ui: &mut egui::Ui, label: &str, value: &mut String, password: bool) {
    let label = ui.label(label);
    ui.add(
        egui::TextEdit::singleline(value)
            .password(password)
            .desired_width(260.0),
    )
    .labelled_by(label.id);
    ui.end_row();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialog(host: &str, port: &str, number: &str, password: &str) -> AccountDialog {
        AccountDialog {
            host: host.into(),
            port: port.into(),
            number: number.into(),
            password: password.into(),
            ..AccountDialog::new(Current {
                hfa: None,
                portal: None,
                personality: Personality::Hfa,
                has_uc_password: false,
            })
        }
    }

    #[test]
    fn bad_input_is_refused_with_the_reason() {
        let reason = |d: AccountDialog| d.validate().expect_err("refused").to_string();
        assert!(reason(dialog("", "4070", "201", "pw")).contains("gateway address"));
        assert!(reason(dialog("a b", "4070", "201", "pw")).contains("not an IP address"));
        assert!(reason(dialog("h", "70000", "201", "pw")).contains("out of range"));
        assert!(reason(dialog("h", "0", "201", "pw")).contains("out of range"));
        assert!(reason(dialog("h", "x", "201", "pw")).contains("not a number"));
        assert!(reason(dialog("h", "4070", "", "pw")).contains("call number"));
        assert!(reason(dialog("h", "4070", "20a", "pw")).contains("1 to 32 digits"));
        assert!(reason(dialog("h", "4070", "201", "")).contains("HFA password"));
        let (settings, password) = dialog(" company.example.com ", "4070", "201", "pw")
            .validate()
            .expect("valid");
        assert_eq!(settings.gateway_host, "company.example.com");
        assert_eq!(settings.gateway_port, 4070);
        assert_eq!(password.expose(), "pw");
    }
}
