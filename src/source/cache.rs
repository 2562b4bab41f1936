//! The header cache of the command line: what each revision file's header
//! says, its checksum and which sections it has, keyed by the file's
//! `stat` (device, inode, size, modification and change times in
//! nanoseconds), the way Git's index skips unchanged files.
//!
//! It lives outside the revisions directory, in the cache directory
//! ([`cache_dir`]: `$MIGRAPH_CACHE_DIR`, else `$XDG_CACHE_HOME/migraph`,
//! else `~/.cache/migraph`), under `revisions/`, one file per revisions
//! directory (named by a SHA-256 of its canonical path). `MIGRAPH_NO_CACHE=1`
//! turns it off.
//!
//! Nothing cached can change a result:
//! - An entry is used only when the file's `stat` is exactly the one
//!   recorded, and only when the file's modification and change times were
//!   at least [`RACY_SECONDS`] older than the moment it was read ("racily
//!   clean", as Git says): a file written in the same instant as it was read
//!   could be written again with the same size and times, so it is read again
//!   until it is old enough. Users can set the modification time back
//!   (`touch -d`), never the change time, which every write and every
//!   `touch` moves to now.
//! - The file is read as a stream and merged with the sorted list of files:
//!   only entries of files still there become revisions, so memory holds
//!   no copy of the whole cache. Its hash is checked at the end, and a
//!   damaged file gives no entries at all.
//! - The file is written to a temporary file beside it and renamed, only
//!   when something changed; one that cannot be read, is damaged (a hash of
//!   its content is checked), or was written by another version of migraph
//!   is ignored and rebuilt; a directory that cannot be written is no error.
//! - Only the header comes from here: a revision that runs has its SQL read
//!   from its file and checked against the cached checksum
//!   ([`crate::Revision::load_sql`]).
//!
//! Writing a cache file removes those of directories no command used for
//! [`UNUSED_DAYS`] ([`Cache::prune`]); a run that reads a cache file marks
//! it as used once a day ([`Cache::read`]).

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::revision::{Checksum, DialectSections, DialectSql, HeaderLines, Links, Revision};

/// How much older than the moment a file was read its modification and
/// change times must be for its entry to be trusted. `MIGRAPH_CACHE_RACY_SECONDS`
/// overrides it, for tests only (0 trusts an entry as soon as the file's
/// times are not after the read).
pub const RACY_SECONDS: i64 = 2;

/// A cache file of a revisions directory that no command used for this
/// long is removed when another cache file is written (see [`Cache::prune`]).
pub(crate) const UNUSED_DAYS: u32 = 30;

const DAY: Duration = Duration::from_secs(24 * 3600);

const MAGIC: &[u8; 8] = b"MIGRAPHC";
const FORMAT: u32 = 3;

/// The directory of migraph's caches on this machine (`None`: no home to
/// put it in): `$MIGRAPH_CACHE_DIR`, else `$XDG_CACHE_HOME/migraph`, else
/// `~/.cache/migraph`. The header cache and the record of `verify` live
/// below it.
pub fn cache_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("MIGRAPH_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("migraph")))
        .or_else(|| var("HOME").map(|d| d.join(".cache").join("migraph")))
}

/// Whether `MIGRAPH_NO_CACHE` turns the header cache off (any value but
/// empty, `0` or `false`).
pub fn disabled() -> bool {
    std::env::var("MIGRAPH_NO_CACHE").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// What identifies one version of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stat {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    ctime: i64,
}

/// An open directory (none where the cache is off: not on Unix).
#[cfg(unix)]
type DirFd = rustix::fd::OwnedFd;
#[cfg(not(unix))]
type DirFd = std::convert::Infallible;

/// The directories of the files being walked, each opened once, so that
/// every file is `stat`ed in its open directory (`fstatat`, cheaper than a
/// `stat` of its whole path) without keeping its directory entry.
#[derive(Default)]
pub(crate) struct Dirs {
    /// `None` where a directory could not be opened (its files are read).
    open: Vec<Option<DirFd>>,
    last: PathBuf,
}

/// A walked file: its directory in [`Dirs`] and whether its entry is a
/// symbolic link (then its target is `stat`ed).
#[derive(Debug, Clone, Copy)]
pub(crate) struct At {
    /// `u32::MAX`: none (past the four billionth directory).
    dir: u32,
    link: bool,
}

