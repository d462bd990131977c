//! Password hashes: verifying argon2 (any variant, parameters taken from the PHC string) and
//! bcrypt (`$2a$`, `$2b$`, `$2y$`) hashes, and hashing new passwords with argon2id.
//! A missing or unparsable hash is verified against a dummy hash whose cost the
//! configuration states (`passwords.cost`), so a failed sign-in costs the same time
//! whether the user exists or not, whatever requests came before.

use std::collections::BTreeMap;
use std::sync::Mutex;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
#[error("cannot hash password: {0}")]
pub struct HashError(String);

/// Hashes `plain` with argon2id and the default (OWASP-recommended) parameters.
pub fn hash_password(plain: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|error| HashError(error.to_string()))?;
    Argon2::default()
        .hash_password(plain.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| HashError(error.to_string()))
}

/// The cost of `authgate hash-password`'s hashes: argon2id with the default parameters.
pub const DEFAULT_COST: &str = "$argon2id$v=19$m=19456,t=2,p=1";

/// A hash of random bytes nobody knows, with the configured cost (`passwords.cost`). A
/// sign-in for a user that does not exist (or has no usable hash) verifies against it, so
/// "no such user" costs what "wrong password" costs. It depends on the configuration
/// only, never on earlier requests. It is hashed at its first use (on the blocking pool,
/// like every password check), not when a configuration is built: an argon2id hash costs
/// tens of milliseconds, which start-up and every reload would otherwise pay.
#[derive(Clone)]
pub struct DummyHash {
    cost: String,
    phc: std::sync::Arc<std::sync::OnceLock<String>>,
}

impl std::fmt::Debug for DummyHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DummyHash")
            .field("cost", &self.cost)
            .finish()
    }
}

/// Dummies already made, by cost: a reload with the same cost hashes nothing.
static DUMMIES: Mutex<BTreeMap<String, DummyHash>> = Mutex::new(BTreeMap::new());

impl DummyHash {
    /// The dummy for `cost`, the start of a PHC string: `$argon2id$v=19$m=..,t=..,p=..`
    /// (also `argon2i`, `argon2d`) or `$2b$NN` (also `$2a$`, `$2y$`).
    pub fn for_cost(cost: &str) -> Result<DummyHash, HashError> {
        if let Some(known) = DUMMIES.lock().ok().and_then(|d| d.get(cost).cloned()) {
            return Ok(known);
        }
        parse_cost(cost)?;
        let dummy = DummyHash {
            cost: cost.to_string(),
            phc: Default::default(),
        };
        if let Ok(mut dummies) = DUMMIES.lock() {
            dummies.insert(cost.to_string(), dummy.clone());
        }
        Ok(dummy)
    }

    /// The hash, made on first use. A cost that was checked cannot fail to hash; if it
    /// did, the empty hash verifies nothing, which is the dummy's answer anyway.
    fn phc(&self) -> &str {
        self.phc
            .get_or_init(|| dummy_with_cost(&self.cost).unwrap_or_default())
    }

    fn verify(&self, plain: &str) {
        let phc = self.phc();
        if is_bcrypt(phc) {
            let _ = bcrypt::verify(plain, phc);
        } else {
            let _ = verify_argon2(plain, phc);
        }
    }
}

/// The part of a PHC string that decides its cost: `$argon2id$v=19$m=..,t=..,p=..` or `$2b$12`.
fn cost_prefix(phc: &str) -> Option<String> {
    let parts: Vec<&str> = phc.split('$').collect();
    if is_bcrypt(phc) {
        return (parts.len() >= 3).then(|| parts[..3].join("$"));
    }
    (parts.len() >= 4 && parts[1].starts_with("argon2")).then(|| parts[..4].join("$"))
}

/// A cost as `passwords.cost` states it.
enum Cost {
    Bcrypt(u32),
    Argon2 {
        algorithm: argon2::Algorithm,
        version: argon2::Version,
        params: argon2::Params,
    },
}

/// Reads a cost: `$2b$NN` (also `$2a$`, `$2y$`, NN from 04 to 31) or
/// `$argon2id$v=19$m=..,t=..,p=..` (also `argon2i`, `argon2d`).
fn parse_cost(cost: &str) -> Result<Cost, HashError> {
    let invalid = || {
        HashError(format!(
            "expected the start of a bcrypt hash (`$2b$04` to `$2b${MAX_BCRYPT_COST}`) or an argon2 hash (at most m={MAX_ARGON2_MEMORY_KIB}, t={MAX_ARGON2_PASSES}, p={MAX_ARGON2_LANES}) such as `{DEFAULT_COST}`, found `{cost}`"
        ))
    };
    if is_bcrypt(cost) {
        let rounds: u32 = cost
            .get(4..)
            .filter(|digits| digits.len() == 2 && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse().ok())
            .filter(|rounds| (4..=MAX_BCRYPT_COST).contains(rounds))
            .ok_or_else(invalid)?;
        return Ok(Cost::Bcrypt(rounds));
    }
    if cost_prefix(cost).as_deref() != Some(cost) {
        return Err(invalid());
    }
    // A PHC string needs a salt and a hash to parse; give it throwaway ones.
    let parsed_from = format!("{cost}$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA");
    let parsed = PasswordHash::new(&parsed_from).map_err(|_| invalid())?;
    Ok(Cost::Argon2 {
        algorithm: argon2::Algorithm::try_from(parsed.algorithm).map_err(|_| invalid())?,
        version: parsed
            .version
            .map(argon2::Version::try_from)
            .transpose()
            .map_err(|_| invalid())?
            .unwrap_or_default(),
        params: argon2::Params::try_from(&parsed)
            .ok()
            .filter(argon2_within_limits)
            .ok_or_else(invalid)?,
    })
}

