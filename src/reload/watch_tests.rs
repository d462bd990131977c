//! Unit tests of `watch`.

use notify::event::{AccessKind, AccessMode, CreateKind, DataChange, ModifyKind, RenameMode};

use super::*;

fn event(kind: EventKind, paths: &[&Path]) -> Event {
    paths.iter().fold(Event::new(kind), |event, path| {
        event.add_path(path.to_path_buf())
    })
}

fn data_written(path: &Path) -> Event {
    event(
        EventKind::Modify(ModifyKind::Data(DataChange::Any)),
        &[path],
    )
}

fn closed_after_writing(path: &Path) -> Event {
    event(
        EventKind::Access(AccessKind::Close(AccessMode::Write)),
        &[path],
    )
}

/// A watch set of `authgate.yaml` in `dir`, with `providers.d/` as the presets directory.
fn watch_set_in(dir: &Path) -> WatchSet {
    WatchSet {
        files: BTreeSet::from([dir.join("authgate.yaml")]),
        link_targets: BTreeSet::new(),
        providers_dir: dir.join("providers.d"),
        directories: BTreeSet::from([dir.to_path_buf()]),
    }
}

#[test]
fn reads_are_not_changes_but_a_writer_closing_the_file_is() {
    let path = Path::new("/config/authgate.yaml");
    let opened = event(
        EventKind::Access(AccessKind::Open(AccessMode::Any)),
        &[path],
    );
    let closed_after_reading = event(
        EventKind::Access(AccessKind::Close(AccessMode::Read)),
        &[path],
    );
    assert!(!is_change(&Ok(opened)));
    assert!(!is_change(&Ok(closed_after_reading)));
    assert!(is_change(&Ok(data_written(path))));
    assert!(is_change(&Ok(closed_after_writing(path))));
}

#[test]
fn fingerprint_follows_content_not_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("authgate.yaml");
    std::fs::write(&file, "a: 1\n").unwrap();
    let set = watch_set_in(dir.path());
    let first = set.fingerprint();
    std::fs::write(&file, "a: 1\n").unwrap();
    assert_eq!(set.fingerprint(), first);
    std::fs::write(&file, "a: 2\n").unwrap();
    assert_ne!(set.fingerprint(), first);
    std::fs::create_dir(dir.path().join("providers.d")).unwrap();
    std::fs::write(dir.path().join("providers.d/x.yaml"), "id: x\n").unwrap();
    assert_ne!(set.fingerprint(), first);
}

#[cfg(target_os = "linux")]
mod open_writes {
    use super::*;

    #[test]
    fn a_file_written_in_place_is_open_until_its_writer_closes_it() {
        let dir = tempfile::tempdir().unwrap();
        let set = watch_set_in(dir.path());
        let config = dir.path().join("authgate.yaml");
        let mut open_writes = OpenWrites::default();
        open_writes.observe(&data_written(&config));
        assert_eq!(open_writes.open_config_file(&set), Some(config.as_path()));
        // Reading it changes nothing.
        open_writes.observe(&event(
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            &[&config],
        ));
        assert_eq!(open_writes.open_config_file(&set), Some(config.as_path()));
        open_writes.observe(&closed_after_writing(&config));
        assert_eq!(open_writes.open_config_file(&set), None);
    }

    #[test]
    fn a_file_created_by_a_writer_is_open_until_closed() {
        let dir = tempfile::tempdir().unwrap();
        let set = watch_set_in(dir.path());
        let config = dir.path().join("authgate.yaml");
        // `cat > authgate.yaml` before it wrote anything.
        std::fs::write(&config, "").unwrap();
        let mut open_writes = OpenWrites::default();
        open_writes.observe(&event(EventKind::Create(CreateKind::File), &[&config]));
        assert_eq!(open_writes.open_config_file(&set), Some(config.as_path()));
        open_writes.observe(&closed_after_writing(&config));
        assert_eq!(open_writes.open_config_file(&set), None);
    }