impl Dirs {
    /// The place of a file of `dir` (files come grouped by directory).
    pub(crate) fn file(&mut self, dir: &Path, link: bool) -> At {
        if self.open.is_empty() || self.last.as_os_str() != dir.as_os_str() {
            self.open.push(open_dir(dir));
            dir.clone_into(&mut self.last);
        }
        At { dir: u32::try_from(self.open.len() - 1).unwrap_or(u32::MAX), link }
    }

    /// The `stat` of the file `path` at `at`; `None` where it cannot be
    /// read or the platform has no inode and change time.
    pub(crate) fn stat(&self, at: At, path: &Path) -> Option<Stat> {
        let open = (at.dir != u32::MAX).then(|| self.open.get(at.dir as usize)).flatten()?;
        stat_at(open.as_ref()?, file_name(path), at.link)
    }
}

/// The last component of a walked file's path (a name, never `..`), found
/// from its end without parsing the components.
#[cfg(unix)]
fn file_name(path: &Path) -> &std::ffi::OsStr {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    std::ffi::OsStr::from_bytes(&bytes[bytes.iter().rposition(|&b| b == b'/').map_or(0, |n| n + 1)..])
}

#[cfg(not(unix))]
fn file_name(path: &Path) -> &std::ffi::OsStr {
    path.file_name().unwrap_or_default()
}

#[cfg(unix)]
fn open_dir(dir: &Path) -> Option<DirFd> {
    use rustix::fs::{Mode, OFlags};
    rustix::fs::open(dir, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).ok()
}

#[cfg(not(unix))]
fn open_dir(_dir: &Path) -> Option<DirFd> {
    None
}

/// The `stat` of `name` in `dir`, through it when `link`.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast, clippy::useless_conversion)] // the field types differ between platforms
fn stat_at(dir: &DirFd, name: &std::ffi::OsStr, link: bool) -> Option<Stat> {
    use rustix::fs::AtFlags;
    let flags = if link { AtFlags::empty() } else { AtFlags::SYMLINK_NOFOLLOW };
    let m = rustix::fs::statat(dir, name, flags).ok()?;
    let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
    Some(Stat {
        dev: m.st_dev as u64,
        ino: m.st_ino as u64,
        size: m.st_size as u64,
        mtime: ns(m.st_mtime as i64, m.st_mtime_nsec as i64),
        ctime: ns(m.st_ctime as i64, m.st_ctime_nsec as i64),
    })
}

#[cfg(not(unix))]
fn stat_at(dir: &DirFd, _name: &std::ffi::OsStr, _link: bool) -> Option<Stat> {
    match *dir {}
}

/// Now, in nanoseconds since the epoch.
pub(crate) fn now_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// One cached file: its `stat` and its revision without SQL (whose `path`
/// is left empty: the caller has it). Only entries read long enough after
/// their file's last change are decoded (see [`settled`]), so when it was
/// read is not kept: it describes its file while the file's `stat` is
/// still `stat`.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) stat: Stat,
    pub(crate) revision: Revision,
}

/// Whether a file whose `stat` was `stat` when it was read at `read_at` was
/// read at least `margin_ns` after its last change (modification or
/// status change): a file changed again within the same clock tick as its
/// read cannot then keep the `stat` it had ("racily clean" in git).
fn settled(stat: &Stat, read_at: i64, margin_ns: i64) -> bool {
    settled_at(stat, margin_ns) <= read_at
}

/// The earliest read of a file with `stat` that [`settled`] accepts: the
/// read time written for an entry kept from the cache when the cache is
/// rewritten (it was read then or later, and a larger margin later reads
/// it again).
fn settled_at(stat: &Stat, margin_ns: i64) -> i64 {
    stat.mtime.max(stat.ctime).saturating_add(margin_ns)
}

/// The header cache of one revisions directory.
pub(crate) struct Cache {
    pub(crate) file: PathBuf,
    pub(crate) margin_ns: i64,
}

impl Cache {
    /// The cache of `dir`, `None` when caching is off or has no place.
    pub(crate) fn of(dir: &Path) -> Option<Cache> {
        if disabled() || cfg!(not(unix)) {
            return None;
        }
        let canonical = std::fs::canonicalize(dir).ok()?;
        let key = crate::revision::hex(&Sha256::digest(canonical.as_os_str().as_encoded_bytes()));
        let file = cache_dir()?.join("revisions").join(format!("{}.bin", &key[..32]));
        let seconds = std::env::var("MIGRAPH_CACHE_RACY_SECONDS").ok().and_then(|s| s.trim().parse::<i64>().ok());
        let margin_ns = seconds.unwrap_or(RACY_SECONDS).clamp(0, 1 << 30) * 1_000_000_000;
        Some(Cache { file, margin_ns })
    }

