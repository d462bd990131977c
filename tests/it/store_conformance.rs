//! One behavioural suite for every store, written against the `Adapter` trait: the Auth.js
//! adapter cases plus our own (unique constraints, hashed session and verification tokens,
//! single-use and expiring verification tokens, also under concurrency, purge), each run
//! against a SQLite file, PostgreSQL and MariaDB. A new store is one module that implements
//! `Adapter`, plus a `Backend` here that opens it; the cases that read raw rows (hashing)
//! do so through `TestDatabase`.

use sqlx::Row;

use authgate::store::{
    Account, Adapter, HashedVerificationToken, JwtSession, JwtSessionStatus, NewUser, Revoke,
    Session, SessionKind, StoreError, UnlinkOutcome, User, UserPatch, VerificationToken,
    session_id, token_digest,
};

use crate::support::databases::{Backend, TestDatabase};

const NOW: i64 = 1_800_000_000;

fn new_user(email: &str) -> NewUser {
    NewUser {
        name: Some("Ada Lovelace".into()),
        email: Some(email.into()),
        image: Some("https://example.com/ada.png".into()),
        ..NewUser::default()
    }
}

fn account(user_id: &str, provider: &str, id: &str) -> Account {
    Account {
        user_id: user_id.into(),
        kind: "oidc".into(),
        provider: provider.into(),
        provider_account_id: id.into(),
        access_token: Some("access".into()),
        refresh_token: Some("refresh".into()),
        expires_at: Some(NOW + 3600),
        token_type: Some("bearer".into()),
        scope: Some("openid email".into()),
        id_token: Some("header.payload.signature".into()),
        session_state: None,
        linked_at: Some(NOW - 100),
    }
}

/// Uses the token `token` (hashed with the test secret) of `identifier` at `NOW`.
async fn used(store: &dyn Adapter, identifier: &str, token: &str) -> Option<VerificationToken> {
    store
        .use_verification_token(identifier, &hashed(token), NOW)
        .await
        .unwrap()
}

fn session(token: &str, user_id: &str, expires: i64) -> Session {
    Session {
        session_token: token.into(),
        user_id: user_id.into(),
        expires,
        browser_binding: None,
        created_at: Some(NOW - 10),
        last_seen: Some(NOW - 10),
        user_agent: Some("Test/1.0".into()),
    }
}

fn jwt_session(sid: &str, user_id: &str, created_at: i64) -> JwtSession {
    JwtSession {
        sid: sid.into(),
        user_id: user_id.into(),
        created_at,
        expires: NOW + 3600,
        user_agent: Some("Browser/2.0".into()),
    }
}

async fn create_user_is_found_by_id_and_email(store: &dyn Adapter, _: &TestDatabase) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    assert_eq!(user.id.len(), 36, "a generated uuid");
    assert_eq!(store.get_user(&user.id).await.unwrap(), Some(user.clone()));
    assert_eq!(
        store.get_user_by_email("ada@example.com").await.unwrap(),
        Some(user)
    );
}

async fn unknown_users_are_none(store: &dyn Adapter, _: &TestDatabase) {
    assert_eq!(store.get_user("missing").await.unwrap(), None);
    assert_eq!(
        store.get_user_by_email("no@example.com").await.unwrap(),
        None
    );
    assert_eq!(
        store.get_user_by_account("github", "1").await.unwrap(),
        None
    );
}

