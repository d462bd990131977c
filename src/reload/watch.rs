//! Watching the files a configuration is made of.
//!
//! Editors save by rename, Kubernetes swaps a `..data` symlink, and one save can raise
//! several events, so the parent directories are watched (not the files), events are
//! debounced until 200 ms pass quietly, and a rebuild runs only when a fingerprint of the
//! watched files' contents changed. Reading a file raises *access* events (open, close
//! without writing); those are ignored, or every reload would trigger the next one.
//!
//! A half-written file must never be loaded. A file written in place is complete only once
//! its writer closed it (inotify's close-after-write), however long the writer pauses
//! between two writes; a file renamed into place is complete at once. While a watched file
//! is written and not yet closed, nothing is rebuilt and the old configuration keeps
//! serving. A burst of events that never goes quiet ends when the watched files' content
//! stays the same, never on a timeout alone. When the files changed while a rebuild read
//! them, they are loaded again once they settle.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use sha2::{Digest, Sha256};

use super::{LiveConfig, ReloadOutcome};
use crate::config::files::MAX_FILE_BYTES;
use crate::config::load::referenced_files;

/// Quiet time that ends a burst of events.
const DEBOUNCE: Duration = Duration::from_millis(200);
/// Longest a burst is waited for by its events: a directory that never goes quiet (a log
/// file, a database journal beside the config) must not starve reloads. After it, the
/// burst ends once the watched files' content stayed the same for `DEBOUNCE`.
const MAX_DEBOUNCE: Duration = Duration::from_millis(600);
/// Extensions of files that can be part of a configuration.
const CONFIG_EXTENSIONS: [&str; 7] = ["yaml", "yml", "rhai", "pem", "json", "jwk", "html"];
/// Only inotify reports close-after-write. Elsewhere nothing would end the wait for a
/// writer, so files count as complete once their content settled.
const REPORTS_CLOSE_AFTER_WRITE: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// Keeps the watcher thread's handle.
pub struct WatcherHandle {
    pub thread: std::thread::JoinHandle<()>,
}

/// The files and directories behind the pipeline being served.
#[derive(Debug, PartialEq, Eq)]
struct WatchSet {
    files: BTreeSet<PathBuf>,
    /// Where the symlinked `files` point (a ConfigMap's `..data/...`): a write through the
    /// link is reported under this path.
    link_targets: BTreeSet<PathBuf>,
    providers_dir: PathBuf,
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
        let providers_dir = absolute(&live.source().providers_dir);
        let mut link_targets = BTreeSet::new();
        let mut directories = BTreeSet::new();
        for file in &files {
            if let Some(parent) = file.parent() {
                directories.insert(parent.to_path_buf());
            }
            // A symlinked file (a ConfigMap) changes where its target lives too.
            if let Ok(target) = file.canonicalize() {
                if let Some(parent) = target.parent() {
                    directories.insert(parent.to_path_buf());
                }
                if &target != file {
                    link_targets.insert(target);
                }
            }
        }
        if providers_dir.is_dir() {
            directories.insert(providers_dir.clone());
        }
        WatchSet {
            files,
            link_targets,
            providers_dir,
            directories,
        }
    }

    /// Whether `path` is one of the files a rebuild reads (the presets directory's YAML
    /// files among them), by its name or through a symlink.
    fn is_config_file(&self, path: &Path) -> bool {
        self.files.contains(path) || self.link_targets.contains(path)
    }

    /// A digest of every watched file's content and of the presets directory's listing.
    fn fingerprint(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        let mut files: BTreeSet<PathBuf> = self.files.clone();
        if let Ok(entries) = std::fs::read_dir(&self.providers_dir) {
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
                self.is_config_file(path)
                    || path.parent() == Some(self.providers_dir.as_path())
                    || path == &self.providers_dir
                    || name.starts_with("..")
                    || path
                        .extension()
                        .and_then(|ext| ext.to_str())
                        .is_some_and(|ext| CONFIG_EXTENSIONS.contains(&ext))
            })
    }
}

/// An event that may mean a file changed: not a mere read (open, or close without
/// writing), but a writer's close, which completes a file written in place.
fn is_change(event: &notify::Result<Event>) -> bool {
    match event {
        Ok(event) => match event.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
            EventKind::Access(_) => false,
            _ => true,
        },
        // An overflowed queue may have dropped a change.
        Err(_) => true,
    }
}

