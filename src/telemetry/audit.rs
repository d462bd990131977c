//! The audit log: one JSON line per security event (sign-ins and their failures, sign-out,
//! linking, unlinking, revocations, administrators' actions), apart from the request log
//! and sharing its request id. The line's shape is a stable schema, `authgate.audit/1`:
//!
//! ```json
//! {"schema":"authgate.audit/1","time":"2026-12-01T10:00:00.000Z","event":"sign_in",
//!  "outcome":"failure","code":"CredentialsSignin","provider":"credentials",
//!  "method":"credentials","userId":null,"sessionId":null,"actor":"user",
//!  "requestId":"…","clientIp":"127.0.0.1","detail":null}
//! ```
//!
//! Every key is always present. Lines go to one writer thread through a bounded queue: a
//! writer that falls behind costs lines (counted), never a request's time.

use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use serde::Serialize;
use serde_json::Value;

use crate::error::ErrorCode;

/// The schema every line names.
pub const SCHEMA: &str = "authgate.audit/1";

/// Lines waiting for the writer.
const QUEUE: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditEvent {
    SignIn,
    SignOut,
    AccountLinked,
    AccountUnlinked,
    SessionsRevoked,
    UserDisabled,
    UserEnabled,
    UserDeleted,
    /// A request to the admin API (audited when refused).
    AdminRequest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The user, through their own browser.
    User,
    /// An administrator, through the admin API or the CLI.
    Admin,
}

/// One security event, as an action states it. The request's id and address are added
/// when it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub event: AuditEvent,
    /// `None` for success.
    pub failure: Option<ErrorCode>,
    pub provider: Option<String>,
    /// `oauth`, `oidc`, `email`, `credentials`.
    pub method: Option<&'static str>,
    pub user_id: Option<String>,
    /// The opaque session id the session list shows.
    pub session_id: Option<String>,
    pub actor: Actor,
    pub detail: Option<Value>,
}

impl AuditRecord {
    /// A successful event of the user's own.
    pub fn user(event: AuditEvent, user_id: Option<String>) -> AuditRecord {
        AuditRecord {
            event,
            failure: None,
            provider: None,
            method: None,
            user_id,
            session_id: None,
            actor: Actor::User,
            detail: None,
        }
    }

    /// An administrator's action on `user_id`.
    pub fn admin(event: AuditEvent, user_id: &str) -> AuditRecord {
        AuditRecord {
            actor: Actor::Admin,
            ..AuditRecord::user(event, Some(user_id.to_string()))
        }
    }

    pub fn with_provider(mut self, provider: &str) -> AuditRecord {
        self.provider = Some(provider.to_string());
        self
    }

    pub fn with_session(mut self, session_id: Option<String>) -> AuditRecord {
        self.session_id = session_id;
        self
    }

    pub fn with_detail(mut self, detail: Value) -> AuditRecord {
        self.detail = Some(detail);
        self
    }
}

/// Where a record came from: the request's correlation id and client address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditContext {
    pub request_id: Option<String>,
    pub client_ip: Option<std::net::IpAddr>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    schema: &'static str,
    time: String,
    event: AuditEvent,
    outcome: &'static str,
    code: Option<&'static str>,
    provider: Option<&'a str>,
    method: Option<&'static str>,
    user_id: Option<&'a str>,
    session_id: Option<&'a str>,
    actor: Actor,
    request_id: Option<&'a str>,
    client_ip: Option<String>,
    detail: Option<&'a Value>,
}

/// The JSON line for `record`, at `time` (RFC 3339, UTC).
pub fn line(record: &AuditRecord, context: &AuditContext, time: time::OffsetDateTime) -> String {
    let time = time
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let line = Line {
        schema: SCHEMA,
        time,
        event: record.event,
        outcome: if record.failure.is_some() {
            "failure"
        } else {
            "success"
        },
        code: record.failure.map(ErrorCode::as_str),
        provider: record.provider.as_deref(),
        method: record.method,
        user_id: record.user_id.as_deref(),
        session_id: record.session_id.as_deref(),
        actor: record.actor,
        request_id: context.request_id.as_deref(),
        client_ip: context.client_ip.map(|ip| ip.to_string()),
        detail: record.detail.as_ref(),
    };
    serde_json::to_string(&line).unwrap_or_default()
}