/// Auth.js lowercases emails before every lookup and write: one mailbox is one user,
/// whatever spelling a provider or a form sends.
async fn emails_are_stored_and_found_in_one_spelling(store: &dyn Adapter, _: &TestDatabase) {
    let ada = store
        .create_user(new_user(" Ada@Example.COM "))
        .await
        .unwrap();
    assert_eq!(ada.email.as_deref(), Some("ada@example.com"));
    for spelling in ["ada@example.com", "ADA@example.com", " Ada@EXAMPLE.com\n"] {
        let found = store.get_user_by_email(spelling).await.unwrap();
        assert_eq!(
            found.map(|user| user.id),
            Some(ada.id.clone()),
            "{spelling:?}"
        );
    }
    assert!(matches!(
        store.create_user(new_user("ADA@example.com")).await,
        Err(StoreError::Conflict(_))
    ));
    let updated = store
        .update_user(
            &ada.id,
            UserPatch {
                email: Some(Some("Grace@Example.com".into())),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.email.as_deref(), Some("grace@example.com"));
    let stored = store.get_user_by_email("GRACE@example.com").await.unwrap();
    assert_eq!(
        stored.and_then(|user| user.email).as_deref(),
        Some("grace@example.com")
    );
    assert_eq!(store.get_user_by_email("  ").await.unwrap(), None);
}

/// `respell_email` (for `users normalize-emails`) changes only the email, only while the
/// row has the spelling seen, and never onto another user's address.
async fn an_email_is_respelled_only_from_the_spelling_seen(store: &dyn Adapter, db: &TestDatabase) {
    let mut connection = db.connection().await;
    for statement in [
        "INSERT INTO users (id, email, email_verified) VALUES ('u-old', 'Old@Example.com', 7)",
        "INSERT INTO users (id, email) VALUES ('u-taken', 'taken@example.com')",
        "INSERT INTO users (id, email) VALUES ('u-dup', 'Taken@Example.com')",
    ] {
        sqlx::query(statement)
            .execute(&mut connection)
            .await
            .unwrap();
    }
    assert!(
        !store
            .respell_email("u-old", "old@example.com", "old@example.com")
            .await
            .unwrap()
    );
    assert!(
        store
            .respell_email("u-old", "Old@Example.com", "old@example.com")
            .await
            .unwrap()
    );
    let old = store.get_user("u-old").await.unwrap().unwrap();
    assert_eq!(old.email.as_deref(), Some("old@example.com"));
    assert_eq!(old.email_verified, Some(7));
    assert!(matches!(
        store
            .respell_email("u-dup", "Taken@Example.com", "taken@example.com")
            .await,
        Err(StoreError::Conflict(_))
    ));
    let dup = store.get_user("u-dup").await.unwrap().unwrap();
    assert_eq!(dup.email.as_deref(), Some("Taken@Example.com"));
}

async fn users_with_a_given_id_keep_it(store: &dyn Adapter, _: &TestDatabase) {
    let user = store
        .create_user(NewUser {
            id: Some("user-7".into()),
            ..new_user("seven@example.com")
        })
        .await
        .unwrap();
    assert_eq!(user.id, "user-7");
    assert!(store.get_user("user-7").await.unwrap().is_some());
}

async fn update_user_changes_only_the_given_fields(store: &dyn Adapter, _: &TestDatabase) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    let updated = store
        .update_user(
            &user.id,
            UserPatch {
                name: Some(Some("Ada King".into())),
                email_verified: Some(Some(NOW)),
                image: Some(None),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some("Ada King"));
    assert_eq!(updated.email.as_deref(), Some("ada@example.com"));
    assert_eq!(updated.email_verified, Some(NOW));
    assert_eq!(updated.image, None);
    assert_eq!(store.get_user(&user.id).await.unwrap(), Some(updated));
}

async fn update_of_an_unknown_user_is_not_found(store: &dyn Adapter, _: &TestDatabase) {
    let result = store.update_user("missing", UserPatch::default()).await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
}

async fn emails_are_unique(store: &dyn Adapter, _: &TestDatabase) {
    store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    let second = store.create_user(new_user("ada@example.com")).await;
    assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
}

async fn users_without_email_may_be_many(store: &dyn Adapter, _: &TestDatabase) {
    for _ in 0..2 {
        store
            .create_user(NewUser {
                name: Some("anonymous".into()),
                ..NewUser::default()
            })
            .await
            .unwrap();
    }
}

async fn linked_accounts_find_their_user(store: &dyn Adapter, _: &TestDatabase) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    let linked = store
        .link_account(account(&user.id, "github", "gh-1"))
        .await
        .unwrap();
    assert_eq!(
        store.get_user_by_account("github", "gh-1").await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(
        store.get_account("github", "gh-1").await.unwrap(),
        Some(linked.clone())
    );
    assert_eq!(
        store.get_accounts_of_user(&user.id).await.unwrap(),
        vec![linked]
    );
    assert_eq!(
        store.get_user_by_account("gitlab", "gh-1").await.unwrap(),
        None
    );
}

async fn a_provider_identity_links_to_one_user_only(store: &dyn Adapter, _: &TestDatabase) {
    let ada = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    let eve = store
        .create_user(new_user("eve@example.com"))
        .await
        .unwrap();
    store
        .link_account(account(&ada.id, "github", "gh-1"))
        .await
        .unwrap();
    let stolen = store.link_account(account(&eve.id, "github", "gh-1")).await;
    assert!(matches!(stolen, Err(StoreError::Conflict(_))), "{stolen:?}");
}

async fn accounts_need_an_existing_user(store: &dyn Adapter, _: &TestDatabase) {
    let orphan = store.link_account(account("missing", "github", "1")).await;
    assert!(orphan.is_err(), "a foreign key refuses it");
}

async fn unlink_account_removes_only_that_link(store: &dyn Adapter, _: &TestDatabase) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    store
        .link_account(account(&user.id, "github", "gh-1"))
        .await
        .unwrap();
    store
        .link_account(account(&user.id, "google", "g-1"))
        .await
        .unwrap();
    let removed = store.unlink_account("github", "gh-1").await.unwrap();
    assert_eq!(removed.map(|a| a.provider), Some("github".into()));
    assert_eq!(
        store.get_user_by_account("github", "gh-1").await.unwrap(),
        None
    );
    assert!(
        store
            .get_user_by_account("google", "g-1")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.unlink_account("github", "gh-1").await.unwrap(), None);
}