    /// Every entry of the cache file, to be matched with the files of `dir`
    /// (see [`Decoded::matched`]); `None` when it is missing, damaged or of
    /// another version. It runs while the directory is walked: `files`
    /// gives the walked files once there are any (sorted by path), and
    /// until then the entries' paths are kept to match them later; from
    /// then on each entry is matched as it is decoded and an entry of a
    /// file gone is never kept.
    ///
    /// A cache file last written more than a day ago is marked as in use
    /// (its modification time set to now): a directory whose files do not
    /// change is read from the same cache file for months, which
    /// [`Cache::prune`] must not take for unused. Errors there are ignored.
    pub(crate) fn read<'f>(&self, dir: &Path, files: impl FnMut() -> Option<&'f [PathBuf]>) -> Option<Decoded> {
        let file = std::fs::File::open(&self.file).ok()?;
        let meta = file.metadata().ok()?;
        let age = meta.modified().ok().and_then(|t| SystemTime::now().duration_since(t).ok());
        if age.is_some_and(|age| age > DAY) {
            if let Ok(writable) = std::fs::File::options().write(true).open(&self.file) {
                let _ = writable.set_modified(SystemTime::now());
            }
        }
        let len = meta.len().checked_sub(8)?;
        decode(Stream::new(file, len), len, self.margin_ns, dir, files)
    }

    /// Whether `entry` (of [`Decoded::matched`]) describes its file, whose
    /// `stat` is `now` (`None`: it cannot be `stat`ed).
    pub(crate) fn is_fresh(entry: &Entry, now: Option<Stat>) -> bool {
        now == Some(entry.stat)
    }

    /// The read time to write for `entry`, kept from this cache (see
    /// [`settled_at`]).
    pub(crate) fn read_at(&self, entry: &Entry) -> i64 {
        settled_at(&entry.stat, self.margin_ns)
    }

    /// Replaces the cache with `entries`, sorted by path, of the files
    /// below `dir`; errors are ignored: the cache only saves time.
    pub(crate) fn write<'a>(&self, dir: &Path, entries: impl Iterator<Item = Row<'a>>) {
        let bytes = encode(dir, entries);
        let Some(parent) = self.file.parent() else { return };
        if std::fs::create_dir_all(parent).is_err() {
            return;
        }
        let Ok(mut temp) = tempfile::NamedTempFile::new_in(parent) else { return };
        if std::io::Write::write_all(&mut temp, &bytes).is_ok() {
            let _ = temp.persist(&self.file);
        }
        self.prune(parent);
    }

    /// Removes, beside this cache file, the cache files of revisions
    /// directories no command used for [`UNUSED_DAYS`] (a checkout deleted,
    /// a CI job's directory of another day) and temporary files older than
    /// a day (a write that did not finish), so the cache directory does not
    /// grow with every directory ever seen. A file in use is never that old
    /// (see [`Cache::read`]). Only names this cache gives are looked
    /// at; errors are ignored.
    fn prune(&self, parent: &Path) {
        let Ok(entries) = std::fs::read_dir(parent) else { return };
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let limit = match name.to_str() {
                Some(name) if is_cache_name(name) => DAY * UNUSED_DAYS,
                Some(name) if name.starts_with(".tmp") => DAY,
                _ => continue,
            };
            let path = entry.path();
            let modified = entry.metadata().and_then(|m| m.modified());
            if path != self.file && modified.is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > limit)) {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

/// Whether `name` is one this cache gives its files: 32 lower-case hex
/// digits and `.bin`.
fn is_cache_name(name: &str) -> bool {
    name.strip_suffix(".bin")
        .is_some_and(|key| key.len() == 32 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// A fast 64-bit hash of the content, to notice a damaged file (not an
/// adversary: the cache directory is the user's own), fed in pieces.
struct Hash {
    h: u64,
    /// Bytes not yet making a whole word.
    pending: Vec<u8>,
}

impl Hash {
    fn new(len: u64) -> Hash {
        Hash { h: 0x9e37_79b9_7f4a_7c15 ^ len, pending: Vec::with_capacity(8) }
    }

    fn word(&mut self, w: u64) {
        self.h = (self.h ^ w).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29).wrapping_add(0x632b_e59b_d9b4_e019);
    }

    fn update(&mut self, mut bytes: &[u8]) {
        if !self.pending.is_empty() {
            let n = (8 - self.pending.len()).min(bytes.len());
            self.pending.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if self.pending.len() < 8 {
                return;
            }
            let w = u64::from_le_bytes(self.pending[..].try_into().unwrap_or_default());
            self.word(w);
            self.pending.clear();
        }
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.word(u64::from_le_bytes(w.try_into().unwrap_or_default()));
        }
        self.pending.extend_from_slice(words.remainder());
    }

    fn finish(mut self) -> u64 {
        for &b in &self.pending {
            self.h = (self.h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
        }
        self.h ^ (self.h >> 31)
    }
}

fn content_hash(bytes: &[u8]) -> u64 {
    let mut hash = Hash::new(bytes.len() as u64);
    hash.update(bytes);
    hash.finish()
}

struct Writer(Vec<u8>);

impl Writer {
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.0.extend_from_slice(b);
    }
    fn list(&mut self, items: &[String]) {
        self.u32(items.len() as u32);
        items.iter().for_each(|s| self.bytes(s.as_bytes()));
    }
    fn line(&mut self, line: Option<u32>) {
        self.u32(line.map_or(0, |l| l.min(u32::MAX - 1) + 1));
    }
}

/// What is written of one file: its `stat`, when it was read, its path
/// (below the directory) and its revision.
pub(crate) type Row<'a> = (Stat, i64, &'a Path, &'a Revision);

fn encode<'a>(dir: &Path, entries: impl Iterator<Item = Row<'a>>) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(1 << 16));
    w.0.extend_from_slice(MAGIC);
    w.u32(FORMAT);
    w.bytes(env!("CARGO_PKG_VERSION").as_bytes());
    let count_at = w.0.len();
    w.u64(0);
    let mut count = 0u64;
    for (s, read_at, path, r) in entries {
        // Only paths that are valid UTF-8 are cached (the others are read every time).
        let Some(rel) = path.strip_prefix(dir).ok().and_then(Path::to_str) else { continue };
        // Files' checksums are SHA-256s (the other kind is for version rows).
        let Checksum::Sha256(sha) = &r.checksum else { continue };
        w.bytes(rel.as_bytes());
        for v in [s.dev, s.ino, s.size, s.mtime as u64, s.ctime as u64, read_at as u64] {
            w.u64(v);
        }
        // The length of the rest, so entries of files gone are skipped unread.
        let body_at = w.0.len();
        w.u32(0);
        w.bytes(r.id.as_bytes());
        w.list(&r.parents);
        w.bytes(r.message.as_bytes());
        w.0.push(u8::from(r.created.is_some()));
        w.bytes(r.created.as_deref().unwrap_or("").as_bytes());
        w.list(r.labels());
        w.list(r.depends_on());
        w.list(r.replaces());
        let mut flags = u8::from(r.transactional) | u8::from(r.has_generic_up) << 1 | u8::from(r.down.is_some()) << 2;
        let [sqlite, postgres, mysql] = r.dialect_sql.as_array();
        flags |= u8::from(sqlite.up.is_some()) << 3 | u8::from(sqlite.down.is_some()) << 4;
        flags |= u8::from(postgres.up.is_some()) << 5 | u8::from(postgres.down.is_some()) << 6;
        flags |= u8::from(mysql.up.is_some()) << 7;
        // MySQL's down section does not fit: a second byte.
        w.0.push(flags);
        w.0.push(u8::from(r.dialect_sql[2].down.is_some()));
        w.0.extend_from_slice(sha);
        let l = &r.lines;
        w.line(Some(l.id));
        w.line(Some(l.parents));
        for line in [l.labels, l.depends_on, l.replaces] {
            w.line(line.map(NonZeroU32::get));
        }
        let body = u32::try_from(w.0.len() - body_at - 4).unwrap_or(u32::MAX);
        w.0[body_at..body_at + 4].copy_from_slice(&body.to_le_bytes());
        count += 1;
    }
    w.0[count_at..count_at + 8].copy_from_slice(&count.to_le_bytes());
    let hash = content_hash(&w.0);
    w.u64(hash);
    w.0
}

