//! Unit tests of `watch`.

use super::*;

#[test]
fn reads_are_not_changes() {
    let read = Ok(Event::new(EventKind::Access(
        notify::event::AccessKind::Open(notify::event::AccessMode::Any),
    )));
    let write = Ok(Event::new(EventKind::Modify(
        notify::event::ModifyKind::Any,
    )));
    assert!(!is_change(&read));
    assert!(is_change(&write));
}

#[test]
fn fingerprint_follows_content_not_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("authgate.yaml");
    std::fs::write(&file, "a: 1\n").unwrap();
    let set = WatchSet {
        files: BTreeSet::from([file.clone()]),
        presets_dir: dir.path().join("providers.d"),
        directories: BTreeSet::new(),
    };
    let first = set.fingerprint();
    std::fs::write(&file, "a: 1\n").unwrap();
    assert_eq!(set.fingerprint(), first);
    std::fs::write(&file, "a: 2\n").unwrap();
    assert_ne!(set.fingerprint(), first);
    std::fs::create_dir(dir.path().join("providers.d")).unwrap();
    std::fs::write(dir.path().join("providers.d/x.yaml"), "id: x\n").unwrap();
    assert_ne!(set.fingerprint(), first);
}
