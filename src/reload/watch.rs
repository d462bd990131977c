//! Watching the files a configuration is made of. Editors save by rename and one save can
//! raise several events, so the parent directories are watched and events are debounced
//! (200 ms) before one rebuild runs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, new_debouncer};

use super::LiveConfig;

const DEBOUNCE: Duration = Duration::from_millis(200);

/// Keeps the watcher thread alive; dropping it does not stop the thread.
pub struct WatcherHandle {
    pub thread: std::thread::JoinHandle<()>,
}

/// A path with its directory resolved, so event paths and config paths compare equal.
fn normalize(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (absolute.parent(), absolute.file_name()) {
        (Some(parent), Some(name)) => parent
            .canonicalize()
            .unwrap_or_else(|_| parent.to_path_buf())
            .join(name),
        _ => absolute,
    }
}

/// What to watch for the pipeline being served.
struct WatchSet {
    files: BTreeSet<PathBuf>,
    presets_dir: PathBuf,
    directories: BTreeSet<PathBuf>,
}

impl WatchSet {
    fn of(live: &LiveConfig) -> WatchSet {
        let pipeline = live.snapshot();
        let mut files: BTreeSet<PathBuf> = pipeline
            .watched_files
            .iter()
            .map(|p| normalize(p))
            .collect();
        files.insert(normalize(&live.source().config_path));
        let presets_dir = normalize(&live.source().user_presets_dir);
        let mut directories: BTreeSet<PathBuf> = files
            .iter()
            .filter_map(|file| file.parent().map(Path::to_path_buf))
            .collect();
        if presets_dir.is_dir() {
            directories.insert(presets_dir.clone());
        }
        WatchSet {
            files,
            presets_dir,
            directories,
        }
    }

    /// A known file, the presets directory itself, or a YAML/Rhai file appearing in a
    /// watched directory (a script the last failed reload could not find, a new preset).
    /// Other files (a SQLite database and its journal, editor swap files) are ignored, so
    /// they cannot cause reload storms.
    fn is_relevant(&self, path: &Path) -> bool {
        let path = normalize(path);
        if self.files.contains(&path) || path == self.presets_dir {
            return true;
        }
        let in_watched_directory = path
            .parent()
            .is_some_and(|parent| parent == self.presets_dir || self.directories.contains(parent));
        in_watched_directory
            && path
                .extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml" || ext == "rhai")
    }
}

/// Starts the watcher thread: a relevant change triggers `live.reload("file change")`.
pub fn spawn_watcher(live: Arc<LiveConfig>) -> Result<WatcherHandle, notify::Error> {
    let (sender, receiver) = mpsc::channel::<DebounceEventResult>();
    let mut debouncer = new_debouncer(DEBOUNCE, sender)?;
    let mut watch_set = WatchSet::of(&live);
    for directory in &watch_set.directories {
        if let Err(error) = debouncer
            .watcher()
            .watch(directory, RecursiveMode::NonRecursive)
        {
            tracing::warn!(directory = %directory.display(), %error, "cannot watch directory");
        }
    }
    let thread = std::thread::Builder::new()
        .name("authgate-config-watch".into())
        .spawn(move || {
            while let Ok(result) = receiver.recv() {
                let events = match result {
                    Ok(events) => events,
                    Err(error) => {
                        tracing::warn!(%error, "file watcher error");
                        continue;
                    }
                };
                if !events.iter().any(|event| watch_set.is_relevant(&event.path)) {
                    continue;
                }
                live.reload("file change");
                // Script files or the presets directory may have come or gone.
                let next = WatchSet::of(&live);
                for directory in next.directories.difference(&watch_set.directories) {
                    if let Err(error) = debouncer.watcher().watch(directory, RecursiveMode::NonRecursive) {
                        tracing::warn!(directory = %directory.display(), %error, "cannot watch directory");
                    }
                }
                for directory in watch_set.directories.difference(&next.directories) {
                    let _ = debouncer.watcher().unwatch(directory);
                }
                watch_set = next;
            }
        })
        .map_err(|error| notify::Error::generic(&error.to_string()))?;
    Ok(WatcherHandle { thread })
}
