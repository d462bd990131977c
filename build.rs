//! Rebuild when a built-in preset is added or removed: `include_dir!` embeds
//! `providers.d/`, but rustc tracks only the files it saw, not the directory.

fn main() {
    println!("cargo:rerun-if-changed=providers.d");
}
