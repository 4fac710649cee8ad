//! The call screen of the myPortal to go face: what the line does, the
//! call timer, the dial pad (DTMF during a call), and the buttons of the
//! call's state: call, answer, reject, hang up, hold, retrieve, mute. The
//! keyboard works as on the HFA face: digits, `*` and `#` typed; Enter
//! dials or answers; Escape hangs up or rejects.

use std::time::Duration;

use eframe::egui::{self, RichText, Vec2};
use shared::portal::CallState;

use super::PortalFace;
use crate::gui::face::dial_pad_keys;
use crate::portal::client::CallRequest;

impl PortalFace {
    pub(super) fn call_screen(&mut self, ui: &mut egui::Ui) {
        let state = self
            .call
            .as_ref()
            .map_or(CallState::Idle, |call| call.state);
        self.keyboard(ui.ctx(), state);
        let peer = self
            .call
            .as_ref()
            .and_then(|call| call.peer.clone())
            .unwrap_or_default();
        let headline = match state {
            CallState::Idle => "No call".to_owned(),
            CallState::Dialing => format!("Dialling {peer}"),
            CallState::Calling => format!("Calling {peer}"),
            CallState::Ringing => format!("Call from {peer}"),
            CallState::Connected => format!("Connected: {peer}"),
            CallState::Held => format!("On hold: {peer}"),
            CallState::Ended => format!(
                "Call ended: {}",
                self.call
                    .as_ref()
                    .and_then(|call| call.reason.clone())
                    .unwrap_or_else(|| "hung up".to_owned())
            ),
        };
        ui.horizontal(|ui| {
            ui.label(RichText::new(headline).size(20.0).strong());
            if let Some(since) = self.connected_since {
                let seconds = since.elapsed().as_secs();
                ui.label(
                    RichText::new(format!("{:02}:{:02}", seconds / 60, seconds % 60)).size(20.0),
                );
                // The call timer moves each second.
                ui.ctx().request_repaint_after(Duration::from_millis(
                    1000 - u64::from(since.elapsed().subsec_millis()),
                ));
            }
        });
        if let Some(received) = self.received {
            ui.small(format!("Media: {received} packets received"));
        }
        ui.add_space(8.0);
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| self.dial_pad(ui, state));
            ui.add_space(16.0);
            ui.vertical(|ui| self.call_buttons(ui, state));
        });
        if let Some(refused) = &self.refused {
            ui.colored_label(ui.visuals().warn_fg_color, refused);
        }
    }

    pub(super) fn dial_pad(&mut self, ui: &mut egui::Ui, state: CallState) {
        let in_call = state == CallState::Connected;
        if in_call {
            ui.label("The keys send DTMF tones");
        } else {
            self.number_field(ui);
        }
        let pressed = dial_pad_keys(ui, "portal-dial-pad");
        match pressed {
            // In a call the keys send DTMF, through the gateway.
            Some(key) if in_call => self.request(CallRequest::Dtmf(key.to_string())),
            Some(key) => self.number.push(key),
            None => {}
        }
    }

    /// Keys typed outside a text field (taken before the buttons are
    /// drawn, so that a focused button does not also take Enter).
    fn keyboard(&mut self, ctx: &egui::Context, state: CallState) {
        if ctx.text_edit_focused() {
            return;
        }
        let (enter, escape, typed) = ctx.input_mut(|input| {
            let enter = input.consume_key(egui::Modifiers::NONE, egui::Key::Enter);
            let escape = input.consume_key(egui::Modifiers::NONE, egui::Key::Escape);
            let typed: String = input
                .events
                .iter()
                .filter_map(|event| match event {
                    egui::Event::Text(text) => Some(text.as_str()),
                    _ => None,
                })
                .flat_map(str::chars)
                .filter(|ch| ch.is_ascii_digit() || *ch == '*' || *ch == '#')
                .collect();
            (enter, escape, typed)
        });
        for key in typed.chars() {
            if state == CallState::Connected {
                self.request(CallRequest::Dtmf(key.to_string()));
            } else {
                self.number.push(key);
            }
        }
        match (state, enter, escape) {
            (CallState::Ringing, true, _) => self.request(CallRequest::Answer),
            (CallState::Ringing, _, true) => self.request(CallRequest::Reject),
            (CallState::Idle | CallState::Ended, true, _) => self.dial_typed(),
            (CallState::Idle | CallState::Ended, _, _) => {}
            (_, _, true) => self.request(CallRequest::Hangup),
            _ => {}
        }
    }

    /// The number being typed; Enter dials it.
    pub(super) fn number_field(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let label = ui.label("Number");
            let field = ui
                .add(egui::TextEdit::singleline(&mut self.number).desired_width(150.0))
                .labelled_by(label.id);
            if field.lost_focus() && ui.input(|input| input.key_pressed(egui::Key::Enter)) {
                self.dial_typed();
            }
            if ui.button("Delete").clicked() {
                self.number.pop();
            }
        });
    }

    pub(super) fn dial_typed(&mut self) {
        let number = self.number.trim().to_owned();
        if !number.is_empty() {
            self.dial(&number);
            self.number.clear();
        }
    }

    pub(super) fn call_buttons(&mut self, ui: &mut egui::Ui, state: CallState) {
        let big = |text: &str| {
            egui::Button::new(RichText::new(text).size(16.0)).min_size(Vec2::new(130.0, 34.0))
        };
        let mut requests = Vec::new();
        match state {
            CallState::Idle | CallState::Ended => {
                let can_dial = self.registered() && !self.number.trim().is_empty();
                if ui.add_enabled(can_dial, big("Call")).clicked() {
                    self.dial_typed();
                }
            }
            CallState::Ringing => {
                if ui.add(big("Answer")).clicked() {
                    requests.push(CallRequest::Answer);
                }
                if ui.add(big("Reject")).clicked() {
                    requests.push(CallRequest::Reject);
                }
            }
            CallState::Dialing | CallState::Calling => {
                if ui.add(big("Hang up")).clicked() {
                    requests.push(CallRequest::Hangup);
                }
            }
            CallState::Connected | CallState::Held => {
                if ui.add(big("Hang up")).clicked() {
                    requests.push(CallRequest::Hangup);
                }
                if state == CallState::Connected && ui.add(big("Hold")).clicked() {
                    requests.push(CallRequest::Hold);
                }
                if state == CallState::Held && ui.add(big("Retrieve")).clicked() {
                    requests.push(CallRequest::Retrieve);
                }
                let muted = self.audio.choice().muted;
                let mute = egui::Button::new(RichText::new("Mute").size(16.0))
                    .selected(muted)
                    .min_size(Vec2::new(130.0, 34.0));
                if ui.add(mute).clicked() {
                    self.audio.update(|choice| choice.muted = !muted);
                }
            }
        }
        for request in requests {
            self.request(request);
        }
    }
}

pub(super) fn request_name(request: &CallRequest) -> &'static str {
    match request {
        CallRequest::Dial(_) => "Call",
        CallRequest::Answer => "Answer",
        CallRequest::Reject => "Reject",
        CallRequest::Hangup => "Hang up",
        CallRequest::Hold => "Hold",
        CallRequest::Retrieve => "Retrieve",
        CallRequest::Dtmf(_) => "Key",
    }
}
