//! Sessions and their protections: the cookie policy (names, prefixes, attributes), the
//! CSRF double-submit token, JWT session tokens (keys and JOSE encoding) and database
//! session tokens. Nothing here knows HTTP frameworks; handlers in `http/` use it.

pub mod chunks;
pub mod content_encryption;
pub mod cookie_header;
pub mod cookies;
pub mod csrf;
pub mod hmac_sha512;
pub mod jwe_reader;
pub mod jwe_writer;
pub mod jwt;
pub mod keys;
pub mod revocation;
pub mod token_claims;
pub mod tokens;