async fn account_tokens_are_replaced_in_place(store: &dyn Adapter, _: &TestDatabase) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    let mut linked = store
        .link_account(account(&user.id, "oidc", "sub-1"))
        .await
        .unwrap();
    linked.access_token = Some("access-2".into());
    linked.refresh_token = Some("refresh-2".into());
    linked.expires_at = Some(NOW + 7200);
    // Long tokens fit (id_tokens of several kilobytes are common).
    linked.id_token = Some("x".repeat(16_000));
    store.update_account_tokens(&linked).await.unwrap();
    assert_eq!(
        store.get_account("oidc", "sub-1").await.unwrap(),
        Some(linked)
    );
    let gone = account(&user.id, "oidc", "other");
    assert!(matches!(
        store.update_account_tokens(&gone).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn tokens_a_new_response_leaves_out_are_kept(store: &dyn Adapter, _: &TestDatabase) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    let first = store
        .link_account(account(&user.id, "google", "g-1"))
        .await
        .unwrap();
    // A second sign-in: Google sends no refresh token after the first consent.
    let again = Account {
        access_token: Some("access-2".into()),
        refresh_token: None,
        id_token: None,
        scope: None,
        ..first.clone()
    };
    store.update_account_tokens(&again).await.unwrap();
    let stored = store.get_account("google", "g-1").await.unwrap().unwrap();
    assert_eq!(stored.access_token.as_deref(), Some("access-2"));
    assert_eq!(stored.refresh_token, first.refresh_token);
    assert_eq!(stored.id_token, first.id_token);
    assert_eq!(stored.scope, first.scope);
}

async fn sessions_are_found_with_their_user(store: &dyn Adapter, _: &TestDatabase) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    let created = store
        .create_session(session("token-1", &user.id, NOW + 60))
        .await
        .unwrap();
    let (found, found_user) = store
        .get_session_and_user("token-1")
        .await
        .unwrap()
        .expect("found");
    assert_eq!(found, created);
    assert_eq!(found_user, user);
}

async fn a_sessions_browser_binding_is_kept_through_every_call(
    store: &dyn Adapter,
    _: &TestDatabase,
) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    let binding = "ab".repeat(32);
    let created = store
        .create_session(Session {
            browser_binding: Some(binding.clone()),
            ..session("token-b", &user.id, NOW + 60)
        })
        .await
        .unwrap();
    let (found, _) = store
        .get_session_and_user("token-b")
        .await
        .unwrap()
        .expect("found");
    assert_eq!(found, created);
    let updated = store.update_session("token-b", NOW + 120).await.unwrap();
    assert_eq!(
        updated.and_then(|s| s.browser_binding).as_deref(),
        Some(binding.as_str())
    );
    let deleted = store.delete_session("token-b").await.unwrap();
    assert_eq!(
        deleted.and_then(|s| s.browser_binding).as_deref(),
        Some(binding.as_str())
    );
}

async fn an_invalid_session_token_is_none(store: &dyn Adapter, _: &TestDatabase) {
    assert_eq!(store.get_session_and_user("nope").await.unwrap(), None);
    assert_eq!(store.update_session("nope", NOW).await.unwrap(), None);
    assert_eq!(store.delete_session("nope").await.unwrap(), None);
}

async fn update_session_moves_the_expiry(store: &dyn Adapter, _: &TestDatabase) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    store
        .create_session(session("token-1", &user.id, NOW + 60))
        .await
        .unwrap();
    let updated = store
        .update_session("token-1", NOW + 600)
        .await
        .unwrap()
        .expect("updated");
    assert_eq!(updated.expires, NOW + 600);
    let (found, _) = store
        .get_session_and_user("token-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.expires, NOW + 600);
}

async fn delete_session_removes_it(store: &dyn Adapter, _: &TestDatabase) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    store
        .create_session(session("token-1", &user.id, NOW + 60))
        .await
        .unwrap();
    let deleted = store.delete_session("token-1").await.unwrap();
    assert_eq!(deleted.map(|s| s.user_id), Some(user.id));
    assert_eq!(store.get_session_and_user("token-1").await.unwrap(), None);
}

