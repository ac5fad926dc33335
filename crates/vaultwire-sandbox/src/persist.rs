//! Where the world lives between requests: in memory, or in `DIR/world.json` shared by every
//! sandbox instance that uses DIR.
//!
//! Sharing rule: every request takes an exclusive lock on `DIR/world.lock` (std `File::lock`),
//! re-reads `world.json` if another instance replaced it since, runs, and — when the world
//! changed — writes it atomically (temporary file, fsync, rename) before unlocking. So a
//! served instance and in-process instances can use one DIR at the same time without losing
//! or tearing a write. This module owns that protocol and nothing about HTTP.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::seed::seeded_world;
use crate::world::{FORMAT_VERSION, World};

#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("cannot use the sandbox directory `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not a sandbox world", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("`{}` has format version {found}, this vaultwire reads {FORMAT_VERSION}", path.display())]
    Version { path: PathBuf, found: u32 },
    /// The directory holds files the sandbox did not make, which its own could replace.
    #[error(
        "refusing to keep a sandbox in `{}`: it holds files that are not the sandbox's ({})",
        path.display(),
        files.join(", ")
    )]
    Foreign { path: PathBuf, files: Vec<String> },
}

impl PersistError {
    pub fn help(&self) -> Option<String> {
        match self {
            PersistError::Parse { .. } | PersistError::Version { .. } => {
                Some("run `vaultwire sandbox reset` to restore the seed world".to_owned())
            }
            PersistError::Io { .. } => None,
            PersistError::Foreign { .. } => Some(
                "nothing was written; give the sandbox a directory of its own with `--dir` (the default is `.vaultwire/sandbox`)"
                    .to_owned(),
            ),
        }
    }
}

/// The world and where it is kept.
#[derive(Debug)]
pub struct Store {
    world: World,
    disk: Option<Disk>,
}

#[derive(Debug)]
struct Disk {
    dir: PathBuf,
    lock: File,
    /// The serialized world as last read or written, to skip writes that change nothing.
    bytes: Vec<u8>,
    /// Identity of the `world.json` we last saw (device, inode, size, mtime).
    seen: Option<(u64, u64, u64, i64, i64)>,
}

impl Store {
    /// A world kept only in memory.
    pub fn memory(seed: u64) -> Self {
        Self {
            world: seeded_world(seed),
            disk: None,
        }
    }

    /// The world of `dir`, created from `seed` if `dir` has none.
    pub fn open(dir: &Path, seed: u64) -> Result<Self, PersistError> {
        let mut store = Self::open_unchecked(dir, seed)?;
        store.with_world(false, |_| ())?;
        Ok(store)
    }

    /// The store of `dir` without reading its world yet.
    fn open_unchecked(dir: &Path, seed: u64) -> Result<Self, PersistError> {
        let io = |source| PersistError::Io {
            path: dir.to_path_buf(),
            source,
        };
        check_directory(dir)?;
        std::fs::create_dir_all(dir).map_err(io)?;
        let lock_path = dir.join(WORLD_LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| PersistError::Io {
                path: lock_path,
                source,
            })?;
        let store = Self {
            world: World::empty(seed),
            disk: Some(Disk {
                dir: dir.to_path_buf(),
                lock,
                bytes: Vec::new(),
                seen: None,
            }),
        };
        Ok(store)
    }

    /// Runs `f` under the lock without touching the world.
    fn with_lock<R>(&mut self, f: impl FnOnce() -> R) -> Result<R, PersistError> {
        let Some(disk) = self.disk.as_mut() else {
            return Ok(f());
        };
        disk.lock.lock().map_err(|source| PersistError::Io {
            path: disk.dir.join(WORLD_LOCK_FILE),
            source,
        })?;
        let result = f();
        let _ = disk.lock.unlock();
        Ok(result)
    }

    /// Runs `f` on the current world under the lock; saves afterwards if `f` may have changed
    /// it (`mutating`) and it did.
    pub fn with_world<R>(
        &mut self,
        mutating: bool,
        f: impl FnOnce(&mut World) -> R,
    ) -> Result<R, PersistError> {
        let Some(disk) = self.disk.as_mut() else {
            let result = f(&mut self.world);
            self.world.touched = false;
            return Ok(result);
        };
        let lock_path = disk.dir.join(WORLD_LOCK_FILE);
        disk.lock.lock().map_err(|source| PersistError::Io {
            path: lock_path.clone(),
            source,
        })?;
        let result = Self::locked(disk, &mut self.world, mutating, f);
        // Unlocking can only fail if the descriptor is bad; closing it would unlock anyway.
        let _ = disk.lock.unlock();
        result
    }

    fn locked<R>(
        disk: &mut Disk,
        world: &mut World,
        mutating: bool,
        f: impl FnOnce(&mut World) -> R,
    ) -> Result<R, PersistError> {
        let path = disk.dir.join(WORLD_FILE);
        let fresh = match std::fs::metadata(&path) {
            Ok(meta) => {
                let id = (
                    meta.dev(),
                    meta.ino(),
                    meta.size(),
                    meta.mtime(),
                    meta.mtime_nsec(),
                );
                if disk.seen != Some(id) {
                    let bytes = std::fs::read(&path).map_err(|source| PersistError::Io {
                        path: path.clone(),
                        source,
                    })?;
                    *world = parse(&path, &bytes)?;
                    disk.bytes = bytes;
                    disk.seen = Some(id);
                }
                false
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                *world = seeded_world(world.seed);
                true
            }
            Err(source) => return Err(PersistError::Io { path, source }),
        };
        let result = f(world);
        if mutating || fresh || std::mem::take(&mut world.touched) {
            Self::save(disk, world)?;
        }
        Ok(result)
    }

