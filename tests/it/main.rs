//! The one integration-test binary (one link step): config diagnostics, schemas, examples
//! and presets, and a real server for the HTTP, reload and load tests.

mod support;

mod access_tokens;
mod account_management;
mod built_in_pages;
mod check_formats;
mod config_diagnostics;
mod credentials_flow;
mod database_session_clock;
mod database_sessions;
mod dropin_providers;
mod email_flow;
mod email_link_expiry;
mod email_services;
mod examples_and_presets;
mod forward_auth;
mod hostile_requests;
mod http_endpoints;
mod in_chromium;
mod jwt_keys;
mod live_reload;
mod lsp;
mod oauth_flow;
mod operations;
mod preset_auth_urls;
mod preset_profiles;
mod preset_sign_ins;
mod rate_limits;
mod reload_under_load;
mod schema_editor_rules;
mod schema_files;
mod session_attacks;
mod session_callbacks;
mod several_instances;
mod shared_state;
mod sign_in_callback;
mod store_conformance;
mod torn_write_reload;
mod worker_stalls;
