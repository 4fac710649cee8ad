//! The window's side of guide 7's feedback: the call summaries its calls
//! leave in the profile, and "Create feedback archive…" in the Phone menu,
//! which writes the archive off the UI thread and says where it went.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use eframe::egui;

use super::settings::{Profile, Settings};
use crate::feedback::archive::{self, Request, device_of_settings};
use crate::feedback::{CallLog, CallRecorder, remember_device};
use crate::media::call::MediaReport;

/// What became of the last archive asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Writing,
    Written(PathBuf),
    Failed(String),
}

pub struct Feedback {
    profile_dir: PathBuf,
    runtime: tokio::runtime::Handle,
    /// The running call's recorder (made at its start, from the account
    /// in use then).
    recorder: Option<CallRecorder>,
    /// Where archives go: the Downloads folder (or home).
    folder: PathBuf,
    outcome: Arc<Mutex<Option<Outcome>>>,
}

impl Feedback {
    pub fn new(profile: &Profile, runtime: &tokio::runtime::Handle) -> Self {
        let folder = dirs::download_dir()
            .or_else(dirs::home_dir)
            .unwrap_or_else(|| profile.dir().to_owned());
        Self {
            profile_dir: profile.dir().to_owned(),
            runtime: runtime.clone(),
            recorder: None,
            folder,
            outcome: Arc::default(),
        }
    }

    /// Archives go to `folder` from now on.
    pub fn save_in(&mut self, folder: PathBuf) {
        self.folder = folder;
    }

    /// A media report of the call in progress: its summary is kept when
    /// it stops.
    pub fn media(&mut self, report: &MediaReport, settings: &Settings) {
        if matches!(report, MediaReport::Started { .. })
            && let Some(device) = device_of_settings(settings)
        {
            remember_device(&self.profile_dir, &device);
            self.recorder = Some(CallLog::new(&self.profile_dir, device).recorder());
        }
        if let Some(recorder) = self.recorder.as_mut() {
            recorder.report(report);
        }
    }

    /// The menu entry; a click starts writing the archive.
    pub fn menu_entry(&mut self, ui: &mut egui::Ui) {
        let writing = self.outcome() == Some(Outcome::Writing);
        let button = ui.add_enabled(!writing, egui::Button::new("Create feedback archive…"));
        if button.clicked() {
            self.start(ui.ctx().clone());
        }
    }

    fn start(&mut self, ctx: egui::Context) {
        let request = Request {
            profile_dir: self.profile_dir.clone(),
            out: self.folder.join(archive::default_name()),
            home_router: None,
            office_router: None,
            stun: None,
        };
        *lock(&self.outcome) = Some(Outcome::Writing);
        let outcome = self.outcome.clone();
        self.runtime.spawn(async move {
            let done = match archive::create(request).await {
                Ok(written) => Outcome::Written(written.path),
                Err(error) => Outcome::Failed(error.to_string()),
            };
            *lock(&outcome) = Some(done);
            ctx.request_repaint();
        });
    }

    fn outcome(&self) -> Option<Outcome> {
        lock(&self.outcome).clone()
    }

    /// Says where the archive went (or why not) until closed.
    pub fn window(&mut self, ctx: &egui::Context) {
        let Some(outcome) = self.outcome() else {
            return;
        };
        let mut open = true;
        egui::Window::new("Feedback archive")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| match &outcome {
                Outcome::Writing => {
                    ui.label("Writing the feedback archive…");
                }
                Outcome::Written(path) => {
                    ui.label(format!("Feedback archive saved to {}", path.display()));
                    ui.label(
                        "Send it with the system's traces (README.txt in it says which \
                         trace profiles to switch on).",
                    );
                }
                Outcome::Failed(why) => {
                    ui.colored_label(ui.visuals().warn_fg_color, why);
                }
            });
        if !open && outcome != Outcome::Writing {
            *lock(&self.outcome) = None;
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