/// The cache file read in pieces, each piece hashed as it is read.
struct Stream<R> {
    file: R,
    buf: Vec<u8>,
    at: usize,
    /// Bytes of the body (all but the hash) not yet in `buf`.
    left: u64,
    /// Bytes taken so far.
    taken: u64,
    hash: Hash,
}

impl<R: std::io::Read> Stream<R> {
    /// The stream of a file whose body (all but the hash) is `len` bytes.
    fn new(file: R, len: u64) -> Stream<R> {
        Stream { file, buf: Vec::new(), at: 0, left: len, taken: 0, hash: Hash::new(len) }
    }

    /// The next `n` bytes of the body, `None` past its end.
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.buf.len() - self.at < n {
            let missing = n - (self.buf.len() - self.at);
            if (missing as u64) > self.left {
                return None;
            }
            self.buf.drain(..self.at);
            self.at = 0;
            let want = (missing as u64).max(self.left.min(1 << 16));
            let have = self.buf.len();
            self.buf.resize(have + want as usize, 0);
            self.file.read_exact(&mut self.buf[have..]).ok()?;
            self.hash.update(&self.buf[have..]);
            self.left -= want;
        }
        let out = &self.buf[self.at..self.at + n];
        self.at += n;
        self.taken += n as u64;
        Some(out)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn str(&mut self) -> Option<&str> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.take(n)?).ok()
    }
    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_string)
    }
    fn list(&mut self) -> Option<Vec<String>> {
        let n = self.u32()? as usize;
        // A damaged count cannot make it reserve more than the file holds.
        let mut out = Vec::with_capacity(n.min(16));
        for _ in 0..n {
            out.push(self.string()?);
        }
        Some(out)
    }
    fn line(&mut self) -> Option<Option<u32>> {
        let v = self.u32()?;
        Some(v.checked_sub(1))
    }
    /// Whether the body is over and the hash at its end is the one of the
    /// bytes taken.
    fn finish(mut self) -> Option<()> {
        if self.left != 0 || self.at != self.buf.len() {
            return None;
        }
        let mut stored = [0u8; 8];
        self.file.read_exact(&mut stored).ok()?;
        let mut rest = [0u8; 1];
        if self.file.read(&mut rest).ok()? != 0 {
            return None;
        }
        (self.hash.finish() == u64::from_le_bytes(stored)).then_some(())
    }
}

