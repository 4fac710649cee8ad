//! Code of this process running inside a lab namespace: a thread that has
//! entered the namespace (`setns`) and drives a tokio runtime there.
//!
//! A network namespace belongs to a thread, and a socket to the namespace
//! of the thread that created it. So every socket a task on this runtime
//! opens (the gateway's listeners and RTP proxy, a phone's TCP and RTP)
//! lives in the lab, and so does every thread the runtime's tasks start
//! (the RTP proxy's workers, the blocking pool), as threads inherit the
//! namespace of the thread that starts them. The handles the tasks return
//! (channels, `Arc`s) work from the test's own runtime as usual.

use std::fs::File;
use std::future::Future;
use std::thread::JoinHandle;
use std::time::Duration;

use nix::sched::{CloneFlags, setns};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use super::LabError;

/// Moves the calling thread into the network namespace `ns`.
pub fn enter(ns: &str) -> Result<(), LabError> {
    let path = format!("/run/netns/{ns}");
    let file = File::open(&path).map_err(|error| LabError::Namespace {
        ns: ns.to_owned(),
        reason: format!("cannot open {path}: {error}"),
    })?;
    setns(&file, CloneFlags::CLONE_NEWNET).map_err(|error| LabError::Namespace {
        ns: ns.to_owned(),
        reason: format!("setns: {error}"),
    })
}

/// A single-threaded tokio runtime on a thread inside a lab namespace.
pub struct NsRuntime {
    ns: String,
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl NsRuntime {
    /// Starts the thread in `ns` and its runtime.
    pub fn start(ns: &str) -> Result<Self, LabError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let name = ns.to_owned();
        let thread = std::thread::Builder::new()
            .name(format!("in {ns}"))
            .spawn(move || {
                let runtime = enter(&name).and_then(|()| {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|error| LabError::Namespace {
                            ns: name.clone(),
                            reason: format!("cannot build a runtime: {error}"),
                        })
                });
                let runtime = match runtime {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                        return;
                    }
                };
                let (stop_tx, stop_rx) = oneshot::channel::<()>();
                let _ = ready_tx.send(Ok((runtime.handle().clone(), stop_tx)));
                runtime.block_on(async {
                    let _ = stop_rx.await;
                });
                runtime.shutdown_timeout(Duration::from_secs(2));
            })
            .map_err(|error| LabError::Namespace {
                ns: ns.to_owned(),
                reason: format!("cannot start a thread: {error}"),
            })?;
        let started = ready_rx.recv().map_err(|_| LabError::Namespace {
            ns: ns.to_owned(),
            reason: "its thread ended before its runtime started".into(),
        })?;
        let (handle, stop) = started?;
        Ok(Self {
            ns: ns.to_owned(),
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Runs `future` inside the namespace and returns its output; a panic
    /// in it panics here.
    pub async fn run<F, T>(&self, future: F) -> T
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        match self.handle.spawn(future).await {
            Ok(output) => output,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => panic!("a task in {} was cancelled: {error}", self.ns),
        }
    }

    /// Moves the runtime's thread into `ns`: sockets opened from now on
    /// are there (a laptop that left one network for another); sockets
    /// opened before stay where they were.
    pub async fn move_to(&self, ns: &str) -> Result<(), LabError> {
        let ns = ns.to_owned();
        self.run(async move { enter(&ns) }).await
    }
}

impl Drop for NsRuntime {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
