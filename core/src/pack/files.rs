//! Where a pack's files come from: a directory (the usual case), files held
//! in memory, or a `.zip` archive of a packs folder. The loader
//! ([`crate::RulePack::load_from`]), a pack's own tests
//! ([`crate::PackTest::load_all_from`]) and live rules
//! ([`crate::LiveRules::load_from`]) read every file through a
//! [`PackSource`]; only watching for saves ([`crate::LiveRules::watch`]) needs
//! a directory.
//!
//! Paths given to a source are the source's own: file-system paths for a
//! [`DirectorySource`], paths inside it (`sagrario/pack.toml`) for memory
//! and archives. Diagnostics show a directory's paths as they are and a
//! file inside memory or an archive after its label:
//! `packs.zip:sagrario/pack.toml:12:3`.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, Read, Seek};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use super::toml_text::utf8;
use crate::diagnostic::{Diagnostic, DiagnosticCode, Diagnostics};
use crate::source::{Location, SourceFile};

/// A place a pack's files are read from.
///
/// Implementations list a directory's files, read a file's bytes, and
/// resolve the relative paths packs name (`extends = ["../cooperativas"]`,
/// a test's `data = "…"`) without leaving the source.
pub trait PackSource: fmt::Debug + Send + Sync {
    /// The files directly inside `dir` (not in its sub-directories), sorted
    /// by path.
    ///
    /// # Errors
    /// When `dir` does not exist or cannot be listed.
    fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>>;

    /// The bytes of the file at `path`.
    ///
    /// # Errors
    /// When there is no such file or it cannot be read (or, in an archive,
    /// is larger than its limits allow).
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;

    /// The path `relative` names from `dir`: `sagrario` and
    /// `../cooperativas` give `cooperativas`.
    ///
    /// # Errors
    /// Why the path cannot be used: it leaves the source.
    fn join(&self, dir: &Path, relative: &str) -> Result<PathBuf, String>;

    /// How a path of this source is shown in diagnostics and in the
    /// [`crate::SourceFile`]s of a loaded pack.
    fn shown(&self, path: &Path) -> PathBuf;

    /// The path inside the source of a path as [`PackSource::shown`] shows
    /// it, to read a loaded file again.
    fn inside(&self, shown: &Path) -> Option<PathBuf>;

    /// What identifies the pack in `dir`, to tell when packs extend each
    /// other in a cycle; shown in that message.
    fn identity(&self, dir: &Path) -> PathBuf {
        self.shown(dir)
    }

    /// The path on the file system of `path`, when the source is a
    /// directory: what can be watched for saves, and what a spreadsheet
    /// reader opens.
    fn on_disk(&self, _path: &Path) -> Option<PathBuf> {
        None
    }
}

/// Reads the text file at `path` of `source`, shown at its
/// [`PackSource::shown`] path.
///
/// # Errors
/// A file that cannot be read (`SEM001`, at `from`), or that is not UTF-8
/// (`code`, at its first bad byte).
pub(crate) fn read_text(
    source: &dyn PackSource,
    path: &Path,
    code: DiagnosticCode,
    from: Option<&Location>,
) -> Result<SourceFile, Diagnostic> {
    let shown = source.shown(path);
    match source.read(path).map(utf8) {
        Ok(Ok(text)) => Ok(SourceFile::new(shown, text)),
        Ok(Err((at, text))) => Err(not_utf8(code, SourceFile::new(shown, text), at)),
        Err(e) => Err(Diagnostic::error(
            DiagnosticCode::Io,
            format!("cannot read {}: {e}", shown.display()),
            from.cloned(),
        )),
    }
}

/// A file that is not UTF-8, located at its first bad byte.
fn not_utf8(code: DiagnosticCode, file: SourceFile, at: usize) -> Diagnostic {
    let file = Arc::new(file);
    Diagnostic::error(
        code,
        format!(
            "{} is not UTF-8 text: byte {at} starts an invalid sequence",
            file.path().display()
        ),
        Some(Location {
            file,
            span: at..at + '\u{fffd}'.len_utf8(),
        }),
    )
    .with_help("save the file as UTF-8 (most editors offer it under \"encoding\")")
}

/// `rules/sagrario/../cooperativas` → `rules/cooperativas`, without touching
/// the file system (paths in messages stay as the user wrote them).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Packs in directories of the file system: paths are file-system paths,
/// shown as they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct DirectorySource;