    #[test]
    fn a_file_renamed_into_place_is_complete_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let set = watch_set_in(dir.path());
        let config = dir.path().join("authgate.yaml");
        let temporary = dir.path().join("authgate.yaml.tmp");
        let mut open_writes = OpenWrites::default();
        // An earlier in-place writer whose close was never seen, then an atomic replace.
        open_writes.observe(&data_written(&config));
        open_writes.observe(&data_written(&temporary));
        open_writes.observe(&event(
            EventKind::Modify(ModifyKind::Name(RenameMode::From)),
            &[&temporary],
        ));
        open_writes.observe(&event(
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            &[&config],
        ));
        assert_eq!(open_writes.open_config_file(&set), None);
        assert!(open_writes.paths.is_empty(), "{open_writes:?}");
    }

    #[test]
    fn a_symlink_or_a_hard_link_is_complete_when_it_appears() {
        let dir = tempfile::tempdir().unwrap();
        let set = watch_set_in(dir.path());
        let config = dir.path().join("authgate.yaml");
        let original = dir.path().join("original.yaml");
        std::fs::write(&original, "a: 1\n").unwrap();
        let mut open_writes = OpenWrites::default();

        std::os::unix::fs::symlink(&original, &config).unwrap();
        open_writes.observe(&event(EventKind::Create(CreateKind::File), &[&config]));
        assert_eq!(open_writes.open_config_file(&set), None);

        std::fs::remove_file(&config).unwrap();
        std::fs::hard_link(&original, &config).unwrap();
        open_writes.observe(&event(EventKind::Create(CreateKind::File), &[&config]));
        assert_eq!(open_writes.open_config_file(&set), None);
    }

    #[test]
    fn only_the_configurations_files_hold_a_reload_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut set = watch_set_in(dir.path());
        let busy_log = dir.path().join("audit.json");
        let script = dir.path().join("scripts/jwt.rhai");
        let mut open_writes = OpenWrites::default();
        open_writes.observe(&data_written(&busy_log));
        open_writes.observe(&data_written(&script));
        assert_eq!(open_writes.open_config_file(&set), None);
        // Once the config names the script, the open script holds the reload back.
        set.files.insert(script.clone());
        assert_eq!(open_writes.open_config_file(&set), Some(script.as_path()));
    }

    #[test]
    fn a_write_through_a_symlink_holds_the_linked_config_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut set = watch_set_in(dir.path());
        let target = dir.path().join("..2024_01_01/authgate.yaml");
        set.link_targets.insert(target.clone());
        let mut open_writes = OpenWrites::default();
        open_writes.observe(&data_written(&target));
        assert_eq!(open_writes.open_config_file(&set), Some(target.as_path()));
    }

    /// What the watcher relies on from notify's inotify backend: data written to a file
    /// held open keeps it open, and only the writer's close completes it.
    #[test]
    fn inotify_reports_a_writer_closing_the_file() {
        use std::io::Write;

        let dir = tempfile::tempdir().unwrap();
        let set = watch_set_in(dir.path());
        let config = dir.path().join("authgate.yaml");
        std::fs::write(&config, "a: 1\n").unwrap();
        let (sender, receiver) = mpsc::channel();
        let mut watcher = notify::recommended_watcher(sender).unwrap();
        watcher
            .watch(dir.path(), RecursiveMode::NonRecursive)
            .unwrap();
        let mut events = Events {
            receiver,
            open_writes: OpenWrites::default(),
        };
        let wait_for = |kind: EventKind, events: &mut Events| {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Ok(event)) = events.receiver.recv_timeout(Duration::from_millis(100)) {
                    let seen = event.kind == kind && event.paths.contains(&config);
                    events.observe(&Ok(event), &set);
                    if seen {
                        return;
                    }
                }
            }
            panic!("no {kind:?} event for {}", config.display());
        };

        let mut writer = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&config)
            .unwrap();
        writer.write_all(b"a: ").unwrap();
        writer.flush().unwrap();
        wait_for(
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            &mut events,
        );
        // A reader opening and closing the file while the writer pauses changes nothing.
        let _ = std::fs::read_to_string(&config).unwrap();
        wait_for(
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            &mut events,
        );
        assert_eq!(
            events.open_writes.open_config_file(&set),
            Some(config.as_path())
        );

        writer.write_all(b"2\n").unwrap();
        drop(writer);
        wait_for(
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            &mut events,
        );
        assert_eq!(events.open_writes.open_config_file(&set), None);
    }
}

#[test]
fn a_busy_neighbour_does_not_keep_a_burst_open_forever() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("authgate.yaml"), "a: 1\n").unwrap();
    let set = watch_set_in(dir.path());
    let (sender, receiver) = mpsc::channel();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // A JSON log beside the config: relevant by its extension, written without pause.
    let busy = {
        let stop = stop.clone();
        let busy_log = dir.path().join("audit.json");
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                if sender.send(Ok(data_written(&busy_log))).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let mut events = Events {
        receiver,
        open_writes: OpenWrites::default(),
    };
    assert!(events.settle(&set).is_ok());
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    busy.join().unwrap();
}
