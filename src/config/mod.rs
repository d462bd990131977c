//! Configuration: the YAML model, loading (config + presets + `${ENV}`), the JSON Schemas,
//! and both validation layers. It produces a checked `LoadedConfig` or every problem found
//! as `Diagnostics`; it never starts anything and never logs a secret.

pub mod codes;
pub mod diagnostics;
pub mod dropins;
pub mod editor_rules;
pub mod files;
pub mod interpolate;
pub mod load;
pub mod masking;
pub mod model;
pub mod operations;
pub mod page_templates;
pub mod presets;
pub mod provider;
pub mod report;
pub mod schema;
pub mod script_key;
pub mod scripts;
pub mod semantic;
pub mod values;
pub mod yaml;

pub use diagnostics::{Diagnostic, Diagnostics, SourceLocation};
pub use interpolate::{Environment, ProcessEnvironment};
pub use load::{ConfigSource, LoadedConfig, load_config};
pub use model::Config;
pub use provider::{ProviderConfig, ProviderKind};
pub use script_key::ScriptKey;
pub use scripts::{LoadedScript, ScriptOrigin};