impl PackSource for DirectorySource {
    fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let mut paths: Vec<PathBuf> = fs::read_dir(dir)?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        Ok(paths)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        fs::read(path)
    }

    fn join(&self, dir: &Path, relative: &str) -> Result<PathBuf, String> {
        Ok(normalize(&dir.join(relative)))
    }

    fn shown(&self, path: &Path) -> PathBuf {
        path.to_path_buf()
    }

    fn inside(&self, shown: &Path) -> Option<PathBuf> {
        Some(shown.to_path_buf())
    }

    fn identity(&self, dir: &Path) -> PathBuf {
        dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())
    }

    fn on_disk(&self, path: &Path) -> Option<PathBuf> {
        Some(path.to_path_buf())
    }
}

/// The files of memory or an archive (each a `T`: its bytes, or where it
/// is in the archive), by their normalized paths inside, and how those
/// paths are shown.
#[derive(Debug, Clone)]
struct Held<T> {
    /// Shown before each path and a `:`; none: paths are shown as they are.
    label: Option<String>,
    files: BTreeMap<PathBuf, T>,
}

impl<T> Held<T> {
    fn new(label: Option<String>) -> Self {
        Self {
            label,
            files: BTreeMap::new(),
        }
    }

    /// What the paths are inside, for messages.
    fn what(&self) -> String {
        self.label
            .as_ref()
            .map_or_else(|| "the files in memory".to_owned(), Clone::clone)
    }

    /// The file at `path`.
    fn get(&self, path: &Path) -> io::Result<&T> {
        self.files.get(&normalize(path)).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no such file in {}", self.what()),
            )
        })
    }

    /// The files directly inside `dir`, in path order.
    fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let dir = normalize(dir);
        let mut found = false;
        let mut files = Vec::new();
        for path in self.files.keys() {
            if path.starts_with(&dir) && *path != dir {
                found = true;
                if path.parent() == Some(dir.as_path()) {
                    files.push(path.clone());
                }
            }
        }
        if !found && !dir.as_os_str().is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no such directory in {}", self.what()),
            ));
        }
        Ok(files)
    }

    fn join(&self, dir: &Path, relative: &str) -> Result<PathBuf, String> {
        let dir = normalize(dir);
        let joined = normalize(&dir.join(relative));
        let leaves = joined.components().any(|c| c == Component::ParentDir)
            || joined.has_root() != dir.has_root()
            || joined
                .components()
                .any(|c| matches!(c, Component::Prefix(_)));
        if leaves {
            Err(format!(
                "`{relative}` from `{}` leaves {}",
                self.shown(&dir).display(),
                self.what()
            ))
        } else {
            Ok(joined)
        }
    }

    fn shown(&self, path: &Path) -> PathBuf {
        let path = normalize(path);
        match &self.label {
            Some(label) => PathBuf::from(format!("{label}:{}", path.display())),
            None => path,
        }
    }

    fn inside(&self, shown: &Path) -> Option<PathBuf> {
        match &self.label {
            Some(label) => shown
                .to_str()?
                .strip_prefix(label.as_str())?
                .strip_prefix(':')
                .map(PathBuf::from),
            None => Some(shown.to_path_buf()),
        }
    }
}

/// The [`PackSource`] methods about paths of a source whose files are
/// [`Held`] in its `held`.
macro_rules! held_paths {
    () => {
        fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
            self.held.list(dir)
        }

        fn join(&self, dir: &Path, relative: &str) -> Result<PathBuf, String> {
            self.held.join(dir, relative)
        }

        fn shown(&self, path: &Path) -> PathBuf {
            self.held.shown(path)
        }

        fn inside(&self, shown: &Path) -> Option<PathBuf> {
            self.held.inside(shown)
        }
    };
}

/// A pack's files held in memory: a map of path → bytes. Paths are
/// relative (`sagrario/pack.toml`), and a pack may extend only packs
/// inside the same map.
///
/// ```
/// use semaforo_core::{MemorySource, RulePack};
/// use std::path::Path;
/// let mut files = MemorySource::labelled("demo");
/// files.insert("library/pack.toml", "[pack]\nid = \"library\"\nversion = \"1\"\n[fields]\nx = \"x\"\n[[indicator]]\nid = \"double\"\nformula = \"x * 2\"\n");
/// files.insert("mine/pack.toml", "[pack]\nid = \"mine\"\nversion = \"1\"\nextends = [\"../library\"]\n");
/// let pack = RulePack::load_from(&files, Path::new("mine")).unwrap();
/// assert_eq!(pack.indicators()[0].id, "double");
/// assert_eq!(pack.indicators()[0].location.to_string(), "demo:library/pack.toml:7:6");
/// ```
#[derive(Debug, Clone)]
pub struct MemorySource {
    held: Held<Vec<u8>>,
}

