//! Bad configurations, each pinned to the exact diagnostic text and location that
//! `authgate check` prints.

use std::collections::HashMap;

use authgate::config::ConfigSource;
use authgate::pipeline::build_pipeline;

use crate::support::ConfigDir;

const SECRET_LINE: &str = "secret: integration-secret-0123456789abcdef0123456789\n";

struct Case {
    name: &'static str,
    /// `authgate.yaml`; `{secret}` is replaced by a valid secret line.
    config: &'static str,
    /// Extra files, relative to the config directory.
    files: &'static [(&'static str, &'static str)],
    env: &'static [(&'static str, &'static str)],
    /// Every diagnostic, rendered, with the temp dir shown as `<dir>`.
    expected: &'static str,
}

fn render(case: &Case) -> String {
    let dir = ConfigDir::new(&case.config.replace("{secret}\n", SECRET_LINE));
    for (path, text) in case.files {
        dir.write(path, text);
    }
    let env: HashMap<String, String> = case
        .env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let source = ConfigSource::new(dir.config_path());
    match build_pipeline(&source, &env, 1) {
        Ok(pipeline) if pipeline.warnings.is_empty() => format!("ok: {}", pipeline.summary()),
        // The warnings of a configuration that loads, then its summary.
        Ok(pipeline) => format!("{}ok: {}", pipeline.warnings, pipeline.summary())
            .replace(&format!("{}/", dir.path().display()), "<dir>/"),
        Err(diagnostics) => diagnostics
            .to_string()
            .replace(&format!("{}/", dir.path().display()), "<dir>/")
            .trim_end()
            .to_string(),
    }
}

