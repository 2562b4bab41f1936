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
//! - The file is written to a temporary file beside it and renamed, only
//!   when something changed; one that cannot be read, is damaged (a hash of
//!   its content is checked), or was written by another version of migraph
//!   is ignored and rebuilt; a directory that cannot be written is no error.
//! - Only the header comes from here: a revision that runs has its SQL read
//!   from its file and checked against the cached checksum
//!   ([`crate::Revision::load_sql`]).

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::revision::{DialectSql, HeaderLines, Revision};

/// How much older than the moment a file was read its modification and
/// change times must be for its entry to be trusted. `MIGRAPH_CACHE_RACY_SECONDS`
/// overrides it, for tests only (0 trusts an entry as soon as the file's
/// times are not after the read).
pub const RACY_SECONDS: i64 = 2;

const MAGIC: &[u8; 8] = b"MIGRAPHC";
const FORMAT: u32 = 1;

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

impl Stat {
    /// The `stat` of `path` (symbolic links followed), `None` where it
    /// cannot be read or the platform has no inode and change time.
    #[cfg(unix)]
    pub(crate) fn of(path: &Path) -> Option<Stat> {
        use std::os::unix::fs::MetadataExt as _;
        let m = std::fs::metadata(path).ok()?;
        let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
        Some(Stat {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: ns(m.mtime(), m.mtime_nsec()),
            ctime: ns(m.ctime(), m.ctime_nsec()),
        })
    }

    #[cfg(not(unix))]
    pub(crate) fn of(_path: &Path) -> Option<Stat> {
        None
    }
}

/// Now, in nanoseconds since the epoch.
pub(crate) fn now_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// One cached file: its `stat`, when it was read, and its revision without SQL.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) stat: Stat,
    pub(crate) read_at: i64,
    pub(crate) revision: Revision,
}

impl Entry {
    /// Whether the entry describes the file whose `stat` is `now`.
    pub(crate) fn fresh(&self, now: &Stat, margin_ns: i64) -> bool {
        self.stat == *now && self.stat.mtime.max(self.stat.ctime).saturating_add(margin_ns) <= self.read_at
    }
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

    /// The entries, sorted by path; none when the file is missing, damaged
    /// or of another version.
    pub(crate) fn read(&self, dir: &Path) -> Vec<Entry> {
        std::fs::read(&self.file).ok().and_then(|bytes| decode(&bytes, dir)).unwrap_or_default()
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
    }
}

/// A fast 64-bit hash of the content, to notice a damaged file (not an
/// adversary: the cache directory is the user's own).
fn content_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15 ^ bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes(w.try_into().unwrap_or_default());
        h = (h ^ w).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29).wrapping_add(0x632b_e59b_d9b4_e019);
    }
    for &b in words.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
    }
    h ^ (h >> 31)
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
    fn line(&mut self, line: Option<usize>) {
        self.u32(line.map_or(0, |l| u32::try_from(l).unwrap_or(u32::MAX - 1) + 1));
    }
}

/// What is written of one file: its `stat`, when it was read, and its
/// revision (whose path is below the directory).
pub(crate) type Row<'a> = (Stat, i64, &'a Revision);

fn encode<'a>(dir: &Path, entries: impl Iterator<Item = Row<'a>>) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(1 << 16));
    w.0.extend_from_slice(MAGIC);
    w.u32(FORMAT);
    w.bytes(env!("CARGO_PKG_VERSION").as_bytes());
    let count_at = w.0.len();
    w.u64(0);
    let mut count = 0u64;
    for (s, read_at, r) in entries {
        // Only paths that are valid UTF-8 are cached (the others are read every time).
        let Some(rel) = r.path.strip_prefix(dir).ok().and_then(Path::to_str) else { continue };
        w.bytes(rel.as_bytes());
        for v in [s.dev, s.ino, s.size, s.mtime as u64, s.ctime as u64, read_at as u64] {
            w.u64(v);
        }
        w.bytes(r.id.as_bytes());
        w.list(&r.parents);
        w.bytes(r.message.as_bytes());
        w.0.push(u8::from(r.created.is_some()));
        w.bytes(r.created.as_deref().unwrap_or("").as_bytes());
        w.list(&r.labels);
        w.list(&r.depends_on);
        w.list(&r.replaces);
        let mut flags = u8::from(r.transactional) | u8::from(r.has_generic_up) << 1 | u8::from(r.down.is_some()) << 2;
        let [sqlite, postgres, mysql] = &r.dialect_sql;
        flags |= u8::from(sqlite.up.is_some()) << 3 | u8::from(sqlite.down.is_some()) << 4;
        flags |= u8::from(postgres.up.is_some()) << 5 | u8::from(postgres.down.is_some()) << 6;
        flags |= u8::from(mysql.up.is_some()) << 7;
        // MySQL's down section does not fit: a second byte.
        w.0.push(flags);
        w.0.push(u8::from(r.dialect_sql[2].down.is_some()));
        w.bytes(r.checksum.as_bytes());
        let l = &r.lines;
        w.line(Some(l.id));
        w.line(Some(l.parents));
        w.line(l.labels);
        w.line(l.depends_on);
        w.line(l.replaces);
        count += 1;
    }
    w.0[count_at..count_at + 8].copy_from_slice(&count.to_le_bytes());
    let hash = content_hash(&w.0);
    w.u64(hash);
    w.0
}

struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        let end = self.at.checked_add(n).filter(|&end| end <= self.bytes.len())?;
        let out = &self.bytes[self.at..end];
        self.at = end;
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
    fn str(&mut self) -> Option<&'b str> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.take(n)?).ok()
    }
    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_string)
    }
    fn list(&mut self) -> Option<Vec<String>> {
        let n = self.u32()? as usize;
        // A damaged count cannot make it reserve more than the file holds.
        let mut out = Vec::with_capacity(n.min(self.bytes.len() - self.at));
        for _ in 0..n {
            out.push(self.string()?);
        }
        Some(out)
    }
    fn line(&mut self) -> Option<Option<usize>> {
        let v = self.u32()?;
        Some(v.checked_sub(1).map(|l| l as usize))
    }
}

fn decode(bytes: &[u8], dir: &Path) -> Option<Vec<Entry>> {
    let (body, hash) = bytes.split_at_checked(bytes.len().checked_sub(8)?)?;
    if content_hash(body) != u64::from_le_bytes(hash.try_into().ok()?) {
        return None;
    }
    let mut r = Reader { bytes: body, at: 0 };
    if r.take(MAGIC.len())? != MAGIC || r.u32()? != FORMAT || r.str()? != env!("CARGO_PKG_VERSION") {
        return None;
    }
    let count = r.u64()?;
    let mut entries: Vec<Entry> = Vec::with_capacity(usize::try_from(count).ok()?.min(body.len() / 64));
    for _ in 0..count {
        let path = dir.join(r.str()?);
        if entries.last().is_some_and(|e| e.revision.path >= path) {
            return None; // not sorted: the merge with the files would miss entries
        }
        let mut v = [0u64; 6];
        for slot in &mut v {
            *slot = r.u64()?;
        }
        let stat = Stat { dev: v[0], ino: v[1], size: v[2], mtime: v[3] as i64, ctime: v[4] as i64 };
        let id = r.string()?;
        let parents = r.list()?;
        let message = r.string()?;
        let has_created = r.u8()? != 0;
        let created = Some(r.string()?).filter(|_| has_created);
        let labels = r.list()?;
        let depends_on = r.list()?;
        let replaces = r.list()?;
        let flags = r.u8()?;
        let last = r.u8()? != 0;
        let bit = |n: u32| flags & (1 << n) != 0;
        let section = |present: bool| present.then(String::new);
        let dialect_sql = [
            DialectSql { up: section(bit(3)), down: section(bit(4)) },
            DialectSql { up: section(bit(5)), down: section(bit(6)) },
            DialectSql { up: section(bit(7)), down: section(last) },
        ];
        let checksum = r.string()?;
        let lines = HeaderLines {
            id: r.line()??,
            parents: r.line()??,
            labels: r.line()?,
            depends_on: r.line()?,
            replaces: r.line()?,
        };
        let revision = Revision {
            id,
            parents,
            message,
            created,
            labels,
            depends_on,
            replaces,
            replaced: Vec::new(),
            transactional: bit(0),
            up: String::new(),
            down: section(bit(2)),
            has_generic_up: bit(1),
            dialect_sql,
            checksum,
            path,
            lines,
            sql_loaded: false,
        };
        entries.push(Entry { stat, read_at: v[5] as i64, revision });
    }
    (r.at == body.len()).then_some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_damage_is_noticed() {
        let text = "-- id: a1\n-- parents: p q\n-- message: hi\n-- created: 2026-11-21T10:42:00Z\n-- labels: x\n\
                    -- depends-on: d\n-- transaction: false\n\n-- migrate:up\nSELECT 1;\n-- migrate:down postgres\n\
                    -- migrate:up mysql\nSELECT 2;\n-- migrate:down mysql\n";
        let dir = Path::new("/r");
        let revision = Revision::parse(&dir.join("a/a1.sql"), text).unwrap().without_sql();
        let stat = Stat { dev: 1, ino: 2, size: 3, mtime: 4, ctime: 5 };
        let bytes = encode(dir, [(stat, 6, &revision)].into_iter());
        let back = decode(&bytes, dir).unwrap();
        let got = &back[0];
        assert_eq!((got.stat, got.read_at, &got.revision), (stat, 6, &revision));
        assert!(got.revision.is_reversible() && !got.revision.has_sql());
        for at in [0, 9, bytes.len() / 2, bytes.len() - 1] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x20;
            assert!(decode(&damaged, dir).is_none(), "byte {at}");
        }
        assert!(decode(&bytes[..bytes.len() - 3], dir).is_none());
        assert!(decode(b"", dir).is_none());
    }

    #[test]
    fn only_entries_old_enough_are_fresh() {
        let stat = Stat { dev: 1, ino: 2, size: 3, mtime: 10_000_000_000, ctime: 11_000_000_000 };
        let revision = Revision::parse(Path::new("a.sql"), "-- id: a\n-- parents:\n-- migrate:up\n").unwrap();
        let entry = |read_at| Entry { stat, read_at, revision: revision.clone() };
        assert!(entry(13_000_000_000).fresh(&stat, 2_000_000_000));
        assert!(!entry(12_999_999_999).fresh(&stat, 2_000_000_000), "the change time counts");
        assert!(entry(11_000_000_000).fresh(&stat, 0));
        assert!(!entry(13_000_000_000).fresh(&Stat { ctime: 11_000_000_001, ..stat }, 2_000_000_000));
    }
}