async fn session_tokens_are_stored_as_sha256_only(store: &dyn Adapter, db: &TestDatabase) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    let token = "secret-session-token-value";
    store
        .create_session(session(token, &user.id, NOW + 60))
        .await
        .unwrap();
    let mut connection = db.connection().await;
    let rows = sqlx::query("SELECT session_token FROM sessions")
        .fetch_all(&mut connection)
        .await
        .unwrap();
    let stored: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
    assert_eq!(stored, vec![hex_sha256(token)]);
    assert!(!stored.iter().any(|value| value.contains(token)));
}

fn hex_sha256(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

async fn session_tokens_are_unique(store: &dyn Adapter, _: &TestDatabase) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    store
        .create_session(session("token-1", &user.id, NOW + 60))
        .await
        .unwrap();
    let again = store
        .create_session(session("token-1", &user.id, NOW + 60))
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

async fn delete_user_cascades_to_accounts_and_sessions(store: &dyn Adapter, _: &TestDatabase) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    store
        .link_account(account(&user.id, "github", "gh-1"))
        .await
        .unwrap();
    store
        .create_session(session("token-1", &user.id, NOW + 60))
        .await
        .unwrap();
    let deleted = store.delete_user(&user.id).await.unwrap();
    assert_eq!(deleted, Some(user.clone()));
    assert_eq!(store.get_user(&user.id).await.unwrap(), None);
    assert_eq!(store.get_account("github", "gh-1").await.unwrap(), None);
    assert_eq!(store.get_session_and_user("token-1").await.unwrap(), None);
    assert_eq!(store.delete_user(&user.id).await.unwrap(), None);
}

/// The secret the emailed tokens are hashed with, as `AUTH_SECRET` would be.
const SECRET: &str = "verification-secret";

fn hashed(token: &str) -> HashedVerificationToken {
    HashedVerificationToken::new(token, SECRET)
}

fn verification(identifier: &str, token: &str, expires: i64) -> VerificationToken {
    VerificationToken {
        identifier: identifier.into(),
        token: hashed(token),
        expires,
    }
}