fn run(cases: &[Case]) {
    let mut failures = Vec::new();
    for case in cases {
        let got = render(case);
        if got != case.expected {
            failures.push(format!(
                "--- {}\nexpected:\n{}\ngot:\n{}\n",
                case.name, case.expected, got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn bad_yaml_and_bad_files_get_a_clear_diagnostic() {
    run(&[
        Case {
            name: "yaml_syntax_error_points_at_the_line",
            config: "url: http://localhost\nproviders: [\n  - x\n",
            files: &[],
            env: &[],
            expected: "error: invalid YAML: \"-\" is only valid inside a block\n  --> <dir>/authgate.yaml:3:3",
        },
        Case {
            name: "empty_file_is_reported_not_accepted",
            config: "# nothing here\n",
            files: &[],
            env: &[],
            expected: "error: file is empty: expected a mapping of settings\n  --> <dir>/authgate.yaml:1:1",
        },
        Case {
            name: "top_level_list_is_rejected",
            config: "- url: http://localhost\n",
            files: &[],
            env: &[],
            expected: "error: expected a mapping of settings at the top level, found a list\n  --> <dir>/authgate.yaml:1:1",
        },
        Case {
            name: "duplicate_key_points_at_the_second_occurrence",
            config: "url: http://localhost\n{secret}\nurl: http://b.example\n",
            files: &[],
            env: &[],
            expected: "error: invalid YAML: duplicate key `url` (first defined on line 1)\n  --> <dir>/authgate.yaml:3:1",
        },
        Case {
            name: "alias_bomb_is_stopped",
            config: "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
            files: &[],
            env: &[],
            expected: "error: invalid YAML: document has more than 100000 nodes once aliases are expanded (an alias bomb?)\n  --> <dir>/authgate.yaml:5:36",
        },
        Case {
            name: "deeply_nested_document_is_stopped",
            config: "url: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
            files: &[],
            env: &[],
            expected: "error: invalid YAML: document is nested deeper than 64 levels\n  --> <dir>/authgate.yaml:1:69",
        },
        Case {
            name: "unsupported_tag_is_rejected",
            config: "url: !Ref base_url\n",
            files: &[],
            env: &[],
            expected: "error: invalid YAML: unsupported tag `!Ref`\n  --> <dir>/authgate.yaml:1:6",
        },
        Case {
            name: "unquoted_sqlite_memory_dsn_is_a_yaml_error",
            config: "url: http://localhost\n{secret}\ndatabase:\n  url: sqlite::memory:\n",
            files: &[],
            env: &[],
            expected: "error: invalid YAML: mapping values are not allowed in this context\n  --> <dir>/authgate.yaml:4:22",
        },
        Case {
            name: "dropin_path_that_is_a_directory_is_reported",
            config: "url: http://localhost\n{secret}\n",
            files: &[("providers.d/acme.yaml/inner.txt", "x")],
            env: &[],
            expected: "error: expected a file, found a directory\n  --> <dir>/providers.d/acme.yaml:1:1",
        },
    ]);
}

#[test]
fn schema_errors_name_the_path_and_point_at_the_line() {
    run(&[
        Case {
            name: "missing_url_and_secret_are_both_reported",
            config: "basePath: /auth\n",
            files: &[],
            env: &[],
            expected: "error: url: required property is missing\n  --> <dir>/authgate.yaml:1:1\nerror: secret: required property is missing\n  --> <dir>/authgate.yaml:1:1",
        },
        Case {
            name: "unknown_top_level_key_suggests_the_right_one",
            config: "url: http://localhost\n{secret}\nsesion:\n  maxAge: 1d\n",
            files: &[],
            env: &[],
            expected: "error: sesion: unknown property `sesion`, did you mean `session`?\n  --> <dir>/authgate.yaml:3:1",
        },
        Case {
            name: "callback_name_that_does_not_exist_is_rejected",
            config: "url: http://localhost\n{secret}\ncallbacks:\n  signin: |\n    true\n",
            files: &[],
            env: &[],
            expected: "error: callbacks.signin: unknown property `signin`, did you mean `signIn`?\n  --> <dir>/authgate.yaml:4:3",
        },
        Case {
            name: "event_name_that_does_not_exist_lists_the_known_ones",
            config: "url: http://localhost\n{secret}\nevents:\n  onEverything: log_info(\"x\")\n",
            files: &[],
            env: &[],
            expected: "error: events.onEverything: unknown property `onEverything`, expected one of `signIn`, `signOut`, `createUser`, `updateUser`, `linkAccount`, `unlinkAccount`, `session`\n  --> <dir>/authgate.yaml:4:3",
        },
        Case {
            name: "yes_is_a_string_not_a_boolean",
            config: "url: http://localhost\n{secret}\ntrustHost: yes\n",
            files: &[],
            env: &[],
            expected: "error: trustHost: expected a boolean, found a string `yes`\n  --> <dir>/authgate.yaml:3:12",
        },
        Case {
            name: "bad_duration_names_the_accepted_forms",
            config: "url: http://localhost\n{secret}\nsession:\n  maxAge: 30 days\n",
            files: &[],
            env: &[],
            expected: "error: session.maxAge: expected a duration such as `30d`, `24h`, `15m`, `900s` or a number of seconds, found `30 days`\n  --> <dir>/authgate.yaml:4:11",
        },
        Case {
            name: "misspelt_strategy_suggests_the_enum_value",
            config: "url: http://localhost\n{secret}\nsession:\n  strategy: databse\n",
            files: &[],
            env: &[],
            expected: "error: session.strategy: expected one of `jwt`, `database`, found `databse`, did you mean `database`?\n  --> <dir>/authgate.yaml:4:13",
        },
        Case {
            name: "provider_field_of_the_wrong_type_points_into_the_list",
            config: "url: http://localhost\n{secret}\nproviders:\n  - id: acme\n    type: oauth\n    checks: pkce\n",
            files: &[],
            env: &[],
            expected: "error: providers[0].checks: expected a list, found a string `pkce`\n  --> <dir>/authgate.yaml:6:13",
        },
        Case {
            name: "oauth_checks_without_state_or_pkce_and_with_nonce_are_refused",
            config: "url: http://localhost\n{secret}\nproviders:\n  - id: acme\n    type: oauth\n    clientId: a\n    authorization: https://idp.example/authorize\n    token: https://idp.example/token\n    checks: [nonce]\n",
            files: &[],
            env: &[],
            expected: "error: providers[0].checks: expected `state` or `pkce` (or both): without them a sign-in cannot be tied to the browser that started it\n  --> <dir>/authgate.yaml:9:13\nerror: providers[0].checks: `nonce` is checked in an OpenID Connect id_token; this provider is `type: oauth`\n  --> <dir>/authgate.yaml:9:13",
        },
        Case {
            name: "checks_none_is_refused",
            config: "url: http://localhost\n{secret}\nproviders:\n  - id: acme\n    type: oidc\n    clientId: a\n    issuer: https://idp.example\n    checks: [none]\n",
            files: &[],
            env: &[],
            expected: "error: providers[0].checks: `none` turns every check off; list `state` and `pkce` (and `nonce` for oidc)\n  --> <dir>/authgate.yaml:8:13",
        },
        Case {
            name: "unknown_check_name_suggests_the_right_one",
            config: "url: http://localhost\n{secret}\nproviders:\n  - id: acme\n    type: oidc\n    clientId: a\n    issuer: https://idp.example\n    checks: [pkce, stat]\n",
            files: &[],
            env: &[],
            expected: "error: providers[0].checks[1]: expected one of `pkce`, `state`, `nonce`, `none`, found `stat`, did you mean `state`?\n  --> <dir>/authgate.yaml:8:20",
        },
        Case {
            name: "script_field_must_be_text_or_a_file_reference",
            config: "url: http://localhost\n{secret}\ncallbacks:\n  jwt: 42\n",
            files: &[],
            env: &[],
            expected: "error: callbacks.jwt: expected a string or a mapping, found an integer `42`\n  --> <dir>/authgate.yaml:4:8",
        },
        Case {
            name: "script_file_reference_with_a_typo_is_named",
            config: "url: http://localhost\n{secret}\ncallbacks:\n  jwt:\n    fiel: jwt.rhai\n",
            files: &[],
            env: &[],
            expected: "error: callbacks.jwt.fiel: unknown property `fiel`, did you mean `file`?\n  --> <dir>/authgate.yaml:5:5\nerror: callbacks.jwt.file: required property is missing\n  --> <dir>/authgate.yaml:5:5",
        },
        Case {
            name: "dropin_schema_error_points_into_the_dropin_file",
            config: "url: http://localhost\n{secret}\n",
            files: &[(
                "providers.d/acme.yaml",
                "id: acme\ntype: oauth\nclientld: x\n",
            )],
            env: &[],
            expected: "error: clientld: unknown property `clientld`, did you mean `clientId`?\n  --> <dir>/providers.d/acme.yaml:3:1",
        },
    ]);
}

#[test]
fn environment_values_are_expanded_and_masked() {
    run(&[
        Case {
            name: "unset_variable_without_default_is_named",
            config: "url: http://localhost\n{secret}\nproviders:\n  - use: github\n    clientId: ${GITHUB_ID}\n    clientSecret: x\n",
            files: &[],
            env: &[],
            expected: "error: providers[0].clientId: environment variable `GITHUB_ID` is not set (use `${GITHUB_ID:-default}` to give a default)\n  --> <dir>/authgate.yaml:5:15",
        },
        Case {
            name: "value_from_the_environment_is_masked_in_messages",
            config: "url: ${PUBLIC_URL}\n{secret}\n",
            files: &[],
            env: &[("PUBLIC_URL", "internal-host-name-do-not-print")],
            expected: "error: url: expected an absolute http(s) URL such as `https://auth.example.com`, found (value hidden)\n  --> <dir>/authgate.yaml:1:6",
        },
        Case {
            name: "environment_value_of_the_wrong_type_is_masked",
            config: "url: http://localhost\n{secret}\ntrustHost: ${TRUST}\n",
            files: &[],
            env: &[("TRUST", "sensitive-value")],
            expected: "error: trustHost: expected a boolean, found a string (value hidden)\n  --> <dir>/authgate.yaml:3:12",
        },
        Case {
            name: "short_secret_from_the_environment_reports_only_its_length",
            config: "url: http://localhost\nsecret: ${AUTH_SECRET}\n",
            files: &[],
            env: &[("AUTH_SECRET", "hunter2")],
            expected: "error: secret: must be at least 32 bytes, found 7 (generate one with `openssl rand -base64 33`)\n  --> <dir>/authgate.yaml:2:9",
        },
    ]);
}

#[test]
fn semantic_rules_report_every_problem_together() {
    run(&[
        Case {
            name: "relative_url_and_base_path_without_slash",
            config: "url: auth.example.com\nbasePath: api/auth\n{secret}\n",
            files: &[],
            env: &[],
            expected: "error: url: expected an absolute http(s) URL such as `https://auth.example.com`, found `auth.example.com`\n  --> <dir>/authgate.yaml:1:6\nerror: basePath: must start with `/`, found `api/auth`\n  --> <dir>/authgate.yaml:2:11",
        },
        Case {
            name: "second_secret_of_a_rotation_list_too_short",
            config: "url: http://localhost\nsecret:\n  - integration-secret-0123456789abcdef0123456789\n  - old\n",
            files: &[],
            env: &[],
            expected: "error: secret[1]: must be at least 32 bytes, found 3 (generate one with `openssl rand -base64 33`)\n  --> <dir>/authgate.yaml:4:5",
        },
        Case {
            name: "duplicate_provider_ids",
            config: "url: http://localhost\n{secret}\nproviders:\n  - use: github\n    clientId: a\n    clientSecret: b\n  - use: github\n    clientId: c\n    clientSecret: d\n",
            files: &[],
            env: &[],
            expected: "error: providers[1].id: duplicate provider id `github` (already used by providers[0] at <dir>/authgate.yaml:4:5)\n  --> <dir>/authgate.yaml:7:5",
        },
        Case {
            name: "unknown_preset_suggests_a_near_name",
            config: "url: http://localhost\n{secret}\nproviders:\n  - use: githb\n",
            files: &[],
            env: &[],
            expected: "error: providers[0].use: unknown preset `githb`, did you mean `github`?\n  --> <dir>/authgate.yaml:4:10",
        },
        Case {
            name: "fields_a_preset_requires_are_named_when_missing",
            config: "url: http://localhost\n{secret}\nproviders:\n  - use: github\n",
            files: &[],
            env: &[],
            expected: "error: providers[0].clientId: required by preset `github` and missing\n  --> <dir>/authgate.yaml:4:5\nerror: providers[0].clientSecret: required by preset `github` and missing\n  --> <dir>/authgate.yaml:4:5",
        },
        Case {
            name: "provider_without_type_or_preset",
            config: "url: http://localhost\n{secret}\nproviders:\n  - id: mystery\n",
            files: &[],
            env: &[],
            expected: "error: providers[0]: set `type` (oauth, oidc, email or credentials) or `use` a preset\n  --> <dir>/authgate.yaml:4:5",
        },
        Case {
            name: "lookup_binding_an_undeclared_field",
            config: "url: http://localhost\n{secret}\ndatabase:\n  url: sqlite://a.db\nsession:\n  strategy: jwt\nproviders:\n  - id: db\n    type: credentials\n    credentials:\n      username: {}\n      password: {}\n    lookup:\n      query: SELECT id, pw AS password_hash FROM u WHERE login = :login\n",
            files: &[],
            env: &[],
            expected: "error: providers[0].lookup.query: binds `:login`, which is not one of the provider's `credentials` fields\n  --> <dir>/authgate.yaml:14:14",
        },
        Case {
            name: "refresh_on_a_credentials_provider",
            config: "url: http://localhost\n{secret}\nproviders:\n  - id: pw\n    type: credentials\n    refresh: auto\n    authorize: \"()\"\n",
            files: &[],
            env: &[],
            expected: "error: providers[0].refresh: only oauth and oidc providers have tokens to refresh\n  --> <dir>/authgate.yaml:6:14",
        },
        Case {
            name: "oidc_provider_without_issuer",
            config: "url: http://localhost\n{secret}\nproviders:\n  - id: staff\n    type: oidc\n    clientId: app\n",
            files: &[],
            env: &[],
            expected: "error: providers[0].issuer: required property is missing (an oidc provider discovers its endpoints from the issuer)\n  --> <dir>/authgate.yaml:4:5",
        },
        Case {
            name: "session_max_age_beyond_what_browsers_keep",
            config: "url: http://localhost\n{secret}\nsession:\n  maxAge: 500w\n",
            files: &[],
            env: &[],
            expected: "error: session.maxAge: must be between 1s and 400d (browsers keep cookies at most 400 days), found `500w`\n  --> <dir>/authgate.yaml:4:11",
        },
        Case {
            name: "database_strategy_without_database",
            config: "url: http://localhost\n{secret}\nsession:\n  strategy: database\n",
            files: &[],
            env: &[],
            expected: "error: session.strategy: the `database` strategy needs a `database` section\n  --> <dir>/authgate.yaml:4:13",
        },
        Case {
            name: "email_provider_without_database_or_sender",
            config: "url: http://localhost\n{secret}\nproviders:\n  - id: email\n    type: email\n    server: smtp://127.0.0.1:2525\n",
            files: &[],
            env: &[],
            expected: "error: providers[0].from: required property is missing\n  --> <dir>/authgate.yaml:4:5\nerror: providers[0]: an email provider needs a `database` section to store verification tokens\n  --> <dir>/authgate.yaml:4:5",
        },
        Case {
            name: "email_dev_transport_is_refused_on_https",
            config: "url: https://auth.example.com\n{secret}\ndatabase:\n  url: \"sqlite://a.db\"\nproviders:\n  - id: email\n    type: email\n    from: auth@example.com\n    transport: dev\n",
            files: &[],
            env: &[],
            expected: "error: providers[0].transport: the `dev` transport logs sign-in links, so anyone who reads the log can sign in as anyone; it is refused when `url` is https or `trustHost` is on (set `forceDevTransport: true` to allow it anyway)\n  --> <dir>/authgate.yaml:9:16",
        },
        Case {
            name: "email_dev_transport_warns_on_http",
            config: "url: http://localhost\n{secret}\ndatabase:\n  url: \"sqlite://a.db\"\nproviders:\n  - id: email\n    type: email\n    from: auth@example.com\n    transport: dev\n",
            files: &[],
            env: &[],
            expected: "warning: providers[0].transport: the `dev` transport logs each sign-in link instead of sending it: for local work only\n  --> <dir>/authgate.yaml:9:16\nok: 1 provider (email), session strategy database, store sqlite",
        },
        Case {
            name: "email_server_from_and_templates_are_checked_where_written",
            config: "url: http://localhost\n{secret}\ndatabase:\n  url: \"sqlite://a.db\"\nproviders:\n  - id: email\n    type: email\n    from: not an address\n    server: smtp://relay.example.com?tls=maybe\n    message:\n      html: \"{% if url %}unclosed\"\n",
            files: &[],
            env: &[],
            expected: "error: providers[0].from: not an email address (Invalid input); expected `auth@example.com` or `Example <auth@example.com>`\n  --> <dir>/authgate.yaml:8:11\nerror: providers[0].server: unknown `tls=maybe`; expected `required`, `opportunistic` or `none`\n  --> <dir>/authgate.yaml:9:13\nerror: providers[0].message.html: the template does not compile: syntax error: unexpected end of input, expected end of block (in html.html:1)\n  --> <dir>/authgate.yaml:11:13",
        },
        Case {
            name: "email_password_in_clear_warns_and_a_missing_ca_file_is_an_error",
            config: "url: http://localhost\n{secret}\ndatabase:\n  url: \"sqlite://a.db\"\nproviders:\n  - id: email\n    type: email\n    from: auth@example.com\n    server: smtp://mailer:${SMTP_PASSWORD}@relay.example.com\n    serverCaFile: ca.pem\n",
            files: &[],
            env: &[("SMTP_PASSWORD", "hunter2hunter2")],
            expected: "error: providers[0].serverCaFile: cannot load the CA file `<dir>/ca.pem`: file not found\n  --> <dir>/authgate.yaml:10:19\nwarning: providers[0].server: the SMTP password may cross the network in clear: use `smtps://` or add `?tls=required`\n  --> <dir>/authgate.yaml:9:13",
        },
        Case {
            name: "rate_limits_must_be_rates",
            config: "url: http://localhost\n{secret}\nrateLimits:\n  email:\n    perAddress: 0/1h\n    perIp: lots\n",
            files: &[],
            env: &[],
            expected: "error: rateLimits.email.perAddress: expected a value matching `^(off|[1-9][0-9]*/[0-9]+(s|m|h|d|w)?)$`, found `0/1h`\n  --> <dir>/authgate.yaml:5:17\nerror: rateLimits.email.perIp: expected a value matching `^(off|[1-9][0-9]*/[0-9]+(s|m|h|d|w)?)$`, found `lots`\n  --> <dir>/authgate.yaml:6:12",
        },
        Case {
            name: "credentials_with_database_sessions_needs_an_explicit_choice",
            config: "url: http://localhost\n{secret}\ndatabase:\n  url: \"sqlite://authgate.db\"\nproviders:\n  - id: password\n    type: credentials\n    authorize: \"()\"\n",
            files: &[],
            env: &[],
            expected: "error: providers[0]: a credentials provider with the `database` session strategy needs `session.credentials: jwt` (issue JWT cookies, as Auth.js does) or `session.credentials: database`\n  --> <dir>/authgate.yaml:6:5",
        },
        Case {
            name: "host_prefixed_cookie_cannot_have_a_domain",
            config: "url: https://a.example\n{secret}\ncookies:\n  domain: .example.com\n  overrides:\n    sessionToken:\n      name: __Host-session\n",
            files: &[],
            env: &[],
            expected: "error: cookies.overrides.sessionToken.name: a `__Host-` cookie cannot have a domain (remove the domain or the prefix)\n  --> <dir>/authgate.yaml:7:13",
        },
        Case {
            name: "unsupported_database_scheme_hides_the_url",
            config: "url: http://localhost\n{secret}\ndatabase:\n  url: \"redis://user:pw@127.0.0.1\"\n",
            files: &[],
            env: &[],
            expected: "error: database.url: expected a `sqlite:`, `postgres://` or `mysql://` URL (value hidden)\n  --> <dir>/authgate.yaml:4:8",
        },
    ]);
}

#[test]
fn hostile_values_are_masked_escaped_or_bounded() {
    run(&[
        Case {
            name: "cookie_domain_from_the_environment_is_masked",
            config: "url: http://localhost\n{secret}\ncookies:\n  domain: ${COOKIE_DOMAIN}\n",
            files: &[],
            env: &[("COOKIE_DOMAIN", "hunter2:pa55w0rd")],
            expected: "error: cookies.domain: expected a domain such as `.example.com`, found (value hidden)\n  --> <dir>/authgate.yaml:4:11",
        },
        Case {
            name: "preset_name_from_the_environment_is_masked",
            config: "url: http://localhost\n{secret}\nproviders:\n  - use: ${PRESET}\n",
            files: &[],
            env: &[("PRESET", "hunter2")],
            expected: "error: providers[0].use: unknown preset (value hidden) (see `authgate providers` for the list)\n  --> <dir>/authgate.yaml:4:10",
        },
        Case {
            name: "duplicate_ids_from_the_environment_are_masked",
            config: "url: http://localhost\n{secret}\nproviders:\n  - id: ${TENANT}\n    type: credentials\n    authorize: \"()\"\n  - id: ${TENANT}\n    type: credentials\n    authorize: \"()\"\n",
            files: &[],
            env: &[("TENANT", "tenant-hunter2")],
            expected: "error: providers[1].id: duplicate provider id (value hidden) (already used by providers[0] at <dir>/authgate.yaml:4:9)\n  --> <dir>/authgate.yaml:7:9",
        },
        Case {
            name: "newlines_in_a_value_cannot_forge_a_diagnostic",
            config: "url: http://localhost\n{secret}\nbasePath: \"a\\nerror: fake\\n  --> /etc/passwd:1:1\"\n",
            files: &[],
            env: &[],
            expected: "error: basePath: must start with `/`, found `a\\nerror: fake\\n  --> /etc/passwd:1:1`\n  --> <dir>/authgate.yaml:3:11",
        },
        Case {
            name: "cookie_path_cannot_smuggle_attributes",
            config: "url: http://localhost\n{secret}\ncookies:\n  path: \"/; Domain=evil.example\"\n",
            files: &[],
            env: &[],
            expected: "error: cookies.path: expected a path such as `/`, found `/; Domain=evil.example`\n  --> <dir>/authgate.yaml:4:9",
        },
        Case {
            name: "host_prefixed_csrf_cookie_cannot_get_a_domain_override",
            config: "url: https://a.example\n{secret}\ncookies:\n  overrides:\n    csrfToken:\n      domain: .example.com\n",
            files: &[],
            env: &[],
            expected: "error: cookies.overrides.csrfToken.domain: a `__Host-` cookie cannot have a domain (remove the domain or the prefix)\n  --> <dir>/authgate.yaml:6:15\nwarning: cookies: the CSRF cookie is not a `__Host-` cookie, so a sibling subdomain can set it and bind its own sign-ins to your users' browsers\n  --> <dir>/authgate.yaml:4:3",
        },
        Case {
            name: "plain_http_on_a_public_host_is_warned_about",
            config: "url: http://a.example\n{secret}\n",
            files: &[],
            env: &[],
            expected: "warning: url: on plain http any subdomain can set authgate's cookies; serve it over https\n  --> <dir>/authgate.yaml:1:6\nok: 0 providers, session strategy jwt, store none",
        },
        Case {
            name: "admin_listener_address_is_checked_and_a_public_one_warned_about",
            config: "url: http://localhost\n{secret}\nserver:\n  admin:\n    listen: 0.0.0.0:3001\n",
            files: &[],
            env: &[],
            expected: "warning: server.admin.listen: the admin listener has no authentication; keep it on a loopback address or a private network\n  --> <dir>/authgate.yaml:5:13\nok: 0 providers, session strategy jwt, store none",
        },
        Case {
            name: "password_cost_out_of_bounds_is_refused",
            config: "url: http://localhost\n{secret}\npasswords:\n  cost: \"$argon2id$v=19$m=4294967295,t=1,p=1\"\n",
            files: &[],
            env: &[],
            expected: "error: passwords.cost: expected the start of a bcrypt hash (`$2b$04` to `$2b$15`) or an argon2 hash (at most m=262144, t=10, p=16) such as `$argon2id$v=19$m=19456,t=2,p=1`, found `$argon2id$v=19$m=4294967295,t=1,p=1`\n  --> <dir>/authgate.yaml:4:9",
        },
        Case {
            name: "zero_script_limits_would_mean_unlimited_and_are_refused",
            config: "url: http://localhost\n{secret}\nscripting:\n  maxOperations: 0\n",
            files: &[],
            env: &[],
            expected: "error: scripting.maxOperations: must be at least 1, found `0`\n  --> <dir>/authgate.yaml:4:18",
        },
        Case {
            name: "nested_default_is_refused_not_left_literal",
            config: "url: ${URL:-${FALLBACK}}\n{secret}\n",
            files: &[],
            env: &[],
            expected: "error: url: `${URL:-...}`: a default cannot contain another `${...}`\n  --> <dir>/authgate.yaml:1:6",
        },
    ]);
}

#[test]
fn scripts_that_do_not_compile_point_inside_the_yaml() {
    run(&[
        Case {
            name: "block_scalar_error_line_is_the_yaml_line",
            config: "url: http://localhost\n{secret}\ncallbacks:\n  jwt: |\n    let role = \"admin\";\n    token.role = role +;\n    token\n",
            files: &[],
            env: &[],
            expected: "error: callbacks.jwt: script does not compile: Unexpected ';'\n  --> <dir>/authgate.yaml:6:24",
        },
        Case {
            name: "folded_script_error_points_at_the_scalar",
            config: "url: http://localhost\n{secret}\ncallbacks:\n  jwt: >\n    let a = 1;\n\n    let = 2;\n",
            files: &[],
            env: &[],
            expected: "error: callbacks.jwt: script does not compile: Expecting name of a variable\n  --> <dir>/authgate.yaml:5:5",
        },
        Case {
            name: "script_file_error_points_into_the_rhai_file",
            config: "url: http://localhost\n{secret}\ncallbacks:\n  session:\n    file: scripts/session.rhai\n",
            files: &[(
                "scripts/session.rhai",
                "session.user.id = token.sub;\nlet = 1;\nsession\n",
            )],
            env: &[],
            expected: "error: callbacks.session: script does not compile: Expecting name of a variable\n  --> <dir>/scripts/session.rhai:2:5",
        },
        Case {
            name: "missing_script_file_is_named",
            config: "url: http://localhost\n{secret}\ncallbacks:\n  session:\n    file: nowhere.rhai\n",
            files: &[],
            env: &[],
            expected: "error: callbacks.session.file: cannot load script `<dir>/nowhere.rhai`: file not found\n  --> <dir>/authgate.yaml:5:11",
        },
        Case {
            name: "dropin_profile_script_error_points_into_the_dropin",
            config: "url: http://localhost\n{secret}\n",
            files: &[(
                "providers.d/acme.yaml",
                "type: oauth\nclientId: a\nauthorization: https://acme.example/authorize\ntoken: https://acme.example/token\nprofile: |\n  #{ id: profile.sub,, }\n",
            )],
            env: &[],
            expected: "error: providers[0].profile: script does not compile: Expecting name of a property\n  --> <dir>/providers.d/acme.yaml:6:22",
        },
        Case {
            name: "dropin_with_the_id_of_a_config_provider_points_at_both",
            config: "url: http://localhost\n{secret}\nproviders:\n  - use: github\n    clientId: a\n    clientSecret: b\n",
            files: &[(
                "providers.d/github.yaml",
                "use: github\nclientId: c\nclientSecret: d\n",
            )],
            env: &[],
            expected: "error: providers[1].id: duplicate provider id `github` (already used by providers[0] at <dir>/authgate.yaml:4:5)\n  --> <dir>/providers.d/github.yaml:1:1",
        },
        Case {
            name: "two_dropins_with_one_id_point_at_both",
            config: "url: http://localhost\n{secret}\n",
            files: &[
                (
                    "providers.d/gl.yaml",
                    "use: gitlab\nclientId: a\nclientSecret: b\n",
                ),
                (
                    "providers.d/gl2.yaml",
                    "id: gl\nuse: gitlab\nclientId: a\nclientSecret: b\n",
                ),
            ],
            env: &[],
            expected: "error: providers[1].id: duplicate provider id `gl` (already used by providers[0] at <dir>/providers.d/gl.yaml:1:1)\n  --> <dir>/providers.d/gl2.yaml:1:5",
        },
        Case {
            name: "dropin_file_name_that_is_not_an_id_needs_an_id",
            config: "url: http://localhost\n{secret}\n",
            files: &[(
                "providers.d/acme corp.yaml",
                "use: github\nclientId: a\nclientSecret: b\n",
            )],
            env: &[],
            expected: "error: id: the file name `acme corp.yaml` is not a provider id (letters, digits, `-` and `_`); set `id:`\n  --> <dir>/providers.d/acme corp.yaml:1:1",
        },
        Case {
            name: "a_copied_template_in_the_dropins_is_not_exempt_from_required_fields",
            config: "url: http://localhost\n{secret}\n",
            files: &[(
                "providers.d/kc.yaml",
                "type: oidc\nrequires: [clientId, issuer]\n",
            )],
            env: &[],
            expected: "error: providers[0].requires: `requires` belongs to preset templates; a provider states the fields itself (or says `use: <preset>`)\n  --> <dir>/providers.d/kc.yaml:2:11\nerror: providers[0].clientId: required property is missing\n  --> <dir>/providers.d/kc.yaml:1:1\nerror: providers[0].issuer: required property is missing (an oidc provider discovers its endpoints from the issuer)\n  --> <dir>/providers.d/kc.yaml:1:1",
        },
        Case {
            name: "dropin_unknown_preset_points_into_the_dropin",
            config: "url: http://localhost\n{secret}\n",
            files: &[(
                "providers.d/gh.yaml",
                "use: githib\nclientId: a\nclientSecret: b\n",
            )],
            env: &[],
            expected: "error: providers[0].use: unknown preset `githib`, did you mean `github`?\n  --> <dir>/providers.d/gh.yaml:1:6",
        },
        Case {
            name: "dropin_missing_required_field_points_into_the_dropin",
            config: "url: http://localhost\n{secret}\n",
            files: &[("providers.d/github.yaml", "use: github\nclientId: a\n")],
            env: &[],
            expected: "error: providers[0].clientSecret: required by preset `github` and missing\n  --> <dir>/providers.d/github.yaml:1:1",
        },
    ]);
}

fn diagnostics_for(source: &ConfigSource) -> String {
    let env: HashMap<String, String> = HashMap::new();
    match build_pipeline(source, &env, 1) {
        Ok(_) => "ok".into(),
        Err(diagnostics) => diagnostics.to_string().trim_end().to_string(),
    }
}

#[test]
fn config_path_that_is_a_directory_a_pipe_a_device_missing_or_not_utf8_is_reported() {
    let dir = ConfigDir::new("url: http://localhost\n");
    let as_directory = dir.path().join("conf.d");
    std::fs::create_dir_all(&as_directory).unwrap();
    let display = as_directory.display().to_string();
    assert_eq!(
        diagnostics_for(&ConfigSource::new(&as_directory)),
        format!("error: expected a file, found a directory\n  --> {display}:1:1")
    );

    let missing = dir.path().join("missing.yaml");
    assert_eq!(
        diagnostics_for(&ConfigSource::new(&missing)),
        format!("error: file not found\n  --> {}:1:1", missing.display())
    );

    dir.write_bytes("latin1.yaml", b"url: http://caf\xe9.example\n");
    let latin1 = dir.path().join("latin1.yaml");
    assert_eq!(
        diagnostics_for(&ConfigSource::new(&latin1)),
        format!(
            "error: file is not valid UTF-8\n  --> {}:1:16",
            latin1.display()
        )
    );

    let fifo = dir.path().join("fifo.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    assert_eq!(
        diagnostics_for(&ConfigSource::new(&fifo)),
        format!(
            "error: expected a regular file, found a device, socket or pipe\n  --> {}:1:1",
            fifo.display()
        )
    );
    assert_eq!(
        diagnostics_for(&ConfigSource::new("/dev/zero")),
        "error: expected a regular file, found a device, socket or pipe\n  --> /dev/zero:1:1"
    );

    let huge = dir.path().join("huge.yaml");
    std::fs::write(&huge, "a".repeat(2 * 1024 * 1024)).unwrap();
    assert_eq!(
        diagnostics_for(&ConfigSource::new(&huge)),
        format!(
            "error: file is 2097152 bytes, larger than the 1048576-byte limit\n  --> {}:1:1",
            huge.display()
        )
    );
}
