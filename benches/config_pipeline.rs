//! Load + validate + compile of a configuration that enables every built-in preset: the
//! cost of one reload, which reuses the presets the first load of the process parsed (as
//! every iteration after the first does here). Run with `cargo bench --bench config_pipeline`.

use std::collections::HashMap;

use criterion::{Criterion, criterion_group, criterion_main};

use authgate::config::ConfigSource;
use authgate::config::presets::{builtin_preset_names, config_using_every_builtin_preset};
use authgate::pipeline::build_pipeline;

fn reload_cost(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config_path = dir.path().join("authgate.yaml");
    let config = config_using_every_builtin_preset(
        "https://auth.example.com",
        "bench-secret-0123456789abcdef0123456789abcdef",
    );
    std::fs::write(&config_path, config).expect("write config");
    let source = ConfigSource::new(&config_path);
    let env: HashMap<String, String> = HashMap::new();
    let presets = builtin_preset_names().len();
    let pipeline = build_pipeline(&source, &env, 1).expect("config is valid");
    assert_eq!(pipeline.providers.len(), presets);
    c.bench_function(&format!("load+validate+compile ({presets} presets)"), |b| {
        b.iter(|| build_pipeline(&source, &env, 1).expect("config is valid"))
    });
}

criterion_group!(benches, reload_cost);
criterion_main!(benches);
