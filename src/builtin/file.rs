//! The tools' files: paths as the user wrote them (`%p`), shown in
//! messages, told apart by identity, and written through a [`Sink`] whose
//! write errors wait for the next flush.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// A file's identity, to tell when two names mean one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum FileId {
    Inode(u64, u64),
    Path(PathBuf),
}

/// The identity of the regular file `path` names (existing or not);
/// `None` for devices and other special files, which may be shared.
pub(super) fn file_id(path: &Path) -> Option<FileId> {
    match std::fs::metadata(path) {
        Ok(md) if md.is_file() => Some(FileId::Inode(md.dev(), md.ino())),
        Ok(_) => None,
        Err(_) => {
            let name = path.file_name()?;
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let dir = std::fs::canonicalize(parent).unwrap_or_else(|_| parent.to_path_buf());
            Some(FileId::Path(dir.join(name)))
        }
    }
}

/// `path` with every `%p` replaced by the process id (paths are bytes:
/// any path works, UTF-8 or not).
pub(super) fn expand(path: &Path) -> PathBuf {
    let bytes = path.as_os_str().as_bytes();
    if !bytes.windows(2).any(|w| w == b"%p") {
        return path.to_path_buf();
    }
    let pid = std::process::id().to_string();
    let mut out = Vec::with_capacity(bytes.len() + 8);
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"%p") {
            out.extend_from_slice(pid.as_bytes());
            i += 2;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    PathBuf::from(std::ffi::OsString::from_vec(out))
}

/// `path` for a message on one line: invalid UTF-8 replaced, control
/// characters escaped.
pub(crate) fn shown(path: &Path) -> String {
    escape_controls(&path.to_string_lossy())
}

/// `text` with control characters written as escapes (`\n`, `\u{1b}`).
pub(crate) fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().collect()
            } else {
                c.to_string()
            }
        })
        .collect()
}

pub(super) fn create(path: &Path) -> Result<BufWriter<File>, Error> {
    File::create(path)
        .map(|f| BufWriter::with_capacity(1 << 16, f))
        .map_err(|e| Error::runtime(format!("cannot create {}: {e}", shown(path))))
}

pub(super) fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::runtime(format!("cannot write {}: {e}", shown(path)))
}

/// A buffered file that can be closed, shared by the streaming tools. A
/// write error closes it and is reported by the next flush or close, so a
/// full disk never makes the host's fire calls fail.
pub(crate) struct Sink {
    writer: Option<BufWriter<File>>,
    path: PathBuf,
    error: Option<Error>,
}

impl Sink {
    pub fn new(writer: BufWriter<File>, path: PathBuf) -> Sink {
        Sink {
            writer: Some(writer),
            path,
            error: None,
        }
    }

    /// Write `text` unless closed.
    pub fn write(&mut self, text: &str) {
        if let Some(w) = &mut self.writer {
            if let Err(e) = w.write_all(text.as_bytes()) {
                self.error = Some(io_error(&self.path, e));
                self.writer = None;
            }
        }
    }

    /// Flush the buffer; reports an earlier write error once.
    pub fn flush(&mut self) -> Result<(), Error> {
        if let Some(w) = &mut self.writer {
            if let Err(e) = w.flush() {
                self.error = Some(io_error(&self.path, e));
                self.writer = None;
            }
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Flush and close; later writes are ignored.
    pub fn close(&mut self) -> Result<(), Error> {
        let result = self.flush();
        self.writer = None;
        result
    }

    pub fn is_open(&self) -> bool {
        self.writer.is_some()
    }
}