/// The costliest bcrypt accepted: cost 15 already takes seconds per check.
const MAX_BCRYPT_COST: u32 = 15;
/// The costliest argon2 accepted: 256 MiB of memory (OWASP's settings use 7 to 46 MiB), 10
/// passes, 16 lanes. Beyond that one check could exhaust the machine (a typo in
/// `passwords.cost` or a hash in the database with `m=4294967295` would abort the process
/// on allocation).
const MAX_ARGON2_MEMORY_KIB: u32 = 256 * 1024;
const MAX_ARGON2_PASSES: u32 = 10;
const MAX_ARGON2_LANES: u32 = 16;

fn argon2_within_limits(params: &argon2::Params) -> bool {
    params.m_cost() <= MAX_ARGON2_MEMORY_KIB
        && params.t_cost() <= MAX_ARGON2_PASSES
        && params.p_cost() <= MAX_ARGON2_LANES
}

/// Whether `cost` is a cost `passwords.cost` accepts (for `authgate check`): the reason
/// when it is not.
pub fn check_cost(cost: &str) -> Result<(), String> {
    parse_cost(cost)
        .map(|_| ())
        .map_err(|HashError(reason)| reason)
}

/// A fresh hash of random bytes with the cost `cost` states.
fn dummy_with_cost(cost: &str) -> Result<String, HashError> {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let plain = crate::text::lower_hex(&secret);
    match parse_cost(cost)? {
        Cost::Bcrypt(rounds) => {
            bcrypt::hash(&plain, rounds).map_err(|error| HashError(error.to_string()))
        }
        Cost::Argon2 {
            algorithm,
            version,
            params,
        } => {
            let mut salt = [0u8; 16];
            rand::rng().fill_bytes(&mut salt);
            let salt =
                SaltString::encode_b64(&salt).map_err(|error| HashError(error.to_string()))?;
            Argon2::new(algorithm, version, params)
                .hash_password(plain.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|error| HashError(error.to_string()))
        }
    }
}

/// `None` for a hash that is not argon2, or whose cost is over the limits (it counts as
/// no usable hash, so the dummy is verified instead).
fn verify_argon2(plain: &str, phc: &str) -> Option<bool> {
    let parsed = PasswordHash::new(phc).ok()?;
    if !argon2::Params::try_from(&parsed).is_ok_and(|params| argon2_within_limits(&params)) {
        return None;
    }
    Some(
        Argon2::default()
            .verify_password(plain.as_bytes(), &parsed)
            .is_ok(),
    )
}

/// A stored bcrypt hash in its one canonical shape, `$2b$NN$` and 53 characters of salt
/// and hash, whose cost is at most `MAX_BCRYPT_COST`. Anything else (`$2b$031$…`,
/// `$2b$+31$…`, which the bcrypt crate would read as cost 31) is not run.
fn bcrypt_within_limits(phc: &str) -> bool {
    let bytes = phc.as_bytes();
    let canonical = bytes.len() == 60
        && bytes[4..6].iter().all(u8::is_ascii_digit)
        && bytes[6] == b'$'
        && bytes[7..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/'));
    canonical
        && phc[4..6]
            .parse::<u32>()
            .is_ok_and(|cost| cost <= MAX_BCRYPT_COST)
}

fn is_bcrypt(phc: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|prefix| phc.starts_with(prefix))
}

/// True when `plain` matches `phc`. With no usable hash, `dummy` is verified instead
/// (the same cost as a real check when `passwords.cost` matches the stored hashes) and
/// the answer is false.
pub fn verify_password(plain: &str, phc: Option<&str>, dummy: &DummyHash) -> bool {
    let result = match phc {
        Some(phc) if is_bcrypt(phc) => bcrypt_within_limits(phc)
            .then(|| bcrypt::verify(plain, phc).ok())
            .flatten(),
        Some(phc) => verify_argon2(plain, phc),
        None => None,
    };
    match result {
        Some(matches) => matches,
        None => {
            dummy.verify(plain);
            false
        }
    }
}

#[cfg(test)]
#[path = "password_tests.rs"]
mod tests;
