//! Where a provider's endpoints are: configured URLs, else the issuer's discovery document
//! (`<issuer>/.well-known/openid-configuration`), fetched once per pipeline (a reload
//! fetches again, or with a shared state takes the copy another instance fetched in the
//! last hour). The issuer's JWKS is cached too (shared for five minutes) and fetched from
//! the issuer again when an id_token names a key id it does not hold. A failed discovery or JWKS fetch is remembered for
//! `FAILURE_MEMORY`, so a flood of callbacks against an unreachable issuer waits on the
//! network once, not once per request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use josekit::jwk::JwkSet;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, OnceCell};

use super::OAuthError;
use super::http_client::get_json;
use crate::config::ProviderConfig;
use crate::state::{Shared, sealed};

/// Least time between two JWKS fetches caused by unknown key ids.
const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(10);
/// How long a failed discovery or JWKS fetch answers for the next callers.
pub const FAILURE_MEMORY: Duration = Duration::from_secs(10);

/// The last failure of a fetch, answered again while it is recent.
#[derive(Default)]
struct RecentFailure(std::sync::Mutex<Option<(Instant, OAuthError)>>);

impl RecentFailure {
    fn recent(&self) -> Option<OAuthError> {
        let slot = self.0.lock().ok()?;
        let (at, error) = slot.as_ref()?;
        (at.elapsed() < FAILURE_MEMORY).then(|| error.clone())
    }

    fn remember(&self, error: &OAuthError) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some((Instant::now(), error.clone()));
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The issuer, exactly as the discovery document states it.
    pub issuer: Option<String>,
    pub authorization: String,
    pub token: String,
    pub userinfo: Option<String>,
    pub jwks_uri: Option<String>,
    /// RFC 9207: the provider adds `iss` to its authorization responses.
    pub iss_parameter_supported: bool,
}

struct CachedJwks {
    keys: Arc<JwkSet>,
    fetched: Instant,
}

/// Per-provider state that lives as long as its pipeline.
#[derive(Default)]
pub struct ProviderRuntime {
    endpoints: OnceCell<Endpoints>,
    discovery_failure: RecentFailure,
    jwks: Mutex<Option<CachedJwks>>,
    jwks_failure: RecentFailure,
    used_round_trips: UsedRoundTrips,
    /// Where the discovery document and JWKS are shared with other instances.
    shared_documents: std::sync::OnceLock<SharedDocuments>,
}

/// The shared state, and the secret that seals what is kept there (a document another
/// party could write into the shared state is never believed).
pub struct SharedDocuments {
    pub shared: Arc<Shared>,
    /// Newest first.
    pub secrets: Vec<String>,
}

/// How long a discovery document is shared.
const DISCOVERY_SHARED_FOR: Duration = Duration::from_secs(3600);
/// How long a JWKS is shared; an instance that meets an unknown `kid` fetches it anew
/// (and shares that).
const JWKS_SHARED_FOR: Duration = Duration::from_secs(300);

/// Round trips already answered, until their check cookies expire: a callback is taken
/// once, so one set of check cookies cannot be replayed to make many token requests.
/// Every entry lives the same time, so the queue is in expiry order and both pruning and
/// eviction take the front: O(1) per callback. It lives as long as the pipeline (a reload
/// starts it anew; each instance has its own).
#[derive(Default)]
struct UsedRoundTrips(std::sync::Mutex<UsedRoundTripsInner>);

#[derive(Default)]
struct UsedRoundTripsInner {
    keys: std::collections::HashSet<[u8; 32]>,
    by_expiry: std::collections::VecDeque<(u64, [u8; 32])>,
}

/// Most round trips remembered; past it the ones closest to expiry are forgotten first.
const MAX_USED_ROUND_TRIPS: usize = 100_000;

impl UsedRoundTrips {
    fn claim(&self, key: [u8; 32], now: u64, expires: u64) -> bool {
        let Ok(mut used) = self.0.lock() else {
            return false;
        };
        while let Some(&(until, oldest)) = used.by_expiry.front() {
            if until > now && used.by_expiry.len() < MAX_USED_ROUND_TRIPS {
                break;
            }
            used.by_expiry.pop_front();
            used.keys.remove(&oldest);
        }
        if !used.keys.insert(key) {
            return false;
        }
        used.by_expiry.push_back((expires, key));
        true
    }
}

