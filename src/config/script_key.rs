//! Typed names for the scripts a configuration can hold. The pipeline stores compiled
//! scripts under these keys, so a lookup cannot misspell one; the display form
//! (`callbacks.signIn`, `providers[2].profile`) is only for people.

use std::fmt;

/// An Auth.js callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Callback {
    SignIn,
    Redirect,
    Jwt,
    Session,
}

impl Callback {
    pub const ALL: [Callback; 4] = [
        Callback::SignIn,
        Callback::Redirect,
        Callback::Jwt,
        Callback::Session,
    ];

    /// The key under `callbacks:`.
    pub fn field(self) -> &'static str {
        match self {
            Callback::SignIn => "signIn",
            Callback::Redirect => "redirect",
            Callback::Jwt => "jwt",
            Callback::Session => "session",
        }
    }
}

/// An Auth.js event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Event {
    SignIn,
    SignOut,
    CreateUser,
    UpdateUser,
    LinkAccount,
    UnlinkAccount,
    Session,
}

impl Event {
    pub const ALL: [Event; 7] = [
        Event::SignIn,
        Event::SignOut,
        Event::CreateUser,
        Event::UpdateUser,
        Event::LinkAccount,
        Event::UnlinkAccount,
        Event::Session,
    ];

    /// The key under `events:`.
    pub fn field(self) -> &'static str {
        match self {
            Event::SignIn => "signIn",
            Event::SignOut => "signOut",
            Event::CreateUser => "createUser",
            Event::UpdateUser => "updateUser",
            Event::LinkAccount => "linkAccount",
            Event::UnlinkAccount => "unlinkAccount",
            Event::Session => "session",
        }
    }
}

/// A script field of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProviderScript {
    Profile,
    Authorize,
    SendVerificationRequest,
}

impl ProviderScript {
    pub const ALL: [ProviderScript; 3] = [
        ProviderScript::Profile,
        ProviderScript::Authorize,
        ProviderScript::SendVerificationRequest,
    ];

    pub fn field(self) -> &'static str {
        match self {
            ProviderScript::Profile => "profile",
            ProviderScript::Authorize => "authorize",
            ProviderScript::SendVerificationRequest => "sendVerificationRequest",
        }
    }
}

/// Where a script sits in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScriptKey {
    Callback(Callback),
    Event(Event),
    /// A script of the provider at this position of the merged `providers` list.
    Provider(usize, ProviderScript),
    /// The `authorize` script of the forward-auth access rule at this position.
    AccessRule(usize),
    /// `accessTokens.claims`.
    AccessTokenClaims,
}

impl ScriptKey {
    /// The JSON pointer of the field in the merged configuration.
    pub fn pointer(self) -> String {
        match self {
            ScriptKey::Callback(callback) => format!("/callbacks/{}", callback.field()),
            ScriptKey::Event(event) => format!("/events/{}", event.field()),
            ScriptKey::Provider(index, script) => {
                format!("/providers/{index}/{}", script.field())
            }
            ScriptKey::AccessRule(index) => format!("/forwardAuth/rules/{index}/authorize"),
            ScriptKey::AccessTokenClaims => "/accessTokens/claims".to_string(),
        }
    }

    /// The variables the script sees; those a call does not give are `()`, so a script can
    /// always test `if account != () { ... }`.
    pub fn parameters(self) -> &'static [&'static str] {
        match self {
            ScriptKey::Callback(Callback::SignIn) => {
                &["user", "account", "profile", "email", "credentials"]
            }
            ScriptKey::Callback(Callback::Redirect) => &["url", "baseUrl"],
            ScriptKey::Callback(Callback::Jwt) => &[
                "token",
                "user",
                "account",
                "profile",
                "trigger",
                "isNewUser",
                "session",
            ],
            ScriptKey::Callback(Callback::Session) => {
                &["session", "token", "user", "trigger", "newSession"]
            }
            ScriptKey::Event(Event::SignIn) => &["user", "account", "profile", "isNewUser"],
            ScriptKey::Event(Event::SignOut) => &["token", "session"],
            ScriptKey::Event(Event::CreateUser | Event::UpdateUser) => &["user"],
            ScriptKey::Event(Event::LinkAccount) => &["user", "account", "profile"],
            ScriptKey::Event(Event::UnlinkAccount) => &["user", "account"],
            ScriptKey::Event(Event::Session) => &["session", "token"],
            ScriptKey::Provider(_, ProviderScript::Profile) => &["profile", "tokens", "options"],
            ScriptKey::Provider(_, ProviderScript::Authorize) => &["credentials"],
            ScriptKey::Provider(_, ProviderScript::SendVerificationRequest) => {
                &["identifier", "url", "expires", "provider", "message"]
            }
            ScriptKey::AccessRule(_) => &["user", "session", "request"],
            ScriptKey::AccessTokenClaims => &["claims", "session", "user"],
        }
    }
}

impl fmt::Display for ScriptKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScriptKey::Callback(callback) => write!(f, "callbacks.{}", callback.field()),
            ScriptKey::Event(event) => write!(f, "events.{}", event.field()),
            ScriptKey::Provider(index, script) => {
                write!(f, "providers[{index}].{}", script.field())
            }
            ScriptKey::AccessRule(index) => write!(f, "forwardAuth.rules[{index}].authorize"),
            ScriptKey::AccessTokenClaims => f.write_str("accessTokens.claims"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_display_as_the_config_path_and_point_at_their_field() {
        for (key, shown, pointer) in [
            (
                ScriptKey::Callback(Callback::SignIn),
                "callbacks.signIn",
                "/callbacks/signIn",
            ),
            (
                ScriptKey::Event(Event::LinkAccount),
                "events.linkAccount",
                "/events/linkAccount",
            ),
            (
                ScriptKey::Provider(3, ProviderScript::Authorize),
                "providers[3].authorize",
                "/providers/3/authorize",
            ),
        ] {
            assert_eq!(key.to_string(), shown);
            assert_eq!(key.pointer(), pointer);
        }
    }
}