impl Default for MemorySource {
    fn default() -> Self {
        Self {
            held: Held::new(None),
        }
    }
}

impl MemorySource {
    /// No files; paths are shown as they are (`pack.toml:3:11`).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// No files; paths are shown after `label` (`label:pack.toml:3:11`).
    #[must_use]
    pub fn labelled(label: impl Into<String>) -> Self {
        Self {
            held: Held::new(Some(label.into())),
        }
    }

    /// Adds (or replaces) the file at `path`; `a/./b` and `a/x/../b` are
    /// the same path. Returns the bytes it replaces.
    pub fn insert(&mut self, path: impl AsRef<Path>, bytes: impl Into<Vec<u8>>) -> Option<Vec<u8>> {
        self.held
            .files
            .insert(normalize(path.as_ref()), bytes.into())
    }
}

impl PackSource for MemorySource {
    held_paths!();

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.held.get(path).cloned()
    }
}

/// How much an [`ArchiveSource`] may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// The most entries (files and directories) the archive may hold.
    pub max_entries: usize,
    /// The most bytes one file may hold uncompressed.
    pub max_file_bytes: u64,
    /// The most bytes all files together may hold uncompressed.
    pub max_total_bytes: u64,
}

impl Default for ArchiveLimits {
    /// 10,000 entries, 64 MiB a file, 1 GiB in all.
    fn default() -> Self {
        Self {
            max_entries: 10_000,
            max_file_bytes: 64 << 20,
            max_total_bytes: 1 << 30,
        }
    }
}

/// What an archive is read from.
trait ReadSeek: Read + Seek + Send {}

impl<T: Read + Seek + Send> ReadSeek for T {}

/// A `.zip` archive of a packs folder: `sagrario/pack.toml`,
/// `cooperativas/pack.toml`, … . Paths are the ones inside the archive,
/// shown after the archive's name (`packs.zip:sagrario/pack.toml:12:3`); a
/// pack may extend only packs inside the same archive.
///
/// Opening reads the archive's directory only and refuses an archive with
/// more entries, or files declaring more bytes in all, than its
/// [`ArchiveLimits`]; a file is decompressed when it is read, and refused
/// when it declares more than a file may hold, or holds more than it
/// declares. The archive is read as it was when opened (open it again to
/// read a newer one).
pub struct ArchiveSource {
    /// Each file's index in the archive and its declared size.
    held: Held<(usize, u64)>,
    limits: ArchiveLimits,
    archive: Mutex<zip::ZipArchive<Box<dyn ReadSeek>>>,
}

impl fmt::Debug for ArchiveSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArchiveSource")
            .field("label", &self.held.label)
            .field("files", &self.held.files.len())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl ArchiveSource {
    /// Opens the `.zip` file at `path`, with the default [`ArchiveLimits`];
    /// its files are shown after `path`.
    ///
    /// # Errors
    /// When the file cannot be read as a zip archive, or is over its limits.
    pub fn open(path: &Path) -> Result<Self, Diagnostics> {
        Self::open_with(path, ArchiveLimits::default())
    }

    /// [`ArchiveSource::open`] with other limits.
    ///
    /// # Errors
    /// When the file cannot be read as a zip archive, or is over `limits`.
    pub fn open_with(path: &Path, limits: ArchiveLimits) -> Result<Self, Diagnostics> {
        let label = path.display().to_string();
        match fs::File::open(path) {
            Ok(file) => Self::from_reader(label, io::BufReader::new(file), limits),
            Err(e) => Err(archive_error(&label, &e)),
        }
    }

    /// Reads a zip archive from `reader` (a file, or bytes in a
    /// [`std::io::Cursor`]); its files are shown after `label`.
    ///
    /// # Errors
    /// When `reader` cannot be read as a zip archive, or is over `limits`.
    pub fn from_reader(
        label: impl Into<String>,
        reader: impl Read + Seek + Send + 'static,
        limits: ArchiveLimits,
    ) -> Result<Self, Diagnostics> {
        let label = label.into();
        let reader: Box<dyn ReadSeek> = Box::new(reader);
        let mut archive = zip::ZipArchive::new(reader).map_err(|e| archive_error(&label, &e))?;
        if archive.len() > limits.max_entries {
            return Err(archive_error(
                &label,
                &format!(
                    "it holds {} entries, more than the {} an archive of packs may hold",
                    archive.len(),
                    limits.max_entries
                ),
            ));
        }
        let mut held = Held::new(Some(label));
        let mut total: u64 = 0;
        for index in 0..archive.len() {
            let entry = archive
                .by_index_raw(index)
                .map_err(|e| archive_error(&held.what(), &e))?;
            if !entry.is_file() || entry.is_symlink() {
                continue;
            }
            let Some(name) = entry.enclosed_name() else {
                return Err(archive_error(
                    &held.what(),
                    &format!(
                        "entry `{}` would lie outside the archive (an absolute path or `..`)",
                        entry.name()
                    ),
                ));
            };
            total = total.saturating_add(entry.size());
            held.files.insert(normalize(&name), (index, entry.size()));
        }
        if total > limits.max_total_bytes {
            return Err(archive_error(
                &held.what(),
                &format!(
                    "its files declare {total} bytes uncompressed in all, more than the {} an archive of packs may hold",
                    limits.max_total_bytes
                ),
            ));
        }
        Ok(Self {
            held,
            limits,
            archive: Mutex::new(archive),
        })
    }
}