/// Where the lines go (`logging.audit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditOutput {
    Off,
    Stdout,
    Stderr,
    /// Appended to; created readable by its owner and group only.
    File(std::path::PathBuf),
}

impl AuditOutput {
    /// `off`, `stdout`, `stderr`, or a file path (relative to `config_dir`).
    pub fn parse(setting: &str, config_dir: &Path) -> AuditOutput {
        match setting {
            "off" => AuditOutput::Off,
            "stdout" => AuditOutput::Stdout,
            "stderr" => AuditOutput::Stderr,
            path => AuditOutput::File(config_dir.join(path)),
        }
    }
}

static SINK: OnceLock<SyncSender<String>> = OnceLock::new();

/// Starts the writer for `output` (once per process). An unopenable file is an error.
pub fn install(output: &AuditOutput) -> std::io::Result<()> {
    let writer: Box<dyn Write + Send> = match output {
        AuditOutput::Off => return Ok(()),
        AuditOutput::Stdout => Box::new(std::io::stdout()),
        AuditOutput::Stderr => Box::new(std::io::stderr()),
        AuditOutput::File(path) => {
            let mut options = std::fs::OpenOptions::new();
            options.create(true).append(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o640);
            Box::new(options.open(path)?)
        }
    };
    let (sender, receiver) = sync_channel(QUEUE);
    if SINK.set(sender).is_err() {
        return Ok(());
    }
    std::thread::Builder::new()
        .name("authgate-audit".into())
        .spawn(move || write_lines(receiver, writer))?;
    Ok(())
}

fn write_lines(receiver: Receiver<String>, mut writer: Box<dyn Write + Send>) {
    while let Ok(line) = receiver.recv() {
        let written = writeln!(writer, "{line}").and_then(|()| writer.flush());
        if let Err(error) = written {
            tracing::error!(%error, "cannot write the audit log");
        }
    }
}

/// Writes `record` (a no-op until `install`).
pub fn record(record: &AuditRecord, context: &AuditContext) {
    let Some(sink) = SINK.get() else {
        return;
    };
    let line = line(record, context, time::OffsetDateTime::now_utc());
    match sink.try_send(line) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
            super::metrics::audit_dropped();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_present_and_failures_carry_their_code() {
        let record = AuditRecord {
            failure: Some(ErrorCode::CredentialsSignin),
            method: Some("credentials"),
            ..AuditRecord::user(AuditEvent::SignIn, None).with_provider("staff")
        };
        let context = AuditContext {
            request_id: Some("r-1".into()),
            client_ip: Some("192.0.2.1".parse().unwrap()),
        };
        let text = line(&record, &context, time::OffsetDateTime::UNIX_EPOCH);
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "schema": "authgate.audit/1", "time": "1970-01-01T00:00:00Z",
                "event": "sign_in", "outcome": "failure", "code": "CredentialsSignin",
                "provider": "staff", "method": "credentials", "userId": null,
                "sessionId": null, "actor": "user", "requestId": "r-1",
                "clientIp": "192.0.2.1", "detail": null
            })
        );
    }

    #[test]
    fn outputs_are_named_or_paths_beside_the_config() {
        let dir = Path::new("/etc/authgate");
        let cases = [
            ("off", AuditOutput::Off),
            ("stdout", AuditOutput::Stdout),
            ("stderr", AuditOutput::Stderr),
            (
                "audit.jsonl",
                AuditOutput::File("/etc/authgate/audit.jsonl".into()),
            ),
            (
                "/var/log/a.jsonl",
                AuditOutput::File("/var/log/a.jsonl".into()),
            ),
        ];
        for (setting, expected) in cases {
            assert_eq!(AuditOutput::parse(setting, dir), expected, "{setting}");
        }
    }
}
