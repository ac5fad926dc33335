//! Reading an input file within bounds.

use std::fs::FileType;
use std::io::{self, Read};
use std::path::Path;

/// The largest plan file vaultwire reads: a fleet's plan of thousands of resources is well
/// under a megabyte.
pub const PLAN_LIMIT: u64 = 4 * 1024 * 1024;

/// The largest state file or saved change set vaultwire reads: the records of tens of
/// thousands of resources.
pub const STATE_LIMIT: u64 = 256 * 1024 * 1024;

/// The text of the regular file at `path`, refused when it is anything else (a directory, a
/// FIFO that would block, a device such as `/dev/zero` that never ends) or larger than `limit`
/// bytes. A missing file is `ErrorKind::NotFound`, as `std::fs::read_to_string` has it.
pub fn read_text(path: &Path, limit: u64) -> io::Result<String> {
    // Looked at before opening: opening a FIFO blocks until someone writes to it.
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "it is {}, not a regular file",
                describe(metadata.file_type())
            ),
        ));
    }
    within_limit(metadata.len(), limit)?;
    let mut text = String::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    // The file may have grown since it was looked at.
    std::fs::File::open(path)?
        .take(limit.saturating_add(1))
        .read_to_string(&mut text)?;
    within_limit(text.len() as u64, limit)?;
    Ok(text)
}

/// An error saying a file of `len` bytes is larger than `limit`, if it is.
pub fn within_limit(len: u64, limit: u64) -> io::Result<()> {
    if len <= limit {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "it is larger than {}, the most vaultwire reads from such a file",
            size(limit)
        ),
    ))
}

/// "a directory", "a FIFO", … for a file that is not a regular file.
fn describe(file_type: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

/// `4 MiB`, `256 MiB`, `512 bytes`.
fn size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_regular_file_within_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.toml");
        std::fs::write(&path, "version = 1\n").unwrap();
        assert_eq!(read_text(&path, 64).unwrap(), "version = 1\n");
        assert_eq!(read_text(&path, 12).unwrap(), "version = 1\n");
    }

    #[test]
    fn a_missing_file_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let error = read_text(&dir.path().join("none"), 64).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_file_over_the_limit_is_refused_with_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.toml");
        std::fs::write(&path, "x".repeat(13)).unwrap();
        let error = read_text(&path, 12).unwrap_err();
        assert_eq!(
            error.to_string(),
            "it is larger than 12 bytes, the most vaultwire reads from such a file"
        );
        assert_eq!(
            read_text(&path, 1024 * 1024 * 3)
                .map(|text| text.len())
                .ok(),
            Some(13)
        );
        assert_eq!(size(PLAN_LIMIT), "4 MiB");
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let error = read_text(dir.path(), 64).unwrap_err();
        assert_eq!(error.to_string(), "it is a directory, not a regular file");
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_fifos_are_refused_without_reading_or_blocking() {
        let error = read_text(Path::new("/dev/zero"), 64).unwrap_err();
        assert_eq!(
            error.to_string(),
            "it is a character device, not a regular file"
        );
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("run mkfifo");
        assert!(made.success());
        // Opening it would block until a writer came: the test would hang.
        let error = read_text(&fifo, 64).unwrap_err();
        assert_eq!(
            error.to_string(),
            "it is a FIFO (named pipe), not a regular file"
        );
    }
}