/// The files written in place whose writer has not closed them yet: loading one of them
/// now could load half of it.
#[derive(Debug, Default)]
struct OpenWrites {
    paths: BTreeSet<PathBuf>,
}

impl OpenWrites {
    fn observe(&mut self, event: &Event) {
        if !REPORTS_CLOSE_AFTER_WRITE {
            return;
        }
        match event.kind {
            // Data written, or a file created by opening it (`>` redirection, `cat > f`):
            // a close-after-write will follow.
            EventKind::Modify(ModifyKind::Data(_)) => {
                self.paths.extend(event.paths.iter().cloned());
            }
            EventKind::Create(CreateKind::File | CreateKind::Any) => self.paths.extend(
                event
                    .paths
                    .iter()
                    .filter(|path| is_opened_regular_file(path))
                    .cloned(),
            ),
            // Closed after writing, renamed (into place: complete at once; away: that name
            // no longer holds it), or removed.
            EventKind::Access(AccessKind::Close(AccessMode::Write))
            | EventKind::Modify(ModifyKind::Name(_))
            | EventKind::Remove(_) => {
                for path in &event.paths {
                    self.paths.remove(path);
                }
            }
            _ => {}
        }
    }

    /// A file of `watch_set` that a writer still has open, if any.
    fn open_config_file(&self, watch_set: &WatchSet) -> Option<&Path> {
        self.paths
            .iter()
            .find(|path| watch_set.is_config_file(path))
            .map(PathBuf::as_path)
    }
}

/// Whether a created file was made by opening it, so that a close will follow. A symlink
/// (`ln -s`) or a second hard link (`ln`) is complete when it appears.
fn is_opened_regular_file(path: &Path) -> bool {
    let Ok(metadata) = std::fs::symlink_metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    let single_link = std::os::unix::fs::MetadataExt::nlink(&metadata) == 1;
    #[cfg(not(unix))]
    let single_link = true;
    metadata.file_type().is_file() && single_link
}

/// The watcher's channel was closed: the watcher is gone, and so is the thread.
#[derive(Debug)]
struct Stopped;

/// The event side of the watcher: what arrives, and which files are open for writing.
struct Events {
    receiver: Receiver<notify::Result<Event>>,
    open_writes: OpenWrites,
}

impl Events {
    /// Records `event`; whether it may mean the configuration changed.
    fn observe(&mut self, event: &notify::Result<Event>, watch_set: &WatchSet) -> bool {
        if let Ok(event) = event {
            // Every file is followed (a script may be named by the config only later);
            // only the configuration's files hold a reload back.
            self.open_writes.observe(event);
        }
        // Only relevant events count: a busy log file beside the config must not delay
        // the reload.
        is_change(event) && watch_set.concerns(event)
    }

    /// Waits for an event that may mean the configuration changed.
    fn next_change(&mut self, watch_set: &WatchSet) -> Result<(), Stopped> {
        loop {
            let event = self.receiver.recv().map_err(|_| Stopped)?;
            if self.observe(&event, watch_set) {
                return Ok(());
            }
        }
    }

    /// Waits up to `timeout` for one event; whether it may mean the configuration changed.
    fn next_event(&mut self, timeout: Duration, watch_set: &WatchSet) -> Result<bool, Stopped> {
        match self.receiver.recv_timeout(timeout) {
            Ok(event) => Ok(self.observe(&event, watch_set)),
            Err(RecvTimeoutError::Timeout) => Ok(false),
            Err(RecvTimeoutError::Disconnected) => Err(Stopped),
        }
    }

    /// Records every event that arrives during `duration`.
    fn observe_for(&mut self, duration: Duration, watch_set: &WatchSet) -> Result<(), Stopped> {
        let deadline = Instant::now() + duration;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            self.next_event(left, watch_set)?;
        }
    }

    /// Waits until a burst of events is over: `DEBOUNCE` without a relevant event. Events
    /// that do not stop are waited for `MAX_DEBOUNCE` at most; after that, the burst is
    /// over once the watched files' content stayed the same for `DEBOUNCE`, so a file
    /// rewritten piece by piece is not cut in the middle.
    fn settle(&mut self, watch_set: &WatchSet) -> Result<(), Stopped> {
        let burst_started = Instant::now();
        let mut quiet_since = Instant::now();
        loop {
            let until_quiet = DEBOUNCE.saturating_sub(quiet_since.elapsed());
            if until_quiet.is_zero() {
                return Ok(());
            }
            let until_cap = MAX_DEBOUNCE.saturating_sub(burst_started.elapsed());
            if until_cap.is_zero() {
                break;
            }
            if self.next_event(until_quiet.min(until_cap), watch_set)? {
                quiet_since = Instant::now();
            }
        }
        let mut before = watch_set.fingerprint();
        loop {
            self.observe_for(DEBOUNCE, watch_set)?;
            let after = watch_set.fingerprint();
            if after == before {
                return Ok(());
            }
            before = after;
        }
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

/// What the watcher does after a settled burst.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// Wait for the next change: this one was loaded, was loaded before, or still has a
    /// writer (whose close is the next change).
    WaitForChange,
    /// The files changed while the rebuild read them: load them again once they settle.
    LoadAgainOnceSettled,
}

