//! The stable code of each kind of configuration problem (`AG0001`, …), carried by every
//! diagnostic and shown by `authgate check --format json|sarif`. A code names a kind of
//! problem and keeps its meaning; a new kind gets a new number. The README lists them.

/// A kind of configuration problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    File,
    Yaml,
    Schema,
    Variable,
    Preset,
    ProviderId,
    Script,
    Url,
    Secret,
    Provider,
    Session,
    Cookies,
    Pages,
    Management,
    ForwardAuth,
    Tokens,
    Operations,
    Server,
    Keys,
    Email,
    Passwords,
    Store,
    Internal,
}

impl Code {
    /// Every code, in number order.
    pub const ALL: [Code; 23] = [
        Code::File,
        Code::Yaml,
        Code::Schema,
        Code::Variable,
        Code::Preset,
        Code::ProviderId,
        Code::Script,
        Code::Url,
        Code::Secret,
        Code::Provider,
        Code::Session,
        Code::Cookies,
        Code::Pages,
        Code::Management,
        Code::ForwardAuth,
        Code::Tokens,
        Code::Operations,
        Code::Server,
        Code::Keys,
        Code::Email,
        Code::Passwords,
        Code::Store,
        Code::Internal,
    ];

    /// `AG0001`, …
    pub fn id(self) -> &'static str {
        match self {
            Code::File => "AG0001",
            Code::Yaml => "AG0002",
            Code::Schema => "AG0003",
            Code::Variable => "AG0004",
            Code::Preset => "AG0005",
            Code::ProviderId => "AG0006",
            Code::Script => "AG0007",
            Code::Url => "AG0008",
            Code::Secret => "AG0009",
            Code::Provider => "AG0010",
            Code::Session => "AG0011",
            Code::Cookies => "AG0012",
            Code::Pages => "AG0013",
            Code::Management => "AG0014",
            Code::ForwardAuth => "AG0015",
            Code::Tokens => "AG0016",
            Code::Operations => "AG0017",
            Code::Server => "AG0018",
            Code::Keys => "AG0019",
            Code::Email => "AG0020",
            Code::Passwords => "AG0021",
            Code::Store => "AG0022",
            Code::Internal => "AG0023",
        }
    }

    /// A short name (SARIF's rule name).
    pub fn name(self) -> &'static str {
        match self {
            Code::File => "file",
            Code::Yaml => "yaml",
            Code::Schema => "schema",
            Code::Variable => "variable",
            Code::Preset => "preset",
            Code::ProviderId => "provider-id",
            Code::Script => "script",
            Code::Url => "url",
            Code::Secret => "secret",
            Code::Provider => "provider",
            Code::Session => "session",
            Code::Cookies => "cookies",
            Code::Pages => "pages",
            Code::Management => "management",
            Code::ForwardAuth => "forward-auth",
            Code::Tokens => "tokens",
            Code::Operations => "operations",
            Code::Server => "server",
            Code::Keys => "keys",
            Code::Email => "email",
            Code::Passwords => "passwords",
            Code::Store => "store",
            Code::Internal => "internal",
        }
    }

    /// What the code covers, in one sentence.
    pub fn description(self) -> &'static str {
        match self {
            Code::File => {
                "A file cannot be read: missing, too large, not UTF-8, or not a directory where one is expected."
            }
            Code::Yaml => "A file is not valid YAML.",
            Code::Schema => {
                "A value does not match the schema: its type, a required field, an unknown field, or an allowed value."
            }
            Code::Variable => "A `${...}` placeholder has no value or is malformed.",
            Code::Preset => "A `use:` names no known preset, or a preset itself is malformed.",
            Code::ProviderId => {
                "A provider id is used twice, or a drop-in file name is not a provider id."
            }
            Code::Script => "A Rhai script does not compile or cannot be loaded.",
            Code::Url => "`url` or `basePath` is not usable.",
            Code::Secret => "`secret` is missing or too short.",
            Code::Provider => {
                "A provider's settings do not work together: endpoints, checks, credentials or email settings, or a field its preset needs."
            }
            Code::Session => {
                "The session settings do not work together: strategy, database, lifetimes, tracking or lookup."
            }
            Code::Cookies => {
                "The cookie policy is not usable: names, prefixes, domain, path or SameSite."
            }
            Code::Pages => "The pages, their templates or their theme are not usable.",
            Code::Management => "The account-management or admin settings are not usable.",
            Code::ForwardAuth => "The forward-auth rules or trusted proxies are not usable.",
            Code::Tokens => "The access-token, introspection or CORS settings are not usable.",
            Code::Operations => "The webhook or shared-state settings are not usable.",
            Code::Server => "The listener or worker settings are not usable.",
            Code::Keys => "A session-token key is not usable.",
            Code::Email => "An email provider's transport is not usable.",
            Code::Passwords => "The password-hashing settings are not usable.",
            Code::Store => "The database cannot be reached or prepared.",
            Code::Internal => "An internal error (a bug; please report it).",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_numbered_in_order_without_gaps() {
        for (index, code) in Code::ALL.iter().enumerate() {
            assert_eq!(code.id(), format!("AG{:04}", index + 1), "{code:?}");
        }
    }
}