/// Every `(identifier, token)` column pair, read with raw SQL.
async fn stored_verification_tokens(db: &TestDatabase) -> Vec<(String, String)> {
    let mut connection = db.connection().await;
    sqlx::query("SELECT identifier, token FROM verification_tokens ORDER BY identifier")
        .fetch_all(&mut connection)
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

async fn verification_tokens_are_stored_as_sha256_of_token_and_secret_only(
    store: &dyn Adapter,
    db: &TestDatabase,
) {
    let token = "clear-emailed-token-value";
    store
        .create_verification_token(verification("ada@example.com", token, NOW + 60))
        .await
        .unwrap();
    let stored = stored_verification_tokens(db).await;
    // What Auth.js hashes: the token then the secret, no separator; lowercase hex.
    let expected = hex_sha256(&format!("{token}{SECRET}"));
    assert_eq!(stored, vec![("ada@example.com".to_string(), expected)]);
    for (_, value) in &stored {
        assert!(!value.contains(token), "the clear token is stored: {value}");
        assert!(!value.contains(SECRET), "the secret is stored: {value}");
    }
}

async fn verification_tokens_are_used_once(store: &dyn Adapter, _: &TestDatabase) {
    let created = store
        .create_verification_token(verification("ada@example.com", "token-1", NOW + 60))
        .await
        .unwrap();
    assert_eq!(
        used(store, "ada@example.com", "token-1").await,
        Some(created)
    );
    assert_eq!(used(store, "ada@example.com", "token-1").await, None);
}

async fn expired_verification_tokens_are_refused_and_removed(
    store: &dyn Adapter,
    db: &TestDatabase,
) {
    // (expires, usable at NOW): a token is refused from its expiry second on, the same
    // boundary as the purge and as database sessions.
    let cases = [
        (NOW - 86_400, false),
        (NOW - 1, false),
        (NOW, false),
        (NOW + 1, true),
        (NOW + 86_400, true),
    ];
    for (expires, usable) in cases {
        let identifier = format!("expires-{expires}@example.com");
        let created = store
            .create_verification_token(verification(&identifier, "token-1", expires))
            .await
            .unwrap();
        let used = store
            .use_verification_token(&identifier, &hashed("token-1"), NOW)
            .await
            .unwrap();
        assert_eq!(used, usable.then_some(created), "expires {expires}");
        // Used or refused, the row is gone: an earlier clock cannot revive it.
        assert!(
            !stored_verification_tokens(db)
                .await
                .iter()
                .any(|(stored, _)| *stored == identifier),
            "expires {expires}: still stored"
        );
        assert_eq!(
            store
                .use_verification_token(&identifier, &hashed("token-1"), expires - 1)
                .await
                .unwrap(),
            None,
            "expires {expires}"
        );
    }
}

async fn verification_token_with_the_wrong_identifier_is_none(
    store: &dyn Adapter,
    _: &TestDatabase,
) {
    store
        .create_verification_token(verification("ada@example.com", "token-1", NOW + 60))
        .await
        .unwrap();
    assert_eq!(used(store, "eve@example.com", "token-1").await, None);
    // The failed attempt did not consume it.
    assert!(used(store, "ada@example.com", "token-1").await.is_some());
}

async fn a_verification_token_hashed_with_another_secret_is_not_found(
    store: &dyn Adapter,
    _: &TestDatabase,
) {
    store
        .create_verification_token(verification("ada@example.com", "token-1", NOW + 60))
        .await
        .unwrap();
    let other_secrets = [
        // A rotated or another deployment's secret.
        "another-secret",
        // The clear token's bare SHA-256.
        "",
        // Secrets are compared byte for byte.
        "VERIFICATION-SECRET",
        "verification-secret\n",
    ];
    for secret in other_secrets {
        let token = HashedVerificationToken::new("token-1", secret);
        assert_eq!(
            store
                .use_verification_token("ada@example.com", &token, NOW)
                .await
                .unwrap(),
            None,
            "secret {secret:?}"
        );
    }
    // None of the misses consumed it.
    assert!(used(store, "ada@example.com", "token-1").await.is_some());
}

async fn the_same_token_for_two_identifiers_is_independent(store: &dyn Adapter, _: &TestDatabase) {
    let ada = store
        .create_verification_token(verification("ada@example.com", "token-1", NOW + 60))
        .await
        .unwrap();
    let eve = store
        .create_verification_token(verification("eve@example.com", "token-1", NOW + 120))
        .await
        .unwrap();
    assert_eq!(used(store, "ada@example.com", "token-1").await, Some(ada));
    // Using Ada's left Eve's, with its own expiry.
    assert_eq!(used(store, "eve@example.com", "token-1").await, Some(eve));
    assert_eq!(used(store, "ada@example.com", "token-1").await, None);
}

async fn concurrent_uses_of_a_verification_token_succeed_once(
    store: &dyn Adapter,
    _: &TestDatabase,
) {
    store
        .create_verification_token(verification("ada@example.com", "token-1", NOW + 60))
        .await
        .unwrap();
    let token = hashed("token-1");
    let attempts = (0..8).map(|_| store.use_verification_token("ada@example.com", &token, NOW));
    let results = futures::future::join_all(attempts).await;
    let winners = results
        .into_iter()
        .map(Result::unwrap)
        .filter(Option::is_some)
        .count();
    assert_eq!(winners, 1);
}

async fn verification_tokens_are_unique_per_identifier(store: &dyn Adapter, _: &TestDatabase) {
    store
        .create_verification_token(verification("ada@example.com", "token-1", NOW + 60))
        .await
        .unwrap();
    let again = store
        .create_verification_token(verification("ada@example.com", "token-1", NOW + 60))
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    store
        .create_verification_token(verification("eve@example.com", "token-1", NOW + 60))
        .await
        .unwrap();
}

async fn purge_removes_only_expired_rows(store: &dyn Adapter, _: &TestDatabase) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    store
        .create_session(session("old", &user.id, NOW - 1))
        .await
        .unwrap();
    store
        .create_session(session("live", &user.id, NOW + 60))
        .await
        .unwrap();
    store
        .create_verification_token(verification("ada@example.com", "old", NOW))
        .await
        .unwrap();
    store
        .create_verification_token(verification("ada@example.com", "live", NOW + 1))
        .await
        .unwrap();
    let purged = store.purge_expired(NOW).await.unwrap();
    assert_eq!((purged.sessions, purged.verification_tokens), (1, 1));
    assert!(store.get_session_and_user("live").await.unwrap().is_some());
    assert!(store.get_session_and_user("old").await.unwrap().is_none());
    assert!(used(store, "ada@example.com", "live").await.is_some());
}

async fn text_round_trips_unchanged(store: &dyn Adapter, _: &TestDatabase) {
    let user = store
        .create_user(NewUser {
            name: Some("Zoë Łukasiewicz 李 🦀".into()),
            ..new_user("zoe@example.com")
        })
        .await
        .unwrap();
    assert_eq!(
        store
            .get_user(&user.id)
            .await
            .unwrap()
            .unwrap()
            .name
            .as_deref(),
        Some("Zoë Łukasiewicz 李 🦀")
    );
}

async fn migrations_run_twice_without_harm(store: &dyn Adapter, db: &TestDatabase) {
    // Opening a store migrates it; migrations belong to the SQL store, not to the adapter
    // contract, so the second run goes through a second `SqlStore` on the same database.
    let again = db.store().await;
    again.migrate().await.unwrap();
    again.ping().await.unwrap();
    store.ping().await.unwrap();
}

