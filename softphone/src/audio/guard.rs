//! The owner's handle on a running back end's thread: switch devices, stop.

use std::sync::mpsc;
use std::thread::JoinHandle;

use super::{AudioError, Direction};

/// What the owner (or a stream's error callback) asks of a back end thread.
pub(crate) enum Command {
    /// Open `device` (`None`: the default) for `which`, replacing the
    /// current one; the answer comes back on `reply`.
    Switch {
        which: Direction,
        device: Option<String>,
        reply: mpsc::Sender<Result<(), AudioError>>,
    },
    /// A stream's error callback saw the device go away. `generation`
    /// tells a current stream from one already replaced.
    StreamFailed {
        which: Direction,
        generation: u64,
        why: String,
    },
    /// Stop the streams (finalising any recording) and end the thread.
    Stop,
}

/// Keeps a back end running: dropping it stops the streams and waits for
/// the back end's thread (so a `--record` file is complete afterwards).
#[derive(Debug)]
pub struct AudioGuard {
    commands: mpsc::Sender<Command>,
    thread: Option<JoinHandle<Result<(), AudioError>>>,
}

/// Switches the devices of a running back end from anywhere (the GUI,
/// while the call's media owns the [`AudioGuard`]); it does not keep the
/// back end running: once stopped, a switch answers [`AudioError::Stopped`].
#[derive(Debug, Clone)]
pub struct DeviceSwitch {
    commands: mpsc::Sender<Command>,
}

impl DeviceSwitch {
    /// Like [`AudioGuard::switch_input`].
    pub fn switch_input(&self, device: Option<&str>) -> Result<(), AudioError> {
        self.switch(Direction::Capture, device)
    }

    /// Like [`AudioGuard::switch_output`].
    pub fn switch_output(&self, device: Option<&str>) -> Result<(), AudioError> {
        self.switch(Direction::Playback, device)
    }

    /// Opens `device` for `which`, replacing the current one.
    pub fn switch(&self, which: Direction, device: Option<&str>) -> Result<(), AudioError> {
        let (reply, answer) = mpsc::channel();
        let command = Command::Switch {
            which,
            device: device.map(str::to_owned),
            reply,
        };
        self.commands
            .send(command)
            .map_err(|_| AudioError::Stopped)?;
        answer.recv().map_err(|_| AudioError::Stopped)?
    }
}

impl AudioGuard {
    pub(crate) fn new(
        commands: mpsc::Sender<Command>,
        thread: JoinHandle<Result<(), AudioError>>,
    ) -> Self {
        Self {
            commands,
            thread: Some(thread),
        }
    }

    /// Switches the microphone to `device` (`None`: the default device), e.g.
    /// after [`AudioEvent::DeviceLost`](super::AudioEvent::DeviceLost).
    /// Blocks while the device opens (tens of milliseconds). A device that
    /// cannot be found or configured leaves the current one running; one
    /// that fails to start leaves the capture on silence, as if lost.
    pub fn switch_input(&self, device: Option<&str>) -> Result<(), AudioError> {
        self.switcher().switch_input(device)
    }

    /// Switches the speaker to `device`, like [`Self::switch_input`].
    pub fn switch_output(&self, device: Option<&str>) -> Result<(), AudioError> {
        self.switcher().switch_output(device)
    }

    /// A handle that switches this back end's devices from elsewhere.
    pub fn switcher(&self) -> DeviceSwitch {
        DeviceSwitch {
            commands: self.commands.clone(),
        }
    }

    /// Stops the back end and reports what went wrong on the way out
    /// (e.g. a `--record` file that could not be finalised).
    pub fn stop(mut self) -> Result<(), AudioError> {
        self.finish()
    }

    fn finish(&mut self) -> Result<(), AudioError> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        let _ = self.commands.send(Command::Stop);
        thread.join().map_err(|_| AudioError::Stopped)?
    }
}

impl Drop for AudioGuard {
    fn drop(&mut self) {
        if let Err(error) = self.finish() {
            tracing::warn!(%error, "audio back end stopped with an error");
        }
    }
}
