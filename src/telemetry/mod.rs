//! What authgate tells its operators beyond the request log: Prometheus metrics
//! (`metrics`), the audit log (`audit`), and a warning about costly backtraces
//! (`backtraces`).

pub mod audit;
pub mod backtraces;
pub mod metrics;