    fn save(disk: &mut Disk, world: &World) -> Result<(), PersistError> {
        let path = disk.dir.join(WORLD_FILE);
        let io = |source| PersistError::Io {
            path: path.clone(),
            source,
        };
        let mut bytes = serde_json::to_vec_pretty(world).map_err(|source| PersistError::Parse {
            path: path.clone(),
            source,
        })?;
        bytes.push(b'\n');
        if bytes == disk.bytes && disk.seen.is_some() {
            return Ok(());
        }
        let temp = disk
            .dir
            .join(format!("world.json.tmp-{}", std::process::id()));
        let mut file = File::create(&temp).map_err(io)?;
        file.write_all(&bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&temp, &path).map_err(io)?;
        let meta = std::fs::metadata(&path).map_err(io)?;
        disk.seen = Some((
            meta.dev(),
            meta.ino(),
            meta.size(),
            meta.mtime(),
            meta.mtime_nsec(),
        ));
        disk.bytes = bytes;
        Ok(())
    }

    /// Replaces the world with the seed world for `seed` and saves it.
    pub fn reset(&mut self, seed: u64) -> Result<(), PersistError> {
        self.with_world(true, |world| *world = seeded_world(seed))
    }

    /// Restores the seed world of `dir` even when its `world.json` is unreadable (then with
    /// `fallback_seed`); returns the seed used.
    pub fn reset_dir(dir: &Path, fallback_seed: u64) -> Result<u64, PersistError> {
        check_directory(dir)?;
        let path = dir.join(WORLD_FILE);
        let readable = std::fs::read(&path)
            .ok()
            .and_then(|bytes| parse(&path, &bytes).ok());
        if readable.is_none() {
            // Out of the way under the lock, so `open` seeds afresh.
            let mut store = Self::open_unchecked(dir, fallback_seed)?;
            store
                .with_lock(|| {
                    std::fs::remove_file(&path).or_else(|e| match e.kind() {
                        std::io::ErrorKind::NotFound => Ok(()),
                        _ => Err(e),
                    })
                })?
                .map_err(|source| PersistError::Io {
                    path: path.clone(),
                    source,
                })?;
        }
        let mut store = Self::open(dir, fallback_seed)?;
        let seed = store.with_world(false, |world| world.seed)?;
        store.reset(seed)?;
        Ok(seed)
    }

    pub fn dir(&self) -> Option<&Path> {
        self.disk.as_ref().map(|disk| disk.dir.as_path())
    }
}

fn parse(path: &Path, bytes: &[u8]) -> Result<World, PersistError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Header {
        format_version: u32,
    }
    let header: Header = serde_json::from_slice(bytes).map_err(|source| PersistError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    if header.format_version != FORMAT_VERSION {
        return Err(PersistError::Version {
            path: path.to_path_buf(),
            found: header.format_version,
        });
    }
    serde_json::from_slice(bytes).map_err(|source| PersistError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// The world, in the sandbox directory.
pub const WORLD_FILE: &str = "world.json";
/// Taken around every request by every instance using the directory.
pub const WORLD_LOCK_FILE: &str = "world.lock";

/// Refuses a directory that exists and holds anything but a sandbox's files (and their
/// temporary files): `--dir .` in a repository would otherwise replace its `env` or
/// `kubeconfig`.
pub fn check_directory(dir: &Path) -> Result<(), PersistError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let ours = |name: &str| {
        crate::files::ALL_FILES.iter().any(|file| {
            name == *file
                || name.starts_with(&format!("{file}.tmp-"))
                || name.starts_with(&format!(".{file}.tmp-"))
        })
    };
    let mut foreign: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| !ours(name))
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    foreign.sort();
    foreign.truncate(3);
    Err(PersistError::Foreign {
        path: dir.to_path_buf(),
        files: foreign
            .into_iter()
            .map(|name| format!("`{name}`"))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_made_by_one_store_is_seen_by_another_on_the_same_dir() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = Store::open(dir.path(), 1).unwrap();
        let mut second = Store::open(dir.path(), 1).unwrap();
        first
            .with_world(true, |world| world.resource_groups.clear())
            .unwrap();
        let count = second
            .with_world(false, |world| world.resource_groups.len())
            .unwrap();
        assert_eq!(count, 0);
    }

    #[test]
    fn reads_do_not_write_and_reset_restores_the_seed() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), 1).unwrap();
        store
            .with_world(false, |world| world.resource_groups.clear())
            .unwrap();
        let on_disk = std::fs::read_to_string(dir.path().join("world.json")).unwrap();
        assert!(on_disk.contains("rg-demo"));
        store
            .with_world(true, |world| world.resource_groups.clear())
            .unwrap();
        store.reset(1).unwrap();
        let again = Store::open(dir.path(), 1).unwrap();
        assert_eq!(again.world.resource_groups.len(), 2);
    }

    #[test]
    fn reset_restores_even_an_unreadable_world() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("world.json"), "not json").unwrap();
        assert!(Store::open(dir.path(), 1).is_err());
        assert_eq!(Store::reset_dir(dir.path(), 3).unwrap(), 3);
        let store = Store::open(dir.path(), 1).unwrap();
        assert_eq!(store.world.seed, 3);
    }

    #[test]
    fn a_world_of_another_format_version_is_refused_with_a_hint() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("world.json"), r#"{"formatVersion": 99}"#).unwrap();
        let error = Store::open(dir.path(), 1).unwrap_err();
        assert!(matches!(error, PersistError::Version { found: 99, .. }));
        assert!(error.help().unwrap().contains("sandbox reset"));
    }
}