/// Generates one test per (case, backend).
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $case() {
                super::run(super::Backend::Sqlite, |store, db| Box::pin(super::$case(store, db))).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $case() {
                super::run(super::Backend::Postgres, |store, db| Box::pin(super::$case(store, db))).await;
            })*
        }
        mod mysql {
            $(#[tokio::test]
            async fn $case() {
                super::run(super::Backend::MySql, |store, db| Box::pin(super::$case(store, db))).await;
            })*
        }
    };
}

type Case = for<'a> fn(
    &'a dyn Adapter,
    &'a TestDatabase,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

async fn run(backend: Backend, case: Case) {
    let db = TestDatabase::new(backend).await;
    let store = db.store().await;
    // Every case sees the store only through the adapter trait.
    case(&store as &dyn Adapter, &db).await;
    store.close().await;
}

async fn disabled_users_read_as_disabled_until_enabled(store: &dyn Adapter, _: &TestDatabase) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    store
        .create_session(session("token-d", &user.id, NOW + 60))
        .await
        .unwrap();
    let disabled = store.set_user_disabled(&user.id, Some(NOW)).await.unwrap();
    assert_eq!(disabled.and_then(|u| u.disabled_at), Some(NOW));
    let (_, read) = store
        .get_session_and_user("token-d")
        .await
        .unwrap()
        .expect("found");
    assert_eq!(read.disabled_at, Some(NOW));
    let by_email = store
        .get_user_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_email.disabled_at, Some(NOW));
    let enabled = store.set_user_disabled(&user.id, None).await.unwrap();
    assert_eq!(enabled.map(|u| u.disabled_at), Some(None));
    assert_eq!(
        store.set_user_disabled("nobody", Some(NOW)).await.unwrap(),
        None
    );
}

async fn users_are_listed_by_id_a_page_at_a_time(store: &dyn Adapter, _: &TestDatabase) {
    for id in ["u3", "u1", "u2"] {
        store
            .create_user(NewUser {
                id: Some(id.into()),
                ..NewUser::default()
            })
            .await
            .unwrap();
    }
    let ids = |users: Vec<User>| users.into_iter().map(|u| u.id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_users(2, 0).await.unwrap()), ["u1", "u2"]);
    assert_eq!(ids(store.list_users(2, 2).await.unwrap()), ["u3"]);
}

async fn linked_accounts_say_when_and_carry_no_tokens(store: &dyn Adapter, _: &TestDatabase) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    store
        .link_account(account(&user.id, "github", "1"))
        .await
        .unwrap();
    store
        .link_account(Account {
            linked_at: None,
            ..account(&user.id, "gitlab", "2")
        })
        .await
        .unwrap();
    let linked = store.linked_accounts(&user.id).await.unwrap();
    let summary: Vec<(&str, &str, Option<i64>)> = linked
        .iter()
        .map(|a| (a.provider.as_str(), a.kind.as_str(), a.linked_at))
        .collect();
    assert_eq!(
        summary,
        // Oldest first; an account linked before times were recorded counts as oldest.
        [
            ("gitlab", "oidc", None),
            ("github", "oidc", Some(NOW - 100))
        ]
    );
    assert!(
        linked
            .iter()
            .all(|a| a.access_token.is_none() && a.refresh_token.is_none() && a.id_token.is_none())
    );
}

async fn jwt_sessions_are_tracked_seen_and_revoked(store: &dyn Adapter, _: &TestDatabase) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    store
        .create_jwt_session(jwt_session("sid-1", &user.id, NOW))
        .await
        .unwrap();
    let status = store
        .jwt_session_status("sid-1", NOW + 5, NOW + 7200)
        .await
        .unwrap()
        .expect("tracked");
    assert_eq!(
        status,
        JwtSessionStatus {
            user_id: user.id.clone(),
            created_at: NOW,
            disabled: false,
            not_before: None,
        }
    );
    let listed = store.sessions_of_user(&user.id, NOW + 5).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].kind, SessionKind::Jwt);
    assert_eq!(listed[0].last_seen, Some(NOW + 5));
    assert_eq!(listed[0].expires, NOW + 7200);
    assert_eq!(listed[0].user_agent.as_deref(), Some("Browser/2.0"));
    assert_eq!(listed[0].id, session_id(SessionKind::Jwt, "sid-1"));
    store.set_user_disabled(&user.id, Some(NOW)).await.unwrap();
    let disabled = store
        .jwt_session_status("sid-1", NOW + 6, NOW + 7200)
        .await
        .unwrap();
    assert_eq!(disabled.map(|s| s.disabled), Some(true));
    let revoked = store
        .revoke_sessions(&user.id, Revoke::One(&listed[0].id), NOW + 7)
        .await
        .unwrap();
    assert_eq!(revoked, 1);
    assert_eq!(
        store
            .jwt_session_status("sid-1", NOW + 8, NOW + 7200)
            .await
            .unwrap(),
        None
    );
    // An unknown sid, and one that expired, are not sessions either.
    assert_eq!(
        store
            .jwt_session_status("sid-x", NOW, NOW + 1)
            .await
            .unwrap(),
        None
    );
    store
        .create_jwt_session(jwt_session("sid-old", &user.id, NOW))
        .await
        .unwrap();
    assert_eq!(
        store
            .jwt_session_status("sid-old", NOW + 4000, NOW + 9000)
            .await
            .unwrap(),
        None
    );
}