/// The watcher thread's state.
struct ConfigWatcher {
    live: Arc<LiveConfig>,
    watcher: RecommendedWatcher,
    watch_set: WatchSet,
    events: Events,
    /// The fingerprint the last reload was decided on; `None` forces the next one.
    last_fingerprint: Option<[u8; 32]>,
    /// The open file last reported as holding the reload back (reported once).
    reported_open_file: Option<PathBuf>,
}

impl ConfigWatcher {
    fn run(mut self) {
        let mut next = Next::WaitForChange;
        loop {
            let settled = match next {
                Next::LoadAgainOnceSettled => self.events.settle(&self.watch_set),
                Next::WaitForChange => self
                    .events
                    .next_change(&self.watch_set)
                    .and_then(|()| self.events.settle(&self.watch_set)),
            };
            if settled.is_err() {
                return;
            }
            next = self.reload_if_complete_and_changed();
        }
    }

    /// Rebuilds when no writer has a watched file open and their content changed.
    fn reload_if_complete_and_changed(&mut self) -> Next {
        // Directories may have come or gone (a new `scripts/`, the presets dir).
        resync(
            &mut self.watcher,
            &mut self.watch_set,
            WatchSet::of(&self.live),
        );
        if let Some(file) = self.events.open_writes.open_config_file(&self.watch_set) {
            if self.reported_open_file.as_deref() != Some(file) {
                tracing::info!(file = %file.display(), "a writer has the file open; reloading once it closes it");
                self.reported_open_file = Some(file.to_path_buf());
            }
            return Next::WaitForChange;
        }
        self.reported_open_file = None;
        let fingerprint = self.watch_set.fingerprint();
        if Some(fingerprint) == self.last_fingerprint {
            return Next::WaitForChange;
        }
        // Remember what this reload was decided on, not what is on disk after it: a write
        // during the reload must still trigger the next one.
        self.last_fingerprint = Some(fingerprint);
        // Same files as the decision, before the set follows the new pipeline; a pipeline
        // built while they changed is never swapped in.
        let watch_set = &self.watch_set;
        let outcome = self
            .live
            .reload_unless_changed("file change", || watch_set.fingerprint() != fingerprint);
        let read_unchanged = !matches!(outcome, ReloadOutcome::Discarded)
            && self.watch_set.fingerprint() == fingerprint;
        resync(
            &mut self.watcher,
            &mut self.watch_set,
            WatchSet::of(&self.live),
        );
        if read_unchanged {
            return Next::WaitForChange;
        }
        tracing::warn!(
            "configuration files changed while they were loaded; loading them again once they settle"
        );
        self.last_fingerprint = None;
        Next::LoadAgainOnceSettled
    }
}

/// Starts the watcher thread: a change of content triggers `live.reload("file change")`.
pub fn spawn_watcher(live: Arc<LiveConfig>) -> Result<WatcherHandle, notify::Error> {
    let (sender, receiver) = mpsc::channel::<notify::Result<Event>>();
    let mut watcher = notify::recommended_watcher(sender)?;
    let watch_set = WatchSet::of(&live);
    watch_directories(&mut watcher, watch_set.directories.iter());
    let last_fingerprint = Some(watch_set.fingerprint());
    let config_watcher = ConfigWatcher {
        live,
        watcher,
        watch_set,
        events: Events {
            receiver,
            open_writes: OpenWrites::default(),
        },
        last_fingerprint,
        reported_open_file: None,
    };
    let thread = std::thread::Builder::new()
        .name("authgate-config-watch".into())
        .spawn(move || config_watcher.run())
        .map_err(|error| notify::Error::generic(&error.to_string()))?;
    Ok(WatcherHandle { thread })
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
