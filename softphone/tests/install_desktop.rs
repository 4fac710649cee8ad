//! `make install` (scripts/install-desktop.sh) into a throw-away home: the
//! binary lands in ~/.local/bin, the .desktop entry passes
//! `desktop-file-validate`, and `xdg-mime` names the app as the handler of
//! `tel:` links. Fails when the tools are missing: scripts/install-deps.sh
//! installs desktop-file-utils and xdg-utils.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ENTRY: &str = "device-at-home-softphone.desktop";

fn run(command: &mut Command, what: &str) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {what}: {error}"));
    assert!(
        output.status.success(),
        "{what}: {}\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A command in the throw-away home, with no desktop session around it
/// (`xdg-mime` then uses the freedesktop.org files).
fn in_home(program: impl AsRef<std::ffi::OsStr>, home: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env_remove("XDG_CURRENT_DESKTOP")
        .env_remove("DESKTOP_SESSION")
        .env_remove("KDE_FULL_SESSION")
        .env_remove("GNOME_DESKTOP_SESSION_ID");
    command
}

#[test]
fn make_install_registers_the_app_for_tel_links() {
    let home = tempfile::tempdir().expect("temp home");
    let home = home.path();
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_softphone"));
    // …/target/debug/softphone: the script looks under the target dir.
    let target = binary
        .parent()
        .and_then(Path::parent)
        .expect("the target directory");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/install-desktop.sh");
    let installed = run(
        in_home(&script, home).env("CARGO_TARGET_DIR", target),
        "scripts/install-desktop.sh",
    );
    let said = String::from_utf8_lossy(&installed.stdout);
    assert!(
        said.contains(&format!("tel: links open with {ENTRY}")),
        "{said}"
    );

    let softphone = home.join(".local/bin/softphone");
    run(
        in_home(&softphone, home).arg("--help"),
        "the installed softphone",
    );
    let entry = home.join(".local/share/applications").join(ENTRY);
    let validated = run(
        Command::new("desktop-file-validate").arg(&entry),
        "desktop-file-validate (package desktop-file-utils)",
    );
    assert!(
        validated.stdout.is_empty() && validated.stderr.is_empty(),
        "the entry has warnings: {}{}",
        String::from_utf8_lossy(&validated.stdout),
        String::from_utf8_lossy(&validated.stderr)
    );
    let text = std::fs::read_to_string(&entry).expect("the entry");
    assert!(
        text.contains(&format!("Exec={} %u", softphone.display())),
        "{text}"
    );
    let handler = run(
        in_home("xdg-mime", home).args(["query", "default", "x-scheme-handler/tel"]),
        "xdg-mime (package xdg-utils)",
    );
    assert_eq!(String::from_utf8_lossy(&handler.stdout).trim(), ENTRY);
}
