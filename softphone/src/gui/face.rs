//! The HFA desk phone's face: the display rows with the clock or call
//! timer, the function keys with their labels and LEDs, the dial pad, the
//! hook switch, mute and volume. It draws what the [`PhoneModel`] holds
//! (what the gateway sent) and returns what the user pressed: stimulus
//! only, no call logic.

use std::time::Duration;

use eframe::egui::{self, Color32, RichText, Sense, Vec2};
use shared::hfa::LedState;

use crate::hfa::{ClockShown, Hook, Led, PhoneModel};

/// What the user did on the face.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Digit(char),
    FunctionKey(u8),
    /// Lift the handset (or go handsfree).
    OffHook,
    /// Put the handset down.
    OnHook,
    Mute(bool),
    Volume(u8),
}

/// What the face shows besides the model.
#[derive(Debug, Clone)]
pub struct FaceState<'a> {
    /// The time of day for the clock, "14:03".
    pub time_of_day: &'a str,
    /// How long the call timer has run, if it is shown.
    pub call_timer: Option<Duration>,
    pub muted: bool,
    pub volume: u8,
    /// Microphone level in dBFS while a call's audio runs.
    pub mic_level: Option<f32>,
}

const DIAL_PAD: [[char; 3]; 4] = [
    ['1', '2', '3'],
    ['4', '5', '6'],
    ['7', '8', '9'],
    ['*', '0', '#'],
];

/// Draws the phone; the user's inputs this frame.
pub fn show(ui: &mut egui::Ui, model: &PhoneModel, state: &FaceState<'_>) -> Vec<Input> {
    let mut inputs = Vec::new();
    display(ui, model, state);
    ui.add_space(10.0);
    ui.horizontal_top(|ui| {
        ui.vertical(|ui| dial_pad(ui, &mut inputs));
        ui.add_space(16.0);
        ui.vertical(|ui| function_keys(ui, model, &mut inputs));
    });
    ui.add_space(10.0);
    controls(ui, model, state, &mut inputs);
    inputs
}

/// The display: a greyish-green LCD with the gateway's rows.
fn display(ui: &mut egui::Ui, model: &PhoneModel, state: &FaceState<'_>) {
    let dark = ui.visuals().dark_mode;
    let (background, ink) = if dark {
        (
            Color32::from_rgb(0x1f, 0x2a, 0x24),
            Color32::from_rgb(0xc8, 0xf0, 0xd2),
        )
    } else {
        (
            Color32::from_rgb(0xd5, 0xe3, 0xd0),
            Color32::from_rgb(0x14, 0x22, 0x18),
        )
    };
    egui::Frame::new()
        .fill(background)
        .corner_radius(6.0)
        .inner_margin(12.0)
        .show(ui, |ui| {
            ui.set_width(420.0);
            ui.set_min_height(64.0);
            let row = |text: String| RichText::new(text).monospace().size(20.0).color(ink);
            ui.label(row(model.display_row(0)));
            ui.horizontal(|ui| {
                ui.label(row(model.display_row(1)));
                let clock = match model.clock() {
                    Some(ClockShown::TimeOfDay) => Some(state.time_of_day.to_owned()),
                    Some(ClockShown::CallTimer) => state.call_timer.map(timer_text),
                    _ => None,
                };
                if let Some(clock) = clock {
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        ui.label(row(clock));
                    });
                }
            });
        });
}

fn timer_text(elapsed: Duration) -> String {
    let seconds = elapsed.as_secs();
    format!("{:02}:{:02}", seconds / 60, seconds % 60)
}

fn dial_pad(ui: &mut egui::Ui, inputs: &mut Vec<Input>) {
    if let Some(key) = dial_pad_keys(ui, "dial-pad") {
        inputs.push(Input::Digit(key));
    }
}

/// The twelve keys of a phone's dial pad (both faces have one); the key
/// clicked in this frame, if any.
pub fn dial_pad_keys(ui: &mut egui::Ui, id: &str) -> Option<char> {
    let mut pressed = None;
    egui::Grid::new(id).spacing([6.0, 6.0]).show(ui, |ui| {
        for row in DIAL_PAD {
            for key in row {
                let button = egui::Button::new(RichText::new(key.to_string()).size(20.0))
                    .min_size(Vec2::new(56.0, 42.0));
                if ui.add(button).clicked() {
                    pressed = Some(key);
                }
            }
            ui.end_row();
        }
    });
    pressed
}

