//! The store a pipeline uses. The pool lives across reloads: a reload with the same
//! database settings keeps it, and one that changes them connects (and migrates) the new
//! database before anything is swapped, so a bad URL never takes the running server down.
//!
//! Store work that is not a request (connecting, migrating, the purge) runs on a small
//! runtime owned here, so it can be driven from the synchronous reload path (the watcher
//! thread, SIGHUP) and keeps running whatever the HTTP workers do.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use super::sql::{ConnectError, SqlStore, StoreSettings};
use crate::config::model::DatabaseConfig;

pub struct StoreRegistry {
    runtime: Option<tokio::runtime::Runtime>,
    current: Mutex<Option<Arc<SqlStore>>>,
}

impl std::fmt::Debug for StoreRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreRegistry").finish_non_exhaustive()
    }
}

impl StoreRegistry {
    pub fn new() -> std::io::Result<StoreRegistry> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("authgate-store")
            .enable_all()
            .build()?;
        Ok(StoreRegistry {
            runtime: Some(runtime),
            current: Mutex::new(None),
        })
    }

    /// The runtime for background store work.
    pub fn handle(&self) -> Option<tokio::runtime::Handle> {
        self.runtime
            .as_ref()
            .map(|runtime| runtime.handle().clone())
    }

    /// The store in use, if any.
    pub fn current(&self) -> Option<Arc<SqlStore>> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The store for `database`: the running one when its settings are unchanged, else a
    /// newly connected and migrated one. Call it outside async code (it blocks).
    pub fn store_for(
        &self,
        database: Option<&DatabaseConfig>,
        config_dir: &Path,
    ) -> Result<Option<Arc<SqlStore>>, ConnectError> {
        let Some(database) = database else {
            return Ok(None);
        };
        let settings = StoreSettings::new(database, config_dir)?;
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(store) = current.as_ref()
            && *store.settings() == settings
        {
            return Ok(Some(store.clone()));
        }
        let Some(runtime) = self.runtime.as_ref() else {
            return Err(ConnectError::Connect {
                dialect: settings.dialect.name(),
                reason: "the store runtime has stopped".into(),
            });
        };
        let store = Arc::new(runtime.block_on(SqlStore::open(settings))?);
        tracing::info!(
            dialect = store.dialect().name(),
            "database connected and migrated"
        );
        *current = Some(store.clone());
        Ok(Some(store))
    }
}

impl Drop for StoreRegistry {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which is not allowed inside async code; the last
        // reference may well be dropped there.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