async fn a_users_sessions_of_both_kinds_are_listed_newest_first(
    store: &dyn Adapter,
    _: &TestDatabase,
) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    let other = store
        .create_user(new_user("bob@example.com"))
        .await
        .unwrap();
    store
        .create_session(session("token-a", &user.id, NOW + 60))
        .await
        .unwrap();
    store
        .create_session(session("token-old", &user.id, NOW - 1))
        .await
        .unwrap();
    store
        .create_session(session("token-b", &other.id, NOW + 60))
        .await
        .unwrap();
    store
        .create_jwt_session(jwt_session("sid-a", &user.id, NOW))
        .await
        .unwrap();
    store.touch_session("token-a", NOW + 1).await.unwrap();
    let listed = store.sessions_of_user(&user.id, NOW).await.unwrap();
    let kinds: Vec<SessionKind> = listed.iter().map(|s| s.kind).collect();
    assert_eq!(kinds, [SessionKind::Jwt, SessionKind::Database]);
    let database = &listed[1];
    assert_eq!(
        database.id,
        session_id(SessionKind::Database, &token_digest("token-a"))
    );
    assert_eq!(
        (database.created_at, database.last_seen),
        (Some(NOW - 10), Some(NOW + 1))
    );
    assert_eq!(database.user_agent.as_deref(), Some("Test/1.0"));
    assert!(listed.iter().all(|s| s.user_id == user.id));
}

async fn revoking_others_all_or_one_touches_only_that_users_sessions(
    store: &dyn Adapter,
    _: &TestDatabase,
) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    let other = store
        .create_user(new_user("bob@example.com"))
        .await
        .unwrap();
    store
        .create_session(session("token-a", &user.id, NOW + 60))
        .await
        .unwrap();
    store
        .create_jwt_session(jwt_session("sid-a", &user.id, NOW))
        .await
        .unwrap();
    store
        .create_jwt_session(jwt_session("sid-b", &user.id, NOW))
        .await
        .unwrap();
    store
        .create_jwt_session(jwt_session("sid-o", &other.id, NOW))
        .await
        .unwrap();
    let keep = session_id(SessionKind::Jwt, "sid-a");
    // Another user's session id revokes nothing.
    let foreign = session_id(SessionKind::Jwt, "sid-o");
    assert_eq!(
        store
            .revoke_sessions(&user.id, Revoke::One(&foreign), NOW)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .revoke_sessions(&user.id, Revoke::AllBut(&keep), NOW)
            .await
            .unwrap(),
        2
    );
    let left: Vec<String> = store
        .sessions_of_user(&user.id, NOW)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(left, [keep]);
    assert_eq!(
        store
            .revoke_sessions(&user.id, Revoke::All, NOW + 9)
            .await
            .unwrap(),
        1
    );
    assert!(
        store
            .sessions_of_user(&user.id, NOW)
            .await
            .unwrap()
            .is_empty()
    );
    // "Not before" now: set for this user only.
    store
        .create_jwt_session(jwt_session("sid-c", &user.id, NOW + 10))
        .await
        .unwrap();
    let status = store
        .jwt_session_status("sid-c", NOW + 10, NOW + 99)
        .await
        .unwrap();
    assert_eq!(status.and_then(|s| s.not_before), Some(NOW + 9));
    let theirs = store
        .jwt_session_status("sid-o", NOW, NOW + 99)
        .await
        .unwrap();
    assert_eq!(theirs.map(|s| s.not_before), Some(None));
}

async fn deleting_a_user_ends_their_jwt_sessions_and_purge_ends_expired_ones(
    store: &dyn Adapter,
    _: &TestDatabase,
) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    store
        .create_jwt_session(jwt_session("sid-a", &user.id, NOW))
        .await
        .unwrap();
    store
        .create_jwt_session(JwtSession {
            expires: NOW - 1,
            ..jwt_session("sid-expired", "credentials-user", NOW - 100)
        })
        .await
        .unwrap();
    store.delete_user(&user.id).await.unwrap();
    assert_eq!(
        store
            .jwt_session_status("sid-a", NOW, NOW + 1)
            .await
            .unwrap(),
        None
    );
    let purged = store.purge_expired(NOW).await.unwrap();
    assert_eq!(purged.sessions, 1);
}

