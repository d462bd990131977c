//! Email (passwordless) sign-in's own parts: the address rule, the SMTP server URL, the
//! message templates, the sender, the email-API transport (`http_transport`), and what a
//! `sendVerificationRequest` script may ask for. The flow itself is `actions::email`.

pub mod address;
pub mod delivery;
pub mod http_transport;
pub mod message;
pub mod sender;
pub mod smtp;
