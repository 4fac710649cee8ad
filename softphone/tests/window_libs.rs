//! The desktop window's run-time libraries come from packages
//! scripts/install-deps.sh installs: scripts/check-window-libs.sh opens the
//! real window under Xvfb, maps every shared object it loaded to its Debian
//! package and fails naming any the script's lists do not bring.

use std::path::Path;
use std::process::Command;

#[test]
fn the_window_loads_only_libraries_install_deps_installs() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/check-window-libs.sh");
    let output = Command::new(&script)
        .arg(env!("CARGO_BIN_EXE_softphone"))
        .output()
        .expect("run scripts/check-window-libs.sh");
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}\n{said}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        said.contains("every package the window loads comes from"),
        "{said}"
    );
}
