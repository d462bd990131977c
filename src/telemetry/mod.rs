//! What authgate tells its operators beyond the request log: Prometheus metrics
//! (`metrics`) and the audit log (`audit`).

pub mod audit;
pub mod metrics;