/// At most the size of the smallest entry a cache file can hold (141 bytes:
/// a one-byte path and ID, nothing else), so a damaged count cannot make
/// the decoder reserve more entries than the file could hold.
const MIN_ENTRY: u64 = 128;

/// The entries of a cache file (in its order, the order of paths), each
/// with the index of its file once matched.
#[derive(Default)]
pub(crate) struct Decoded {
    /// The paths of the entries not matched yet (all or none), each ended
    /// by a zero byte (which no path on Unix holds: there is no cache
    /// elsewhere).
    names: String,
    /// The entries, each with its file's index (`usize::MAX` until
    /// matched).
    entries: Vec<(usize, Entry)>,
    /// Where matching goes on, once the entries are matched.
    matcher: Option<Matcher>,
    /// How many settled entries were decoded.
    count: u64,
}

/// One merge of two lists sorted by path, the cache's entries and the
/// files, a step per entry: an entry of a file gone is dropped, and an
/// entry out of order is only missed (its file is read again), never given
/// to another file.
#[derive(Debug, Clone, Copy)]
struct Matcher {
    /// The length of the files' common prefix: `dir` and a separator. The
    /// files' paths are `dir` joined with their relative path: equal ones
    /// are found by bytes, the order asks the components (rarely).
    prefix: usize,
    /// The first file not given to an entry or passed.
    next: usize,
}

impl Matcher {
    fn new(dir: &Path) -> Matcher {
        Matcher { prefix: dir.join("x").as_os_str().len() - 1, next: 0 }
    }

    /// The index in `files` (below `dir`) of the file whose path below
    /// `dir` is `rel`, the entries before having been given theirs.
    fn find(&mut self, dir: &Path, files: &[PathBuf], rel: &str) -> Option<usize> {
        loop {
            let file = files.get(self.next)?;
            if file.as_os_str().as_encoded_bytes().get(self.prefix..) == Some(rel.as_bytes()) {
                self.next += 1;
                return Some(self.next - 1);
            }
            if file.strip_prefix(dir).is_ok_and(|f| f > Path::new(rel)) {
                return None;
            }
            self.next += 1;
        }
    }
}

impl Decoded {
    /// The entries of `files` (sorted by path, below `dir`) in order, each
    /// with the index of its file, and the number of entries decoded (the
    /// settled ones: the files of the others are among those without an
    /// entry). `files` must be those the entries were matched with, if
    /// they were.
    pub(crate) fn matched(mut self, dir: &Path, files: &[PathBuf]) -> (Vec<(usize, Entry)>, u64) {
        if self.matcher.is_none() {
            self.match_kept(dir, files);
        }
        (self.entries, self.count)
    }