/// The keys the gateway has labelled, each with its LED.
fn function_keys(ui: &mut egui::Ui, model: &PhoneModel, inputs: &mut Vec<Input>) {
    let now = ui.input(|input| input.time);
    let mut next_toggle: Option<f64> = None;
    for fpk in 1..=20u8 {
        let Some(label) = model.label(fpk) else {
            continue;
        };
        let led = model.led(fpk);
        ui.horizontal(|ui| {
            let (lit, toggle_in) = led_lit(led, now);
            if let Some(wait) = toggle_in {
                next_toggle = Some(next_toggle.map_or(wait, |other| other.min(wait)));
            }
            let (rect, response) = ui.allocate_exact_size(Vec2::splat(14.0), Sense::hover());
            let color = if lit {
                Color32::from_rgb(0x3c, 0xd2, 0x4b)
            } else {
                ui.visuals().widgets.inactive.bg_fill
            };
            ui.painter().circle_filled(rect.center(), 6.0, color);
            ui.painter()
                .circle_stroke(rect.center(), 6.0, ui.visuals().widgets.inactive.fg_stroke);
            let led_name = format!("{label} LED {led}");
            response.widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::Image, true, led_name.clone())
            });
            let button = egui::Button::new(label).min_size(Vec2::new(120.0, 30.0));
            if ui.add(button).clicked() {
                inputs.push(Input::FunctionKey(fpk));
            }
        });
    }
    // Redraw only while something flashes, and only when it toggles.
    if let Some(wait) = next_toggle {
        ui.ctx()
            .request_repaint_after(Duration::from_secs_f64(wait.max(0.01)));
    }
}

/// Whether `led` is lit at `now` (seconds), and in how many seconds it
/// toggles next (`None` for a steady LED).
fn led_lit(led: Led, now: f64) -> (bool, Option<f64>) {
    let (on_ms, off_ms) = match led {
        Led::Off => return (false, None),
        Led::On => return (true, None),
        Led::Flashing => (500, 500),
        Led::Winking => (750, 750),
        Led::Other(state) => match state {
            LedState::FLASH_50_50 => (50, 50),
            LedState::FLASH_450_50 => (450, 50),
            LedState::FLASH_50_100 => (50, 100),
            LedState::FLASH_250_250 => (250, 250),
            // An unknown code: show it steady rather than guess a rate.
            _ => return (true, None),
        },
    };
    let (on, period) = (
        f64::from(on_ms) / 1000.0,
        f64::from(on_ms + off_ms) / 1000.0,
    );
    let phase = now.rem_euclid(period);
    if phase < on {
        (true, Some(on - phase))
    } else {
        (false, Some(period - phase))
    }
}

fn controls(ui: &mut egui::Ui, model: &PhoneModel, state: &FaceState<'_>, inputs: &mut Vec<Input>) {
    ui.horizontal(|ui| {
        let (text, input) = match model.hook() {
            Hook::OnHook if model.handsfree() => ("Hang up", Input::OnHook),
            Hook::OnHook if model.ringer() => ("Answer", Input::OffHook),
            Hook::OnHook => ("Lift handset", Input::OffHook),
            Hook::OffHook => ("Hang up", Input::OnHook),
        };
        if ui
            .add(egui::Button::new(RichText::new(text).size(16.0)).min_size(Vec2::new(130.0, 34.0)))
            .clicked()
        {
            inputs.push(input);
        }
        if model.handsfree() {
            ui.label("Handsfree");
        }
        let mut muted = state.muted;
        if ui.toggle_value(&mut muted, "Mute").changed() {
            inputs.push(Input::Mute(muted));
        }
        let mut volume = state.volume;
        let label = ui.label("Volume");
        if ui
            .add(egui::Slider::new(&mut volume, 0..=100).suffix(" %"))
            .labelled_by(label.id)
            .changed()
        {
            inputs.push(Input::Volume(volume));
        }
    });
    if let Some(level) = state.mic_level {
        ui.horizontal(|ui| {
            ui.label("Microphone");
            // -60 dBFS and below reads as empty, full scale as full.
            let fraction = ((level + 60.0) / 60.0).clamp(0.0, 1.0);
            ui.add(egui::ProgressBar::new(fraction).desired_width(200.0));
            if state.muted && level > -40.0 {
                ui.label("You are talking while muted");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flashing_leds_toggle_on_their_cadence() {
        assert_eq!(led_lit(Led::On, 3.3), (true, None));
        assert_eq!(led_lit(Led::Off, 3.3), (false, None));
        let (lit, next) = led_lit(Led::Flashing, 10.2);
        assert!(lit);
        assert!((next.expect("toggles") - 0.3).abs() < 1e-9);
        let (lit, next) = led_lit(Led::Winking, 0.8);
        assert!(!lit);
        assert!((next.expect("toggles") - 0.7).abs() < 1e-9);
        assert_eq!(timer_text(Duration::from_secs(75)), "01:15");
    }
}