impl std::fmt::Debug for ProviderRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderRuntime")
            .field("endpoints", &self.endpoints.get())
            .finish_non_exhaustive()
    }
}

fn text(document: &Value, key: &str) -> Option<String> {
    document
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The endpoints from the configured URLs and, when there is an issuer, its discovery.
async fn resolve(
    runtime: &ProviderRuntime,
    config: &ProviderConfig,
) -> Result<Endpoints, OAuthError> {
    let configured = |endpoint: &Option<crate::config::values::Endpoint>| {
        endpoint
            .as_ref()
            .and_then(|endpoint| endpoint.url())
            .map(str::to_string)
    };
    let discovered = match config.discovery_url() {
        None => None,
        Some(url) => {
            let document = runtime
                .document(&url, DISCOVERY_SHARED_FOR, false)
                .await
                .map_err(|error| {
                    OAuthError::Provider(format!("discovery at {url} failed: {error}"))
                })?;
            if let (Some(expected), Some(found)) = (&config.issuer, text(&document, "issuer"))
                && expected.trim_end_matches('/') != found.trim_end_matches('/')
                && !found.contains(super::id_token::TENANT)
            {
                return Err(OAuthError::Configuration(format!(
                    "discovery names issuer {found}, but the provider is configured with {expected}"
                )));
            }
            Some(document)
        }
    };
    let from_document = |key: &str| discovered.as_ref().and_then(|d| text(d, key));
    let authorization = configured(&config.authorization)
        .or_else(|| from_document("authorization_endpoint"))
        .ok_or_else(|| OAuthError::Configuration("no authorization endpoint".into()))?;
    let token = configured(&config.token)
        .or_else(|| from_document("token_endpoint"))
        .ok_or_else(|| OAuthError::Configuration("no token endpoint".into()))?;
    Ok(Endpoints {
        issuer: from_document("issuer").or_else(|| config.issuer.clone()),
        authorization,
        token,
        userinfo: configured(&config.userinfo).or_else(|| from_document("userinfo_endpoint")),
        jwks_uri: from_document("jwks_uri"),
        iss_parameter_supported: discovered
            .as_ref()
            .and_then(|d| d.get("authorization_response_iss_parameter_supported"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

impl ProviderRuntime {
    /// The endpoints, discovered on first use. A failed discovery is answered again for
    /// `FAILURE_MEMORY`, then tried anew; callers waiting meanwhile get the same failure.
    pub async fn endpoints(&self, config: &ProviderConfig) -> Result<&Endpoints, OAuthError> {
        if let Some(endpoints) = self.endpoints.get() {
            return Ok(endpoints);
        }
        self.endpoints
            .get_or_try_init(|| async {
                if let Some(error) = self.discovery_failure.recent() {
                    return Err(error);
                }
                let resolved = resolve(self, config).await;
                if let Err(error) = &resolved {
                    self.discovery_failure.remember(error);
                }
                resolved
            })
            .await
    }

    /// Marks a round trip (`key`, a hash of its check values) as answered until
    /// `expires`; false when it already was.
    pub fn claim_round_trip(&self, key: [u8; 32], now: u64, expires: u64) -> bool {
        self.used_round_trips.claim(key, now, expires)
    }

    /// The issuer's keys; fetched again when `kid` is not among them (key rotation), at
    /// most once per 10 seconds.
    pub async fn jwks(
        &self,
        endpoints: &Endpoints,
        kid: Option<&str>,
    ) -> Result<Arc<JwkSet>, OAuthError> {
        let Some(uri) = &endpoints.jwks_uri else {
            return Err(OAuthError::Configuration(
                "the issuer publishes no jwks_uri".into(),
            ));
        };
        let mut cache = self.jwks.lock().await;
        if let Some(cached) = cache.as_ref() {
            let known = match kid {
                Some(kid) => !cached.keys.get(kid).is_empty(),
                None => true,
            };
            if known || cached.fetched.elapsed() < JWKS_REFETCH_INTERVAL {
                return Ok(cached.keys.clone());
            }
        }
        if let Some(error) = self.jwks_failure.recent() {
            return Err(error);
        }
        // A first fetch may use what another instance fetched; a refetch (an unknown
        // `kid`) asks the issuer.
        let refetch = cache.is_some();
        let mut fetched = self.fetch_jwks(uri, refetch).await;
        // A shared copy without the key asked for may predate a rotation: ask the issuer.
        if let (Ok(keys), Some(kid), false) = (&fetched, kid, refetch)
            && keys.get(kid).is_empty()
        {
            fetched = self.fetch_jwks(uri, true).await;
        }
        let keys = match fetched {
            Ok(keys) => keys,
            Err(error) => {
                self.jwks_failure.remember(&error);
                return Err(error);
            }
        };
        *cache = Some(CachedJwks {
            keys: keys.clone(),
            fetched: Instant::now(),
        });
        Ok(keys)
    }
}

impl ProviderRuntime {
    /// Shares this provider's public documents through `documents` from now on.
    pub fn share_documents(&self, documents: SharedDocuments) {
        let _ = self.shared_documents.set(documents);
    }

    async fn fetch_jwks(&self, uri: &str, fresh: bool) -> Result<Arc<JwkSet>, OAuthError> {
        let document = self
            .document(uri, JWKS_SHARED_FOR, fresh)
            .await
            .map_err(|error| OAuthError::Provider(format!("JWKS at {uri}: {error}")))?;
        let map = document
            .as_object()
            .cloned()
            .ok_or_else(|| OAuthError::Provider(format!("JWKS at {uri} is not an object")))?;
        JwkSet::from_map(map)
            .map(Arc::new)
            .map_err(|error| OAuthError::Provider(format!("JWKS at {uri}: {error}")))
    }

    /// The JSON document at `url`: the one another instance shared (unless `fresh`), else
    /// fetched and shared for `ttl`.
    async fn document(&self, url: &str, ttl: Duration, fresh: bool) -> Result<Value, String> {
        let documents = self.shared_documents.get();
        let key = format!(
            "document:{}",
            crate::text::lower_hex(&Sha256::digest(url.as_bytes()))
        );
        if let (Some(documents), false) = (documents, fresh) {
            let lookup = key.clone();
            let shared = documents
                .shared
                .call(
                    "documents",
                    |backend| async move { backend.get(&lookup).await },
                )
                .await
                .flatten()
                .and_then(|sealed| sealed::open(&documents.secrets, &key, &sealed))
                .and_then(|plaintext| serde_json::from_slice::<Value>(&plaintext).ok());
            if let Some(document) = shared {
                return Ok(document);
            }
        }
        let document = get_json(url, None, &[])
            .await
            .map_err(|error| error.to_string())?;
        if let Some(documents) = documents
            && let Some(secret) = documents.secrets.first()
            && let Ok(sealed) = sealed::seal(secret, &key, ttl, document.to_string().as_bytes())
        {
            documents
                .shared
                .call("documents", |backend| async move {
                    backend.put(&key, &sealed, ttl).await
                })
                .await;
        }
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_trip_is_claimed_once_until_it_expires() {
        let used = UsedRoundTrips::default();
        let key = [7u8; 32];
        assert!(used.claim(key, 100, 1_000));
        assert!(!used.claim(key, 500, 1_400), "a replay within its lifetime");
        assert!(
            used.claim(key, 1_000, 1_900),
            "claimable again once expired"
        );
        assert!(used.claim([8u8; 32], 1_000, 1_900));
    }

    #[test]
    fn a_full_table_forgets_the_oldest_round_trip_first() {
        let used = UsedRoundTrips::default();
        for index in 0..MAX_USED_ROUND_TRIPS as u64 {
            let mut key = [0u8; 32];
            key[..8].copy_from_slice(&index.to_be_bytes());
            assert!(used.claim(key, 0, 1_000 + index));
        }
        let newest = {
            let mut key = [0u8; 32];
            key[..8].copy_from_slice(&(MAX_USED_ROUND_TRIPS as u64 - 1).to_be_bytes());
            key
        };
        assert!(used.claim([0xff; 32], 0, 10_000_000));
        assert!(
            used.claim([0u8; 32], 0, 10_000_001),
            "the oldest was forgotten"
        );
        assert!(
            !used.claim(newest, 0, 10_000_002),
            "the newest is still known"
        );
        let size = used.0.lock().map(|inner| inner.keys.len()).unwrap_or(0);
        assert!(size <= MAX_USED_ROUND_TRIPS, "{size}");
    }
}
