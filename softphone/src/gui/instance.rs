//! One running window per profile. The first `softphone` of a profile
//! listens on a Unix socket in the user's runtime directory
//! (`$XDG_RUNTIME_DIR/device-at-home-softphone-<profile>.sock`); a second
//! `softphone tel:+49…` of the same profile hands its number to it and
//! exits, instead of registering the same phone a second time.
//!
//! ```text
//! second instance                      running instance (thread "tel-socket")
//! connect ─── "dial 4989123456\n" ───▶ accept, read one line
//!         ◀── "ok\n" ──────────────── Event::Dial -> the window dials it
//! ```
//!
//! A socket file nobody answers on (the instance crashed) is stale: the
//! next instance removes it and listens in its place.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::engine::{Event, EventSender};

/// How long a second instance waits for the first to answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest request line read (a number is far shorter).
const MAX_LINE: u64 = 256;

/// The socket of `profile`, if the system has a runtime directory.
pub fn socket_path(profile: &str) -> Option<PathBuf> {
    let dir = dirs::runtime_dir()?;
    Some(dir.join(format!("device-at-home-softphone-{profile}.sock")))
}

/// Who this process is for its profile.
#[derive(Debug)]
pub enum Claim {
    /// The first: it owns the socket (removed again on drop).
    First(Instance),
    /// Another instance runs and has taken the number (or was raised).
    Handed,
}

/// The socket of the running instance.
#[derive(Debug)]
pub struct Instance {
    listener: UnixListener,
    path: PathBuf,
}

/// Hands `number` (or, without one, a request to come forward) to the
/// instance listening on `path`, or becomes that instance.
pub fn claim(path: &Path, number: Option<&str>) -> std::io::Result<Claim> {
    // Twice: two instances started at the same moment may both find the
    // socket stale; the one that loses the bind hands over to the other.
    for _ in 0..2 {
        match UnixStream::connect(path) {
            Ok(stream) => {
                hand_over(stream, number)?;
                return Ok(Claim::Handed);
            }
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound
                ) =>
            {
                // Stale (nobody listens) or absent: take its place.
                match std::fs::remove_file(path) {
                    Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                        return Err(error);
                    }
                    _ => {}
                }
                match UnixListener::bind(path) {
                    Ok(listener) => {
                        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
                        return Ok(Claim::First(Instance {
                            listener,
                            path: path.to_owned(),
                        }));
                    }
                    Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => continue,
                    Err(error) => return Err(error),
                }
            }
            Err(error) => return Err(error),
        }
    }
    Err(std::io::Error::other(format!(
        "{}: neither answering nor free",
        path.display()
    )))
}

fn hand_over(mut stream: UnixStream, number: Option<&str>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(ANSWER_TIMEOUT))?;
    stream.set_write_timeout(Some(ANSWER_TIMEOUT))?;
    let request = match number {
        Some(number) => format!("dial {number}\n"),
        None => "raise\n".to_owned(),
    };
    stream.write_all(request.as_bytes())?;
    let mut answer = String::new();
    BufReader::new(stream.take(MAX_LINE)).read_line(&mut answer)?;
    if answer.trim_end() == "ok" {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "the running softphone answered {answer:?}"
        )))
    }
}

impl Instance {
    /// Serves second instances on a thread of its own, for as long as the
    /// process runs: each request becomes an [`Event`] for the window.
    pub fn serve(&self, ui: EventSender) -> std::io::Result<()> {
        let listener = self.listener.try_clone()?;
        std::thread::Builder::new()
            .name("tel-socket".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    match stream {
                        Ok(stream) => {
                            if !answer(stream, &ui) {
                                return; // the window has gone
                            }
                        }
                        Err(error) => tracing::warn!(%error, "tel socket"),
                    }
                }
            })?;
        Ok(())
    }
}

/// Reads one request and answers it; `false` once the UI has gone.
fn answer(stream: UnixStream, ui: &EventSender) -> bool {
    let _ = stream.set_read_timeout(Some(ANSWER_TIMEOUT));
    let mut line = String::new();
    let Ok(reader) = stream.try_clone() else {
        return true;
    };
    if BufReader::new(reader.take(MAX_LINE))
        .read_line(&mut line)
        .is_err()
    {
        return true;
    }
    let event = match line.trim_end().split_once(' ') {
        Some(("dial", link)) => super::number_of_tel(link).map(Event::Dial),
        None if line.trim_end() == "raise" => Some(Event::Raise),
        _ => None,
    };
    let mut stream = stream;
    let Some(event) = event else {
        let _ = stream.write_all(b"refused\n");
        return true;
    };
    let delivered = ui.send(event);
    let _ = stream.write_all(if delivered { b"ok\n" } else { b"gone\n" });
    delivered
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    const PATIENCE: Duration = Duration::from_secs(10);

    #[test]
    fn a_second_instance_hands_its_number_to_the_first() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("softphone-test.sock");
        let Claim::First(first) = claim(&path, None).expect("claimed") else {
            panic!("nobody else listens");
        };
        let mode = std::fs::metadata(&path)
            .expect("socket")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let (events, received) = mpsc::channel();
        first.serve(EventSender::detached(events)).expect("serving");

        let second = claim(&path, Some("tel:+49-89-123456")).expect("handed over");
        assert!(matches!(second, Claim::Handed));
        match received.recv_timeout(PATIENCE).expect("an event") {
            Event::Dial(number) => assert_eq!(number, "4989123456"),
            other => panic!("not a dial: {other:?}"),
        }
        assert!(matches!(claim(&path, None), Ok(Claim::Handed)));
        assert!(matches!(received.recv_timeout(PATIENCE), Ok(Event::Raise)));
        // A link without a number is refused, and the second instance says so.
        assert!(claim(&path, Some("tel:abc")).is_err());

        drop(first);
        assert!(!path.exists(), "the socket goes with its instance");
    }

    #[test]
    fn a_stale_socket_of_a_crashed_instance_is_replaced() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("softphone-test.sock");
        // A crash leaves the file behind with nobody listening.
        drop(UnixListener::bind(&path).expect("bound"));
        assert!(path.exists());
        let claimed = claim(&path, Some("202")).expect("claimed");
        assert!(matches!(claimed, Claim::First(_)), "{claimed:?}");
        assert!(UnixStream::connect(&path).is_ok(), "listening again");
    }
}
