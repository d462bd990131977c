//! authgate: an authentication server speaking the Auth.js REST protocol, configured in
//! YAML, scripted in Rhai and reloaded live.
//!
//! The data flows load → validate → compile → serve: [`config`] loads and checks,
//! [`pipeline`] compiles a checked config into the immutable runtime, [`reload`] swaps
//! pipelines while the server runs, and [`http`] (the only module that knows actix-web)
//! serves requests from one pipeline snapshot each. [`store`] persists users, accounts and
//! database sessions when a database is configured.

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod actions;
pub mod admin;
pub mod clock;
pub mod config;
pub mod email;
pub mod error;
pub mod forward_auth;
pub mod http;
pub mod log_output;
pub mod lsp;
pub mod pages;
pub mod password;
pub mod pipeline;
pub mod providers;
pub mod rate_limit;
pub mod reload;
pub mod script;
pub mod session;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod text;
pub mod webhooks;