    /// Matches the entries kept so far with `files`, and frees their paths.
    fn match_kept(&mut self, dir: &Path, files: &[PathBuf]) {
        let mut matcher = Matcher::new(dir);
        for ((file, _), rel) in self.entries.iter_mut().zip(self.names.split_terminator('\0')) {
            *file = matcher.find(dir, files, rel).unwrap_or(usize::MAX);
        }
        self.entries.retain(|(file, _)| *file != usize::MAX);
        self.names = String::new();
        self.matcher = Some(matcher);
    }
}

/// Every entry of the cache file whose body (all but the hash) is `len`
/// bytes, except those not [`settled`] with `margin_ns` (their files are
/// read again), matched with the files below `dir` as soon as `files` has
/// them (see [`Cache::read`]).
fn decode<'f, R: std::io::Read>(
    mut r: Stream<R>,
    len: u64,
    margin_ns: i64,
    dir: &Path,
    mut files: impl FnMut() -> Option<&'f [PathBuf]>,
) -> Option<Decoded> {
    if r.take(MAGIC.len())? != MAGIC || r.u32()? != FORMAT || r.str()? != env!("CARGO_PKG_VERSION") {
        return None;
    }
    let count = r.u64()?;
    let room = usize::try_from(count.min(len / MIN_ENTRY)).ok()?;
    let mut out = Decoded { entries: Vec::with_capacity(room), ..Decoded::default() };
    let mut known: Option<&[PathBuf]> = None;
    for _ in 0..count {
        if known.is_none() {
            known = files();
            if let Some(files) = known {
                out.match_kept(dir, files);
            }
        }
        let name = r.str()?;
        if name.contains('\0') {
            return None;
        }
        let name_at = out.names.len();
        let file = match (known, &mut out.matcher) {
            (Some(files), Some(matcher)) => matcher.find(dir, files, name),
            _ => {
                out.names.push_str(name);
                out.names.push('\0');
                Some(usize::MAX)
            }
        };
        let mut v = [0u64; 6];
        for slot in &mut v {
            *slot = r.u64()?;
        }
        let body = r.u32()? as usize;
        let stat = Stat { dev: v[0], ino: v[1], size: v[2], mtime: v[3] as i64, ctime: v[4] as i64 };
        let read_at = v[5] as i64;
        // The revision is exactly its announced length, or the file is not
        // one this version wrote (the hash only says it is undamaged).
        let start = r.taken;
        let revision = revision(&mut r)?;
        if r.taken - start != body as u64 {
            return None;
        }
        if !settled(&stat, read_at, margin_ns) {
            out.names.truncate(name_at);
            continue;
        }
        out.count += 1;
        if let Some(file) = file {
            out.entries.push((file, Entry { stat, revision }));
        }
    }
    r.finish()?;
    Some(out)
}