async fn concurrent_unlinks_never_remove_the_last_usable_account(
    store: &dyn Adapter,
    _: &TestDatabase,
) {
    let user = store
        .create_user(new_user("ada@example.com"))
        .await
        .unwrap();
    for (provider, id) in [
        ("github", "1"),
        ("gitlab", "2"),
        ("google", "3"),
        ("removed", "4"),
    ] {
        store
            .link_account(account(&user.id, provider, id))
            .await
            .unwrap();
    }
    let usable: Vec<String> = ["github", "gitlab", "google"].map(String::from).to_vec();
    let unlink = |provider: &'static str, id: &'static str| {
        let usable = usable.clone();
        let user_id = user.id.clone();
        async move {
            store
                .unlink_account_of_user(&user_id, provider, id, &usable, true)
                .await
                .unwrap()
        }
    };
    let outcomes = futures::future::join_all([
        unlink("github", "1"),
        unlink("gitlab", "2"),
        unlink("google", "3"),
    ])
    .await;
    let unlinked = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, UnlinkOutcome::Unlinked(_)))
        .count();
    let refused = outcomes
        .iter()
        .filter(|outcome| **outcome == UnlinkOutcome::LastSignInMethod)
        .count();
    assert_eq!((unlinked, refused), (2, 1), "{outcomes:?}");
    // The account of a provider no longer configured does not count as a way in.
    let left: Vec<String> = store
        .linked_accounts(&user.id)
        .await
        .unwrap()
        .into_iter()
        .map(|account| account.provider)
        .filter(|provider| provider != "removed")
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    // Without the need to keep one (email sign-in remains), the last one goes; an
    // account the user does not have is NotLinked.
    let last = left[0].clone();
    let id = match last.as_str() {
        "github" => "1",
        "gitlab" => "2",
        _ => "3",
    };
    let outcome = store
        .unlink_account_of_user(&user.id, &last, id, &usable, false)
        .await
        .unwrap();
    assert!(matches!(outcome, UnlinkOutcome::Unlinked(_)), "{outcome:?}");
    let outcome = store
        .unlink_account_of_user(&user.id, "github", "999", &usable, false)
        .await
        .unwrap();
    assert_eq!(outcome, UnlinkOutcome::NotLinked);
}

conformance!(
    concurrent_unlinks_never_remove_the_last_usable_account,
    disabled_users_read_as_disabled_until_enabled,
    users_are_listed_by_id_a_page_at_a_time,
    linked_accounts_say_when_and_carry_no_tokens,
    jwt_sessions_are_tracked_seen_and_revoked,
    a_users_sessions_of_both_kinds_are_listed_newest_first,
    revoking_others_all_or_one_touches_only_that_users_sessions,
    deleting_a_user_ends_their_jwt_sessions_and_purge_ends_expired_ones,
    create_user_is_found_by_id_and_email,
    unknown_users_are_none,
    emails_are_stored_and_found_in_one_spelling,
    an_email_is_respelled_only_from_the_spelling_seen,
    users_with_a_given_id_keep_it,
    update_user_changes_only_the_given_fields,
    update_of_an_unknown_user_is_not_found,
    emails_are_unique,
    users_without_email_may_be_many,
    linked_accounts_find_their_user,
    a_provider_identity_links_to_one_user_only,
    accounts_need_an_existing_user,
    unlink_account_removes_only_that_link,
    account_tokens_are_replaced_in_place,
    tokens_a_new_response_leaves_out_are_kept,
    sessions_are_found_with_their_user,
    a_sessions_browser_binding_is_kept_through_every_call,
    an_invalid_session_token_is_none,
    update_session_moves_the_expiry,
    delete_session_removes_it,
    session_tokens_are_stored_as_sha256_only,
    session_tokens_are_unique,
    delete_user_cascades_to_accounts_and_sessions,
    verification_tokens_are_stored_as_sha256_of_token_and_secret_only,
    verification_tokens_are_used_once,
    expired_verification_tokens_are_refused_and_removed,
    verification_token_with_the_wrong_identifier_is_none,
    a_verification_token_hashed_with_another_secret_is_not_found,
    the_same_token_for_two_identifiers_is_independent,
    concurrent_uses_of_a_verification_token_succeed_once,
    verification_tokens_are_unique_per_identifier,
    purge_removes_only_expired_rows,
    text_round_trips_unchanged,
    migrations_run_twice_without_harm,
);
