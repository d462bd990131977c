//! Watching the files a configuration is made of.
//!
//! Editors save by rename, Kubernetes swaps a `..data` symlink, and one save can raise
//! several events, so the parent directories are watched (not the files), events are
//! debounced until 200 ms pass quietly, and a rebuild runs only when a fingerprint of the
//! watched files' contents changed. Reading a file raises an *access* event; those are
//! ignored, or every reload would trigger the next one.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use notify::{Event, EventKind, RecursiveMode, Watcher};
use sha2::{Digest, Sha256};

use super::LiveConfig;
use crate::config::files::MAX_FILE_BYTES;
use crate::config::load::referenced_files;

/// Quiet time that ends a burst of events.
const DEBOUNCE: Duration = Duration::from_millis(200);
/// Longest a burst is waited for: a directory that never goes quiet (a log file, a
/// database journal beside the config) must not starve reloads.
const MAX_DEBOUNCE: Duration = Duration::from_millis(600);
/// Extensions of files that can be part of a configuration.
const CONFIG_EXTENSIONS: [&str; 6] = ["yaml", "yml", "rhai", "pem", "json", "jwk"];

/// Keeps the watcher thread's handle.
pub struct WatcherHandle {
    pub thread: std::thread::JoinHandle<()>,
}

/// The files and directories behind the pipeline being served.
#[derive(Debug, PartialEq, Eq)]
struct WatchSet {
    files: BTreeSet<PathBuf>,
    presets_dir: PathBuf,
    directories: BTreeSet<PathBuf>,
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

impl WatchSet {
    fn of(live: &LiveConfig) -> WatchSet {
        let pipeline = live.snapshot();
        // The files of the served pipeline, and those the config on disk names now (a
        // failed reload may name a script that does not exist yet).
        let mut files: BTreeSet<PathBuf> = pipeline
            .watched_files
            .iter()
            .chain(referenced_files(live.source()).iter())
            .map(|p| absolute(p))
            .collect();
        files.insert(absolute(&live.source().config_path));
        let presets_dir = absolute(&live.source().user_presets_dir);
        let mut directories = BTreeSet::new();
        for file in &files {
            if let Some(parent) = file.parent() {
                directories.insert(parent.to_path_buf());
            }
            // A symlinked file (a ConfigMap) changes where its target lives too.
            if let Ok(target) = file.canonicalize()
                && let Some(parent) = target.parent()
            {
                directories.insert(parent.to_path_buf());
            }
        }
        if presets_dir.is_dir() {
            directories.insert(presets_dir.clone());
        }
        WatchSet {
            files,
            presets_dir,
            directories,
        }
    }

    /// A digest of every watched file's content and of the presets directory's listing.
    fn fingerprint(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        let mut files: BTreeSet<PathBuf> = self.files.clone();
        if let Ok(entries) = std::fs::read_dir(&self.presets_dir) {
            files.extend(entries.filter_map(Result::ok).map(|entry| entry.path()));
        }
        for file in &files {
            hasher.update(file.as_os_str().as_encoded_bytes());
            hasher.update([0]);
            let mut content = Vec::new();
            let is_regular = std::fs::metadata(file).is_ok_and(|m| m.is_file());
            let read = is_regular
                && std::fs::File::open(file)
                    .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut content))
                    .is_ok();
            hasher.update(if read { b"present" as &[u8] } else { b"absent" });
            hasher.update(&content);
        }
        hasher.finalize().into()
    }
}

/// An event that may mean a file changed (not a mere read).
fn is_change(event: &notify::Result<Event>) -> bool {
    match event {
        Ok(event) => !matches!(event.kind, EventKind::Access(_)),
        // An overflowed queue may have dropped a change.
        Err(_) => true,
    }
}

impl WatchSet {
    /// Whether an event can concern the configuration: a watched file, anything in the
    /// presets directory, a Kubernetes `..data` swap, or a file with a config extension.
    fn concerns(&self, event: &notify::Result<Event>) -> bool {
        let Ok(event) = event else { return true };
        event.paths.is_empty()
            || event.paths.iter().any(|path| {
                let name = path
                    .file_name()
                    .and_then(|name| name.to_str())
                    .unwrap_or_default();
                self.files.contains(path)
                    || path.parent() == Some(self.presets_dir.as_path())
                    || path == &self.presets_dir
                    || name.starts_with("..")
                    || path
                        .extension()
                        .and_then(|ext| ext.to_str())
                        .is_some_and(|ext| CONFIG_EXTENSIONS.contains(&ext))
            })
    }
}

fn watch_directories<'a>(
    watcher: &mut impl Watcher,
    directories: impl Iterator<Item = &'a PathBuf>,
) {
    // A directory that does not exist yet is watched once its parent reports it.
    for directory in directories.filter(|directory| directory.is_dir()) {
        if let Err(error) = watcher.watch(directory, RecursiveMode::NonRecursive) {
            tracing::warn!(directory = %directory.display(), %error, "cannot watch directory");
        }
    }
}

/// Watches what `next` needs (again: a directory missing before may exist now; watching a
/// watched directory is harmless) and stops watching what it no longer needs.
fn resync(watcher: &mut impl Watcher, current: &mut WatchSet, next: WatchSet) {
    watch_directories(watcher, next.directories.iter());
    for directory in current.directories.difference(&next.directories) {
        let _ = watcher.unwatch(directory);
    }
    *current = next;
}

/// Starts the watcher thread: a change of content triggers `live.reload("file change")`.
pub fn spawn_watcher(live: Arc<LiveConfig>) -> Result<WatcherHandle, notify::Error> {
    let (sender, receiver) = mpsc::channel::<notify::Result<Event>>();
    let mut watcher = notify::recommended_watcher(sender)?;
    let mut watch_set = WatchSet::of(&live);
    watch_directories(&mut watcher, watch_set.directories.iter());
    let mut last_fingerprint = watch_set.fingerprint();
    let thread = std::thread::Builder::new()
        .name("authgate-config-watch".into())
        .spawn(move || {
            while let Ok(event) = receiver.recv() {
                if !is_change(&event) || !watch_set.concerns(&event) {
                    continue;
                }
                // Debounce: wait for a quiet moment, but not forever.
                let burst_started = Instant::now();
                let mut quiet_since = Instant::now();
                loop {
                    let wait = DEBOUNCE
                        .saturating_sub(quiet_since.elapsed())
                        .min(MAX_DEBOUNCE.saturating_sub(burst_started.elapsed()));
                    if wait.is_zero() {
                        break;
                    }
                    match receiver.recv_timeout(wait) {
                        // Only relevant events keep the burst open: a busy log file
                        // beside the config must not delay the reload.
                        Ok(event) if is_change(&event) && watch_set.concerns(&event) => {
                            quiet_since = Instant::now();
                        }
                        Ok(_) => {}
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
                // Directories may have come or gone (a new `scripts/`, the presets dir).
                resync(&mut watcher, &mut watch_set, WatchSet::of(&live));
                let fingerprint = watch_set.fingerprint();
                if fingerprint == last_fingerprint {
                    continue;
                }
                // Remember what this reload was decided on, not what is on disk after it:
                // a write during the reload must still trigger the next one.
                last_fingerprint = fingerprint;
                live.reload("file change");
                resync(&mut watcher, &mut watch_set, WatchSet::of(&live));
            }
        })
        .map_err(|error| notify::Error::generic(&error.to_string()))?;
    Ok(WatcherHandle { thread })
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
