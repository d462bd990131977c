//! Reads `pages.templates`: the `.html` files of one directory beside the config file, by
//! name. Which names replace built-in pages, and whether they compile, is the pages
//! module's business; this only reads, bounds and watches.

use super::codes::Code;
use std::collections::BTreeSet;
use std::path::PathBuf;

use super::diagnostics::{Diagnostic, Diagnostics};
use super::files::read_text_file;
use super::load::SourceMap;
use super::model::Config;
use crate::pages::{BUILT_IN_TEMPLATES, TemplateFile};

/// The most template files one directory may hold.
const MAX_TEMPLATE_FILES: usize = 64;
/// The most directory entries looked at (of any kind).
const MAX_ENTRIES_SCANNED: usize = 10_000;

/// The template files of `pages.templates`, sorted by name. Every built-in page's file name
/// is watched whether it exists or not, so creating one is a live change.
pub fn read_page_templates(
    config: &Config,
    source_map: &SourceMap<'_>,
    watched_files: &mut BTreeSet<PathBuf>,
    diagnostics: &mut Diagnostics,
) -> Vec<TemplateFile> {
    let Some(directory) = &config.pages.templates else {
        return Vec::new();
    };
    let pointer = "/pages/templates";
    let directory = source_map
        .config
        .directory()
        .unwrap_or_default()
        .join(directory);
    let fail = |diagnostics: &mut Diagnostics, message: String| {
        diagnostics.push(
            Diagnostic::error(Code::Pages, "pages.templates", message)
                .at(source_map.locate(pointer, false)),
        );
    };
    for (name, _) in BUILT_IN_TEMPLATES {
        watched_files.insert(directory.join(name));
    }
    let listed = std::fs::canonicalize(&directory)
        .and_then(|root| Ok((std::fs::read_dir(&directory)?, root)));
    let (entries, root) = match listed {
        Ok(listed) => listed,
        Err(error) => {
            fail(
                diagnostics,
                format!(
                    "cannot read the templates directory `{}`: {error}",
                    directory.display()
                ),
            );
            return Vec::new();
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .take(MAX_ENTRIES_SCANNED)
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "html"))
        .collect();
    paths.sort();
    if paths.len() > MAX_TEMPLATE_FILES {
        fail(
            diagnostics,
            format!(
                "`{}` holds {} templates; at most {MAX_TEMPLATE_FILES} are read",
                directory.display(),
                paths.len()
            ),
        );
        return Vec::new();
    }
    // A template is a regular file inside the directory. A link may point within it (a
    // Kubernetes ConfigMap links each file into `..data/`), never out of it: a link to
    // `/proc/self/environ` or a key file would publish it on a page.
    let outside: Vec<String> = paths
        .iter()
        .filter(|path| {
            !std::fs::canonicalize(path).is_ok_and(|real| real.starts_with(&root) && real.is_file())
        })
        .map(|path| path.display().to_string())
        .collect();
    if !outside.is_empty() {
        fail(
            diagnostics,
            format!(
                "templates must be regular files inside `{}`; refused: {}",
                directory.display(),
                outside.join(", ")
            ),
        );
        return Vec::new();
    }
    let mut templates = Vec::new();
    for path in paths {
        let display = path.display().to_string();
        watched_files.insert(path.clone());
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        match read_text_file(&path, &display) {
            Ok(text) => templates.push(TemplateFile {
                name: name.to_string(),
                display,
                text,
            }),
            Err(error) => diagnostics.push(error),
        }
    }
    templates
}
