//! Splitting a large session cookie into `name.0`, `name.1`, ... (as Auth.js does, so each
//! `Set-Cookie` stays under the 4 KiB browsers keep) and putting it back together. Chunks
//! that a shorter value no longer needs are expired, so a stale tail never corrupts a read.

use std::collections::BTreeMap;

/// Browsers keep about 4096 bytes per cookie, name and attributes included.
pub const MAX_COOKIE_BYTES: usize = 4096;
/// Room left for the name and attributes (Auth.js uses the same estimate).
const ESTIMATED_EMPTY_COOKIE_BYTES: usize = 160;
/// Largest value written in one cookie.
pub const CHUNK_SIZE: usize = MAX_COOKIE_BYTES - ESTIMATED_EMPTY_COOKIE_BYTES;
/// Most chunks read back or cleared (64 × ~3.9 KB is far more than any honest session).
pub const MAX_CHUNKS: usize = 64;

/// One cookie to set (`Some`) or expire (`None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieWrite {
    pub name: String,
    pub value: Option<String>,
}

/// The index of `cookie` as a chunk of `name`: only the names authgate writes count
/// (`name.0` to `name.63`, plain decimal), so `name.01`, `name.+1` or `name.99999` are
/// someone else's cookies, never read and never cleared.
pub fn chunk_index(name: &str, cookie: &str) -> Option<usize> {
    let digits = cookie.strip_prefix(name)?.strip_prefix('.')?;
    let canonical = !digits.is_empty()
        && digits.len() <= 2
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !canonical {
        return None;
    }
    digits.parse().ok().filter(|index| *index < MAX_CHUNKS)
}

/// The value stored under `name`, whole or in chunks: `None` when absent, `Some(Err)` when
/// the chunks are not a contiguous `0..n` run of at most 64, or come beside a whole cookie
/// (the caller clears them).
pub fn read_value<'a>(
    cookies: impl IntoIterator<Item = (&'a str, &'a str)>,
    name: &str,
) -> Option<Result<String, MalformedChunks>> {
    let mut whole = None;
    let mut chunks = BTreeMap::new();
    for (cookie, value) in cookies {
        if cookie == name {
            whole = Some(value.to_string());
        } else if let Some(index) = chunk_index(name, cookie) {
            chunks.insert(index, value);
        }
    }
    if chunks.is_empty() {
        return whole.map(Ok);
    }
    // Whole and chunked at once: one of them was not written with the other (authgate
    // expires the whole cookie when it chunks), so neither is trusted.
    if whole.is_some()
        || chunks.len() > MAX_CHUNKS
        || chunks
            .keys()
            .enumerate()
            .any(|(position, index)| position != *index)
    {
        return Some(Err(MalformedChunks));
    }
    Some(Ok(chunks.values().copied().collect()))
}

/// The session cookie's chunks do not form a contiguous run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the session cookie's chunks are incomplete or too many")]
pub struct MalformedChunks;

/// The cookies to write so that `name` holds `value` (or nothing, for `None`), given the
/// names of the cookies the request carried.
pub fn plan_write<'a>(
    name: &str,
    value: Option<&str>,
    existing: impl IntoIterator<Item = &'a str>,
) -> Vec<CookieWrite> {
    let mut writes = Vec::new();
    let mut keep = Vec::new();
    if let Some(value) = value {
        if value.len() <= CHUNK_SIZE {
            writes.push(CookieWrite {
                name: name.to_string(),
                value: Some(value.to_string()),
            });
            keep.push(name.to_string());
        } else {
            let bytes = value.as_bytes();
            for (index, piece) in bytes.chunks(CHUNK_SIZE).enumerate() {
                let chunk_name = format!("{name}.{index}");
                // Tokens are ASCII (base64url and dots), so a byte cut is a char cut.
                writes.push(CookieWrite {
                    name: chunk_name.clone(),
                    value: Some(String::from_utf8_lossy(piece).into_owned()),
                });
                keep.push(chunk_name);
            }
        }
    }
    for cookie in existing {
        let ours = cookie == name || chunk_index(name, cookie).is_some();
        if ours && !keep.iter().any(|kept| kept == cookie) {
            writes.push(CookieWrite {
                name: cookie.to_string(),
                value: None,
            });
        }
    }
    writes
}

#[cfg(test)]
#[path = "chunks_tests.rs"]
mod tests;
