//! A log file bounded in size: when the next line would take it past its
//! limit, `NAME.log` becomes `NAME.log.1` (`.1` becomes `.2`, and so on) and
//! a new `NAME.log` is started; only `files` files are kept in all.
//! (tracing-appender rotates by time only, and a trace left on over a busy
//! day must not fill the disk.)

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

/// How large a trace file grows and how many are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub max_bytes: u64,
    /// Files kept, the one being written included (at least 1).
    pub files: u32,
}

/// One trace's file, rotated by size.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    rotation: Rotation,
    file: File,
    size: u64,
}

impl RotatingFile {
    /// Opens (appends to) `path`, created readable by the owner only.
    pub fn open(path: &Path, rotation: Rotation) -> std::io::Result<Self> {
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(Self {
            path: path.to_owned(),
            rotation,
            file,
            size,
        })
    }

    /// Appends `line` (whole lines are never split across files).
    pub fn write_line(&mut self, line: &[u8]) -> std::io::Result<()> {
        let len = line.len() as u64;
        if self.size > 0 && self.size + len > self.rotation.max_bytes {
            self.rotate()?;
        }
        self.file.write_all(line)?;
        self.size += len;
        Ok(())
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let kept = self.rotation.files.max(1);
        let _ = std::fs::remove_file(numbered(&self.path, kept - 1));
        for n in (1..kept.saturating_sub(1)).rev() {
            let _ = std::fs::rename(numbered(&self.path, n), numbered(&self.path, n + 1));
        }
        if kept > 1 {
            std::fs::rename(&self.path, numbered(&self.path, 1))?;
        } else {
            std::fs::remove_file(&self.path)?;
        }
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

/// `NAME.log.n`; `n` = 0 is `NAME.log` itself.
pub fn numbered(path: &Path, n: u32) -> PathBuf {
    if n == 0 {
        return path.to_owned();
    }
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_lines_in_at_most_files_files_of_at_most_max_bytes() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("T.log");
        let rotation = Rotation {
            max_bytes: 30,
            files: 3,
        };
        let mut file = RotatingFile::open(&path, rotation).expect("open");
        for n in 0..20 {
            file.write_line(format!("line {n:02}\n").as_bytes())
                .expect("write");
        }
        let read = |n| std::fs::read_to_string(numbered(&path, n)).unwrap_or_default();
        // 8 bytes a line: 3 lines a file; the newest 2 to 3 files' worth kept.
        assert_eq!(read(0), "line 18\nline 19\n");
        assert_eq!(read(1), "line 15\nline 16\nline 17\n");
        assert_eq!(read(2), "line 12\nline 13\nline 14\n");
        assert!(!numbered(&path, 3).exists(), "a fourth file is not kept");
    }

    #[test]
    fn a_reopened_file_counts_what_it_holds() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("T.log");
        let rotation = Rotation {
            max_bytes: 10,
            files: 2,
        };
        std::fs::write(&path, "old line\n").expect("write");
        let mut file = RotatingFile::open(&path, rotation).expect("open");
        file.write_line(b"new line\n").expect("write");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new line\n");
        assert_eq!(
            std::fs::read_to_string(numbered(&path, 1)).expect("read"),
            "old line\n"
        );
    }
}