/// An archive that cannot be opened, and why.
fn archive_error(label: &str, why: &dyn fmt::Display) -> Diagnostics {
    Diagnostics(vec![
        Diagnostic::error(
            DiagnosticCode::Io,
            format!("cannot read {label} as a zip archive of packs: {why}"),
            None,
        )
        .with_help("pass a .zip of a folder that holds pack directories"),
    ])
}

impl PackSource for ArchiveSource {
    held_paths!();

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let invalid = |message: String| io::Error::new(io::ErrorKind::InvalidData, message);
        let &(index, declared) = self.held.get(path)?;
        let most = self.limits.max_file_bytes;
        if declared > most {
            return Err(invalid(format!(
                "the file declares {declared} bytes uncompressed, more than the {most} a file in an archive of packs may hold"
            )));
        }
        let mut archive = self.archive.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = archive.by_index(index)?;
        let mut bytes = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
        // One byte more than declared tells a file that holds more.
        entry
            .take(declared.saturating_add(1))
            .read_to_end(&mut bytes)?;
        if bytes.len() as u64 > declared {
            return Err(invalid(format!(
                "the file holds more than the {declared} bytes it declares: the archive is damaged"
            )));
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_inside_memory_are_joined_without_leaving_it() {
        let memory = MemorySource::labelled("packs.zip");
        let join = |dir: &str, relative: &str| memory.join(Path::new(dir), relative);
        assert_eq!(
            join("sagrario", "../cooperativas"),
            Ok("cooperativas".into())
        );
        assert_eq!(join("a/b", "./../c/./d"), Ok("a/c/d".into()));
        assert_eq!(
            join("sagrario", "../../cooperativas"),
            Err("`../../cooperativas` from `packs.zip:sagrario` leaves packs.zip".to_owned())
        );
        assert_eq!(
            join("sagrario", "/etc"),
            Err("`/etc` from `packs.zip:sagrario` leaves packs.zip".to_owned())
        );
        let shown = memory.shown(Path::new("a/./b.toml"));
        assert_eq!(shown, Path::new("packs.zip:a/b.toml"));
        assert_eq!(memory.inside(&shown), Some("a/b.toml".into()));
        assert_eq!(memory.inside(Path::new("other.zip:a/b.toml")), None);
    }

    #[test]
    fn memory_lists_the_files_directly_in_a_directory() {
        let mut memory = MemorySource::new();
        memory.insert("p/b.rhai", "");
        memory.insert("p/a.rhai", "");
        memory.insert("p/tests/t.toml", "");
        memory.insert("q/pack.toml", "");
        assert_eq!(
            memory.list(Path::new("p")).unwrap(),
            [PathBuf::from("p/a.rhai"), PathBuf::from("p/b.rhai")]
        );
        assert_eq!(memory.list(Path::new("")).unwrap(), Vec::<PathBuf>::new());
        let missing = memory.list(Path::new("r")).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        assert_eq!(
            missing.to_string(),
            "no such directory in the files in memory"
        );
        assert_eq!(
            memory.read(Path::new("q/x.toml")).unwrap_err().to_string(),
            "no such file in the files in memory"
        );
    }
}
