//! Sessions and their protections: the cookie policy (names, prefixes, attributes) and the
//! CSRF double-submit token. Nothing here knows HTTP frameworks; handlers in `http/` use it.

pub mod cookies;
pub mod csrf;