/// One entry's revision, without its path.
fn revision<R: std::io::Read>(r: &mut Stream<R>) -> Option<Revision> {
    let id = r.string()?;
    let parents = r.list()?;
    let message = r.string()?;
    let has_created = r.u8()? != 0;
    let created = Some(r.string()?.into_boxed_str()).filter(|_| has_created);
    let labels = r.list()?;
    let depends_on = r.list()?;
    let replaces = r.list()?;
    let flags = r.u8()?;
    let last = r.u8()? != 0;
    let bit = |n: u32| flags & (1 << n) != 0;
    let section = |present: bool| present.then(String::new);
    let dialect_sql = DialectSections::from([
        DialectSql { up: section(bit(3)), down: section(bit(4)) },
        DialectSql { up: section(bit(5)), down: section(bit(6)) },
        DialectSql { up: section(bit(7)), down: section(last) },
    ]);
    let checksum = Checksum::Sha256(r.take(32)?.try_into().ok()?);
    let lines = HeaderLines {
        id: r.line()??,
        parents: r.line()??,
        labels: r.line()?.and_then(NonZeroU32::new),
        depends_on: r.line()?.and_then(NonZeroU32::new),
        replaces: r.line()?.and_then(NonZeroU32::new),
    };
    Some(Revision {
        id,
        parents,
        message,
        created,
        transactional: bit(0),
        up: String::new(),
        down: section(bit(2)),
        has_generic_up: bit(1),
        dialect_sql,
        checksum,
        path: PathBuf::new(),
        lines,
        links: Links { labels, depends_on, replaces, replaced: Vec::new() }.into(),
        sql_loaded: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `Cache::read` makes of `bytes`, with no margin.
    fn decode_bytes(bytes: &[u8], dir: &Path, files: &[PathBuf]) -> Option<(Vec<(usize, Entry)>, u64)> {
        decode_with(bytes, dir, files, 0)
    }

    fn decode_with(bytes: &[u8], dir: &Path, files: &[PathBuf], margin_ns: i64) -> Option<(Vec<(usize, Entry)>, u64)> {
        decode_walked_after(bytes, dir, files, margin_ns, 0)
    }

    /// [`decode_with`] where the walk gives its files only after `calls`
    /// asks (`usize::MAX`: after the decoding).
    fn decode_walked_after(
        bytes: &[u8],
        dir: &Path,
        files: &[PathBuf],
        margin_ns: i64,
        calls: usize,
    ) -> Option<(Vec<(usize, Entry)>, u64)> {
        let len = (bytes.len() as u64).checked_sub(8)?;
        let mut asked = 0;
        let walked = || {
            asked += 1;
            (asked > calls).then_some(files)
        };
        Some(decode(Stream::new(bytes, len), len, margin_ns, dir, walked)?.matched(dir, files))
    }

    const STAT: Stat = Stat { dev: 1, ino: 2, size: 3, mtime: 4, ctime: 5 };

    #[test]
    fn entries_round_trip_and_damage_is_noticed() {
        let text = "-- id: a1\n-- parents: p q\n-- message: hi\n-- created: 2026-11-21T10:42:00Z\n-- labels: x\n\
                    -- depends-on: d\n-- transaction: false\n\n-- migrate:up\nSELECT 1;\n-- migrate:down postgres\n\
                    -- migrate:up mysql\nSELECT 2;\n-- migrate:down mysql\n";
        let dir = Path::new("/r");
        let path = dir.join("a/a1.sql");
        let revision = Revision::parse(&path, text).unwrap().without_sql();
        let stat = STAT;
        let bytes = encode(dir, [(stat, 6, path.as_path(), &revision)].into_iter());
        let (back, count) = decode_bytes(&bytes, dir, std::slice::from_ref(&path)).unwrap();
        let (file, got) = &back[0];
        assert_eq!((*file, count), (0, 1));
        let without_path = Revision { path: PathBuf::new(), ..revision.clone() };
        assert_eq!((got.stat, &got.revision), (stat, &without_path));
        assert!(got.revision.is_reversible() && !got.revision.has_sql());
        for at in [0, 9, bytes.len() / 2, bytes.len() - 1] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x20;
            assert!(decode_bytes(&damaged, dir, std::slice::from_ref(&path)).is_none(), "byte {at}");
        }
        assert!(decode_bytes(&bytes[..bytes.len() - 3], dir, std::slice::from_ref(&path)).is_none());
        assert!(decode_bytes(&[bytes.clone(), vec![0]].concat(), dir, std::slice::from_ref(&path)).is_none());
        // An entry whose announced length is not its revision's, in a file
        // with a good hash (a writer of another layout), gives no entries.
        let at = 8 + 4 + 4 + env!("CARGO_PKG_VERSION").len() + 8 + 4 + "a/a1.sql".len() + 48;
        let mut wrong = bytes[..bytes.len() - 8].to_vec();
        let body = u32::from_le_bytes(wrong[at..at + 4].try_into().unwrap());
        wrong[at..at + 4].copy_from_slice(&(body - 1).to_le_bytes());
        wrong.extend_from_slice(&content_hash(&wrong).to_le_bytes());
        assert!(decode_bytes(&wrong, dir, std::slice::from_ref(&path)).is_none());
        wrong[at..at + 4].copy_from_slice(&body.to_le_bytes());
        let len = wrong.len() - 8;
        let hash = content_hash(&wrong[..len]);
        wrong[len..].copy_from_slice(&hash.to_le_bytes());
        assert_eq!(wrong, bytes, "the offset is the body length's");
        assert!(decode_bytes(b"", dir, &[]).is_none());
        // A path with a zero byte (none on Unix; the names wait ended by
        // zero bytes) is not a file this version wrote.
        let odd = dir.join("a\0b.sql");
        let bytes = encode(dir, [(stat, 6, odd.as_path(), &revision)].into_iter());
        assert!(decode_walked_after(&bytes, dir, std::slice::from_ref(&odd), 0, usize::MAX).is_none());
        assert!(decode_bytes(&bytes, dir, std::slice::from_ref(&odd)).is_none());
    }

    /// Entries are found by one merge of two sorted lists: those of files
    /// gone are skipped, files without an entry get none, and an entry is
    /// never given to another file.
    #[test]
    fn entries_are_merged_with_the_files_by_path() {
        let dir = Path::new("/r");
        let rev = |name: &str| {
            let id = name.replace(['/', '-'], "_");
            let text = format!("-- id: {id}\n-- parents:\n-- message: {name}\n-- migrate:up\nSELECT 1;\n");
            Revision::parse(&dir.join(format!("{name}.sql")), &text).unwrap().without_sql()
        };
        let names = ["a/z", "a-b", "b", "c/d", "e"];
        let revisions: Vec<Revision> = names.iter().map(|n| rev(n)).collect();
        let bytes = encode(dir, revisions.iter().map(|r| (STAT, 6, r.path.as_path(), r)));
        // Files: "a/z" and "c/d" gone, "a0" and "d" new.
        let files: Vec<PathBuf> = ["a-b", "a0", "b", "d", "e"].iter().map(|n| dir.join(format!("{n}.sql"))).collect();
        // The same whether the walk ends before the decoding, during it (the
        // entries so far matched at once, the others one by one) or after.
        for walked_after in [0, 1, 2, 3, 4, 5, 6, usize::MAX] {
            let (found, count) = decode_walked_after(&bytes, dir, &files, 0, walked_after).unwrap();
            assert_eq!(count, 5);
            let got: Vec<(usize, &str)> = found.iter().map(|(f, e)| (*f, e.revision.message.as_str())).collect();
            assert_eq!(got, [(0, "a-b"), (2, "b"), (4, "e")], "walked after {walked_after} asks");
        }
    }

    #[test]
    fn only_names_this_cache_gives_are_cache_names() {
        let cache = Cache::of(&std::env::temp_dir()).map(|c| c.file);
        let own = cache.as_deref().and_then(Path::file_name).and_then(|n| n.to_str()).map(str::to_string);
        for name in own.iter().map(String::as_str).chain(["0123456789abcdef0123456789abcdef.bin"]) {
            assert!(is_cache_name(name), "{name}");
        }
        for name in
            ["0123456789ABCDEF0123456789ABCDEF.bin", "0123456789abcdef0123456789abcde.bin", "x.bin", "notes.txt"]
        {
            assert!(!is_cache_name(name), "{name}");
        }
        assert!(!is_cache_name("0123456789abcdef0123456789abcdef0.bin"));
    }

    #[test]
    fn only_entries_old_enough_are_fresh() {
        let stat = Stat { dev: 1, ino: 2, size: 3, mtime: 10_000_000_000, ctime: 11_000_000_000 };
        assert!(settled(&stat, 13_000_000_000, 2_000_000_000));
        assert!(!settled(&stat, 12_999_999_999, 2_000_000_000), "the change time counts");
        assert!(settled(&stat, 11_000_000_000, 0));
        assert!(
            !settled(&Stat { mtime: 11_000_000_001, ..stat }, 13_000_000_000, 2_000_000_000),
            "and the modification time"
        );
        // An entry not settled is dropped, not given to its file.
        let dir = Path::new("/r");
        let path = dir.join("a.sql");
        let revision = Revision::parse(&path, "-- id: a\n-- parents:\n-- migrate:up\n").unwrap().without_sql();
        let bytes = encode(dir, [(stat, 13_000_000_000, path.as_path(), &revision)].into_iter());
        let kept = |margin_ns| decode_with(&bytes, dir, std::slice::from_ref(&path), margin_ns).unwrap();
        let ((two, two_count), (three, three_count)) = (kept(2_000_000_000), kept(3_000_000_000));
        assert_eq!((two.len(), two_count, three.len(), three_count), (1, 1, 0, 0));
        // A fresh entry is one whose file still has its `stat`; kept, it is
        // written back as read when it settled, which a larger margin
        // does not take for settled.
        assert!(Cache::is_fresh(&two[0].1, Some(stat)) && !Cache::is_fresh(&two[0].1, Some(Stat { size: 4, ..stat })));
        let cache = Cache { file: PathBuf::new(), margin_ns: 2_000_000_000 };
        let again = cache.read_at(&two[0].1);
        assert_eq!(again, 13_000_000_000);
        let bytes = encode(dir, [(stat, again, path.as_path(), &two[0].1.revision)].into_iter());
        assert_eq!(kept(2_000_000_000).0.len(), 1);
        assert_eq!(decode_with(&bytes, dir, std::slice::from_ref(&path), 2_000_000_001).unwrap().0.len(), 0);
        assert!(!Cache::is_fresh(&two[0].1, None));
    }
}
