//! `local-client`: a command-line OAuth 2.0 / OpenID Connect client for trying a provider
//! such as `local-server`.
//!
//! Its settings are those of an integration credential (client id and secret, issuer or
//! authorization and token URLs, redirect URI, scopes, response type, base URI); its
//! subcommands run one grant or token operation each and print the provider's answer as
//! JSON, with every JWT in it decoded (header and claims, not verified). Every OAuth error
//! response becomes one line of text, `error: <code> — <description> (HTTP <status>)`, and
//! exit code 1.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use clap::{Parser, Subcommand};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use url::Url;

/// A command-line OAuth 2.0 / OpenID Connect client for trying a provider.
#[derive(Debug, Parser)]
#[command(name = "local-client", version)]
struct Cli {
    /// The issuer; its discovery document supplies every endpoint not given explicitly.
    #[arg(long, env = "PORTCULLIS_CLIENT_ISSUER", global = true)]
    issuer: Option<String>,
    /// The authorization endpoint (instead of discovery).
    #[arg(long, env = "PORTCULLIS_CLIENT_AUTHORIZATION_URL", global = true)]
    authorization_url: Option<String>,
    /// The token endpoint (instead of discovery).
    #[arg(long, env = "PORTCULLIS_CLIENT_TOKEN_URL", global = true)]
    token_url: Option<String>,
    /// The client id.
    #[arg(long, env = "PORTCULLIS_CLIENT_CLIENT_ID", global = true)]
    client_id: Option<String>,
    /// The client secret (confidential clients; sent with HTTP Basic authentication).
    /// Generated secrets are base64url and may start with `-`, so hyphens are accepted.
    #[arg(
        long,
        env = "PORTCULLIS_CLIENT_CLIENT_SECRET",
        global = true,
        allow_hyphen_values = true
    )]
    client_secret: Option<String>,
    /// The redirect URI (`login`); a loopback URI without a port gets an ephemeral one.
    #[arg(long, env = "PORTCULLIS_CLIENT_REDIRECT_URI", global = true)]
    redirect_uri: Option<String>,
    /// The scopes to ask for, space-separated.
    #[arg(long, env = "PORTCULLIS_CLIENT_SCOPE", global = true)]
    scope: Option<String>,
    /// The response type (`login`); only `code` is supported.
    #[arg(
        long,
        env = "PORTCULLIS_CLIENT_RESPONSE_TYPE",
        default_value = "code",
        global = true
    )]
    response_type: String,
    /// The base URI of the protected API (`call`); the issuer when absent.
    #[arg(long, env = "PORTCULLIS_CLIENT_BASE_URI", global = true)]
    base_uri: Option<String>,
    /// Also write the token response (JSON) to this file.
    #[arg(long, env = "PORTCULLIS_CLIENT_SAVE", global = true)]
    save: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Get a token for the client itself (client credentials grant).
    ClientCredentials,
    /// Get a token for a user with their password (resource owner password grant).
    Password {
        /// The user's username.
        #[arg(long)]
        username: String,
        /// The user's password.
        #[arg(long, allow_hyphen_values = true)]
        password: String,
    },
    /// Ask the provider about a token (RFC 7662).
    Introspect {
        /// The token.
        token: String,
        /// `access_token` or `refresh_token`.
        #[arg(long)]
        token_type_hint: Option<String>,
    },
    /// Revoke a token (RFC 7009).
    Revoke {
        /// The token.
        token: String,
        /// `access_token` or `refresh_token`.
        #[arg(long)]
        token_type_hint: Option<String>,
    },
    /// The claims about the user an access token speaks for (OpenID Connect UserInfo).
    Userinfo {
        /// The access token.
        access_token: String,
    },
    /// Exchange a refresh token for new tokens.
    Refresh {
        /// The refresh token.
        refresh_token: String,
    },
    /// GET `--base-uri` + path with a bearer token.
    Call {
        /// The path, e.g. `/api/me`.
        path: String,
        /// The access token.
        #[arg(long)]
        token: String,
    },
    /// Sign in on another screen: the device authorization grant (RFC 8628). Prints the
    /// verification URI and user code, polls the token endpoint honoring `interval` and
    /// `slow_down`, and prints the tokens once the user approved.
    Device {
        /// The device authorization endpoint (instead of discovery).
        #[arg(long, env = "PORTCULLIS_CLIENT_DEVICE_AUTHORIZATION_URL")]
        device_authorization_url: Option<String>,
        /// Give up after this many seconds; default: the code's `expires_in`.
        #[arg(long)]
        timeout_secs: Option<u64>,
    },
    /// Sign in through the browser: authorization code + PKCE with a loopback redirect.
    Login {
        /// Try to open the URL with `xdg-open`.
        #[arg(long)]
        open: bool,
        /// How long to wait for the browser, in seconds.
        #[arg(long, default_value_t = 300)]
        timeout_secs: u64,
    },
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
enum Error {
    /// An OAuth error response.
    #[error("{}", oauth_text(.error, .description.as_deref(), *.status))]
    OAuth {
        error: String,
        description: Option<String>,
        status: Option<u16>,
    },
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

fn oauth_text(error: &str, description: Option<&str>, status: Option<u16>) -> String {
    let mut text = error.to_owned();
    if let Some(description) = description {
        text.push_str(" — ");
        text.push_str(description);
    }
    if let Some(status) = status {
        text.push_str(&format!(" (HTTP {status})"));
    }
    text
}

fn other(context: &str) -> impl Fn(reqwest::Error) -> Error + '_ {
    move |err| Error::Other(format!("{context}: {err}"))
}

/// The provider's endpoints.
#[derive(Debug, Default)]
struct Endpoints {
    issuer: Option<String>,
    authorization: Option<String>,
    token: Option<String>,
    introspection: Option<String>,
    revocation: Option<String>,
    userinfo: Option<String>,
    device_authorization: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Error> {
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(other("building the HTTP client"))?;
    let endpoints = endpoints(&cli, &http).await?;
    match &cli.command {
        Command::ClientCredentials => {
            let mut form = vec![("grant_type", "client_credentials".to_owned())];
            push_scope(&mut form, &cli);
            token_request(&cli, &http, &endpoints, form).await
        }
        Command::Password { username, password } => {
            let mut form = vec![
                ("grant_type", "password".to_owned()),
                ("username", username.clone()),
                ("password", password.clone()),
            ];
            push_scope(&mut form, &cli);
            token_request(&cli, &http, &endpoints, form).await
        }
        Command::Refresh { refresh_token } => {
            let mut form = vec![
                ("grant_type", "refresh_token".to_owned()),
                ("refresh_token", refresh_token.clone()),
            ];
            push_scope(&mut form, &cli);
            token_request(&cli, &http, &endpoints, form).await
        }
        Command::Introspect {
            token,
            token_type_hint,
        } => {
            let url = need(&endpoints.introspection, "introspection endpoint")?;
            let form = token_form(token, token_type_hint.as_deref());
            let response = authenticated(&cli, &http, url, form)?
                .send()
                .await
                .map_err(other("introspection request"))?;
            let body = json_answer(response).await?;
            print_json(&body);
            Ok(())
        }
        Command::Revoke {
            token,
            token_type_hint,
        } => {
            let url = need(&endpoints.revocation, "revocation endpoint")?;
            let form = token_form(token, token_type_hint.as_deref());
            let response = authenticated(&cli, &http, url, form)?
                .send()
                .await
                .map_err(other("revocation request"))?;
            let status = response.status();
            if !status.is_success() {
                return Err(error_of(response).await);
            }
            println!("revoked (HTTP {})", status.as_u16());
            Ok(())
        }
        Command::Userinfo { access_token } => {
            let url = need(&endpoints.userinfo, "userinfo endpoint")?;
            let response = http
                .get(url)
                .bearer_auth(access_token)
                .send()
                .await
                .map_err(other("userinfo request"))?;
            let body = json_answer(response).await?;
            print_json(&body);
            Ok(())
        }
        Command::Call { path, token } => {
            let base = cli
                .base_uri
                .as_deref()
                .or(endpoints.issuer.as_deref())
                .ok_or_else(|| Error::Other("call needs --base-uri (or --issuer)".into()))?;
            let url = format!("{}{}", base.trim_end_matches('/'), path);
            let response = http
                .get(&url)
                .bearer_auth(token)
                .send()
                .await
                .map_err(other("API request"))?;
            let status = response.status();
            if !status.is_success() {
                return Err(error_of(response).await);
            }
            let text = response.text().await.map_err(other("API response"))?;
            match serde_json::from_str::<Value>(&text) {
                Ok(body) => print_json(&body),
                Err(_) => println!("{text}"),
            }
            Ok(())
        }
        Command::Login { open, timeout_secs } => {
            login(&cli, &http, &endpoints, *open, *timeout_secs).await
        }
        Command::Device {
            device_authorization_url,
            timeout_secs,
        } => {
            let url = device_authorization_url
                .as_deref()
                .or(endpoints.device_authorization.as_deref())
                .ok_or_else(|| {
                    Error::Other(
                        "no device authorization endpoint known: pass --issuer (discovery), \
                         --token-url or --device-authorization-url"
                            .into(),
                    )
                })?;
            device(&cli, &http, &endpoints, url, *timeout_secs).await
        }
    }
}

/// The endpoints from the flags and, with `--issuer`, discovery.
async fn endpoints(cli: &Cli, http: &Client) -> Result<Endpoints, Error> {
    let mut endpoints = Endpoints::default();
    if let Some(issuer) = &cli.issuer {
        let issuer = issuer.trim_end_matches('/').to_owned();
        let mut document = None;
        for path in [
            "/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server",
        ] {
            let url = format!("{issuer}{path}");
            let response = http
                .get(&url)
                .send()
                .await
                .map_err(|err| Error::Other(format!("discovery at {url}: {err}")))?;
            if response.status().is_success() {
                document = Some(
                    response
                        .json::<Value>()
                        .await
                        .map_err(other("discovery document"))?,
                );
                break;
            }
        }
        let document =
            document.ok_or_else(|| Error::Other(format!("no discovery document at {issuer}")))?;
        let field = |name: &str| {
            document
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        endpoints.issuer = field("issuer").or(Some(issuer));
        endpoints.authorization = field("authorization_endpoint");
        endpoints.token = field("token_endpoint");
        endpoints.introspection = field("introspection_endpoint");
        endpoints.revocation = field("revocation_endpoint");
        endpoints.userinfo = field("userinfo_endpoint");
        endpoints.device_authorization = field("device_authorization_endpoint");
    }
    if let Some(url) = &cli.authorization_url {
        endpoints.authorization = Some(url.clone());
    }
    if let Some(url) = &cli.token_url {
        endpoints.token = Some(url.clone());
    }
    // Without discovery, the other endpoints are assumed to sit next to the token
    // endpoint as in local-server (`…/token` → `…/introspect`, `…/revoke`, `…/userinfo`).
    if let Some(prefix) = endpoints
        .token
        .as_deref()
        .and_then(|token| token.strip_suffix("/token"))
        .map(str::to_owned)
    {
        endpoints
            .introspection
            .get_or_insert_with(|| format!("{prefix}/introspect"));
        endpoints
            .revocation
            .get_or_insert_with(|| format!("{prefix}/revoke"));
        endpoints
            .userinfo
            .get_or_insert_with(|| format!("{prefix}/userinfo"));
        if cli.issuer.is_none() {
            endpoints
                .device_authorization
                .get_or_insert_with(|| format!("{prefix}/device_authorization"));
        }
    }
    Ok(endpoints)
}

fn need<'a>(endpoint: &'a Option<String>, what: &str) -> Result<&'a str, Error> {
    endpoint.as_deref().ok_or_else(|| {
        Error::Other(format!(
            "no {what} known: pass --issuer (discovery) or --token-url"
        ))
    })
}

fn push_scope(form: &mut Vec<(&'static str, String)>, cli: &Cli) {
    if let Some(scope) = &cli.scope {
        form.push(("scope", scope.clone()));
    }
}

fn token_form(token: &str, hint: Option<&str>) -> Vec<(&'static str, String)> {
    let mut form = vec![("token", token.to_owned())];
    if let Some(hint) = hint {
        form.push(("token_type_hint", hint.to_owned()));
    }
    form
}

/// A POST of `form` to `url` with the client's authentication: HTTP Basic with a secret
/// (RFC 6749 §2.3.1, id and secret form-encoded first), else `client_id` in the body.
fn authenticated(
    cli: &Cli,
    http: &Client,
    url: &str,
    mut form: Vec<(&'static str, String)>,
) -> Result<RequestBuilder, Error> {
    let client_id = cli
        .client_id
        .as_deref()
        .ok_or_else(|| Error::Other("--client-id is required".into()))?;
    let request = http.post(url);
    Ok(match &cli.client_secret {
        Some(secret) => {
            let encode = |value: &str| {
                url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>()
            };
            let credentials = STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)));
            request
                .header("authorization", format!("Basic {credentials}"))
                .form(&form)
        }
        None => {
            form.push(("client_id", client_id.to_owned()));
            request.form(&form)
        }
    })
}

/// Sends a token request and prints (and, with `--save`, saves) the answer.
async fn token_request(
    cli: &Cli,
    http: &Client,
    endpoints: &Endpoints,
    form: Vec<(&'static str, String)>,
) -> Result<(), Error> {
    let url = need(&endpoints.token, "token endpoint")?;
    let response = authenticated(cli, http, url, form)?
        .send()
        .await
        .map_err(other("token request"))?;
    let body = json_answer(response).await?;
    print_tokens(cli, &body)
}

/// Prints a token response and every JWT in it decoded; saves it when asked.
fn print_tokens(cli: &Cli, body: &Value) -> Result<(), Error> {
    print_json(body);
    for name in ["id_token", "access_token", "refresh_token"] {
        if let Some(decoded) = body.get(name).and_then(Value::as_str).and_then(decode_jwt) {
            println!("{name} decoded (header and claims; signature not verified):");
            print_json(&decoded);
        }
    }
    if let Some(path) = &cli.save {
        let text = serde_json::to_string_pretty(body).unwrap_or_default();
        std::fs::write(path, format!("{text}\n"))
            .map_err(|err| Error::Other(format!("saving to {}: {err}", path.display())))?;
        eprintln!("tokens saved to {}", path.display());
    }
    Ok(())
}

fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}

/// `{"header", "claims"}` of a compact JWS, or `None` when `token` is not one.
fn decode_jwt(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (header, claims, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let part = |text: &str| -> Option<Value> {
        let bytes = URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()?;
        let value: Value = serde_json::from_slice(&bytes).ok()?;
        value.is_object().then_some(value)
    };
    let mut out = Map::new();
    out.insert("header".into(), part(header)?);
    out.insert("claims".into(), part(claims)?);
    Some(Value::Object(out))
}

/// The JSON body of a successful answer, or the OAuth error it carries.
async fn json_answer(response: Response) -> Result<Value, Error> {
    if !response.status().is_success() {
        return Err(error_of(response).await);
    }
    let status = response.status().as_u16();
    let text = response.text().await.map_err(other("reading the answer"))?;
    serde_json::from_str(&text).map_err(|err| {
        Error::Other(format!(
            "the answer (HTTP {status}) is not JSON ({err}): {text}"
        ))
    })
}

/// The error of a failed answer: the JSON `error` and `error_description` (RFC 6749
/// §5.2), else those of `WWW-Authenticate` (RFC 6750 §3), else the status and body.
async fn error_of(response: Response) -> Error {
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await.unwrap_or_default();
    if let Ok(body) = serde_json::from_str::<Value>(&text)
        && let Some(error) = body.get("error").and_then(Value::as_str)
    {
        return Error::OAuth {
            error: error.to_owned(),
            description: body
                .get("error_description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            status: Some(status),
        };
    }
    if let Some(challenge) = &challenge
        && let Some(error) = challenge_param(challenge, "error")
    {
        return Error::OAuth {
            error,
            description: challenge_param(challenge, "error_description"),
            status: Some(status),
        };
    }
    let text = text.trim();
    if text.is_empty() {
        Error::Other(format!("HTTP {status}"))
    } else {
        Error::Other(format!("HTTP {status}: {text}"))
    }
}

/// A quoted parameter of a `WWW-Authenticate` challenge.
fn challenge_param(challenge: &str, name: &str) -> Option<String> {
    let pattern = format!("{name}=\"");
    let mut rest = challenge;
    while let Some(at) = rest.find(&pattern) {
        let before = rest.get(..at)?.chars().next_back();
        let value = rest.get(at + pattern.len()..)?;
        if before.is_none_or(|c| c == ' ' || c == ',') {
            return value
                .find('"')
                .and_then(|end| value.get(..end))
                .map(str::to_owned);
        }
        rest = value;
    }
    None
}

fn random() -> Result<String, Error> {
    portcullis_tokens::random_identifier().map_err(|err| Error::Other(err.to_string()))
}

/// Authorization code + PKCE (RFC 7636) through a loopback redirect (RFC 8252 §7.3).
async fn login(
    cli: &Cli,
    http: &Client,
    endpoints: &Endpoints,
    open: bool,
    timeout_secs: u64,
) -> Result<(), Error> {
    if cli.response_type != "code" {
        return Err(Error::Other(format!(
            "response type {:?} is not supported: login uses `code`",
            cli.response_type
        )));
    }
    let authorization = need(&endpoints.authorization, "authorization endpoint")?;
    let client_id = cli
        .client_id
        .as_deref()
        .ok_or_else(|| Error::Other("--client-id is required".into()))?;
    let redirect = cli
        .redirect_uri
        .as_deref()
        .unwrap_or("http://127.0.0.1/callback");
    let mut redirect = Url::parse(redirect)
        .map_err(|err| Error::Other(format!("--redirect-uri {redirect:?}: {err}")))?;
    let host = match redirect.host_str() {
        Some("localhost") => "127.0.0.1".to_owned(),
        Some(host) if redirect.scheme() == "http" => host.to_owned(),
        _ => {
            return Err(Error::Other(
                "login needs a loopback http redirect URI, e.g. http://127.0.0.1/callback".into(),
            ));
        }
    };
    // RFC 8252 §7.3: a loopback URI registered without a port matches any port; bind an
    // ephemeral one and put it in the URI sent.
    let port = redirect.port().unwrap_or(0);
    let listener = TcpListener::bind((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|err| Error::Other(format!("listening on {host}:{port}: {err}")))?;
    let bound = listener
        .local_addr()
        .map_err(|err| Error::Other(err.to_string()))?
        .port();
    if redirect.port().is_none() {
        redirect
            .set_port(Some(bound))
            .map_err(|()| Error::Other("cannot set the redirect port".into()))?;
    }

    let verifier = format!("{}{}", random()?, random()?);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let state = random()?;
    let mut url = Url::parse(authorization)
        .map_err(|err| Error::Other(format!("authorization endpoint: {err}")))?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect.as_str())
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        if let Some(scope) = &cli.scope {
            query.append_pair("scope", scope);
            if scope.split(' ').any(|s| s == "openid") {
                query.append_pair("nonce", &random()?);
            }
        }
    }
    eprintln!("Open this URL in a browser to sign in:");
    eprintln!("{url}");
    if open {
        let opened = std::process::Command::new("xdg-open")
            .arg(url.as_str())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        if let Err(err) = opened {
            eprintln!("(could not run xdg-open: {err}; open the URL yourself)");
        }
    }
    eprintln!("Waiting for the redirect on {redirect} …");

    let params = tokio::time::timeout(
        Duration::from_secs(timeout_secs),
        wait_for_redirect(&listener, redirect.path()),
    )
    .await
    .map_err(|_| Error::Other(format!("no redirect within {timeout_secs} s")))??;
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    if let (Some(expected), Some(iss)) = (&endpoints.issuer, param("iss"))
        && &iss != expected
    {
        return Err(Error::Other(format!(
            "the redirect's iss {iss:?} is not the issuer {expected:?} (RFC 9207)"
        )));
    }
    if param("state").as_deref() != Some(state.as_str()) {
        return Err(Error::Other("the redirect's state does not match".into()));
    }
    if let Some(error) = param("error") {
        return Err(Error::OAuth {
            error,
            description: param("error_description"),
            status: None,
        });
    }
    let code = param("code").ok_or_else(|| Error::Other("the redirect has no code".into()))?;
    let form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code),
        ("redirect_uri", redirect.to_string()),
        ("code_verifier", verifier),
    ];
    token_request(cli, http, endpoints, form).await
}

/// The device authorization grant (RFC 8628 §3): asks for a device code, tells the user
/// where to go, and polls until the user decided or the code expired.
async fn device(
    cli: &Cli,
    http: &Client,
    endpoints: &Endpoints,
    url: &str,
    timeout_secs: Option<u64>,
) -> Result<(), Error> {
    let token_url = need(&endpoints.token, "token endpoint")?;
    let mut form = Vec::new();
    push_scope(&mut form, cli);
    let response = authenticated(cli, http, url, form)?
        .send()
        .await
        .map_err(other("device authorization request"))?;
    let started = json_answer(response).await?;
    let text = |name: &str| {
        started
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| Error::Other(format!("the device authorization answer has no {name}")))
    };
    let device_code = text("device_code")?;
    let user_code = text("user_code")?;
    let verification_uri = text("verification_uri")?;
    // RFC 8628 §3.2: "If no value is provided, clients MUST use 5 as the default."
    let mut interval = started
        .get("interval")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_INTERVAL_SECS)
        .max(1);
    let expires_in = started
        .get("expires_in")
        .and_then(Value::as_u64)
        .unwrap_or(1800);
    eprintln!("To sign in, open {verification_uri} and enter the code {user_code}");
    if let Some(complete) = started
        .get("verification_uri_complete")
        .and_then(Value::as_str)
    {
        eprintln!("(or open {complete})");
    }
    eprintln!("Waiting for approval (polling every {interval} s) …");
    let deadline =
        std::time::Instant::now() + Duration::from_secs(timeout_secs.unwrap_or(expires_in));
    loop {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        if std::time::Instant::now() > deadline {
            return Err(Error::Other(
                "the device code expired before the user decided".into(),
            ));
        }
        let form = vec![
            ("grant_type", DEVICE_CODE_GRANT.to_owned()),
            ("device_code", device_code.clone()),
        ];
        let response = authenticated(cli, http, token_url, form)?
            .send()
            .await
            .map_err(other("token request"))?;
        if response.status().is_success() {
            let body = json_answer(response).await?;
            return print_tokens(cli, &body);
        }
        let err = error_of(response).await;
        match &err {
            Error::OAuth { error, .. } => match next_poll(interval, error) {
                Some(next) => {
                    if next != interval {
                        eprintln!("slow_down: polling every {next} s from now on");
                    }
                    interval = next;
                }
                None => return Err(err),
            },
            Error::Other(_) => return Err(err),
        }
    }
}

/// The `device_code` grant type (RFC 8628 §3.4).
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The polling interval when the provider names none (RFC 8628 §3.2).
const DEFAULT_INTERVAL_SECS: u64 = 5;

/// After a poll answered `error`, the interval for the next poll, or `None` to stop
/// (RFC 8628 §3.5): `authorization_pending` keeps it, `slow_down` adds 5 seconds, anything
/// else (`access_denied`, `expired_token`, …) ends the flow.
fn next_poll(interval: u64, error: &str) -> Option<u64> {
    match error {
        "authorization_pending" => Some(interval),
        "slow_down" => Some(interval.saturating_add(5)),
        _ => None,
    }
}

/// Serves the loopback listener until a request for `path` arrives; its query.
async fn wait_for_redirect(
    listener: &TcpListener,
    path: &str,
) -> Result<Vec<(String, String)>, Error> {
    loop {
        let (mut stream, _) = listener
            .accept()
            .await
            .map_err(|err| Error::Other(format!("loopback listener: {err}")))?;
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 2048];
        while !buffer.windows(4).any(|w| w == b"\r\n\r\n") && buffer.len() < 64 * 1024 {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buffer.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            }
        }
        let request = String::from_utf8_lossy(&buffer);
        let target = request
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("GET "))
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_default()
            .to_owned();
        let parsed = Url::parse(&format!("http://loopback{target}")).ok();
        let matches = parsed.as_ref().is_some_and(|url| url.path() == path);
        let (status, body) = if matches {
            (
                "200 OK",
                "<!doctype html><title>local-client</title><p>Signed in: you can close this window and go back to the terminal.</p>",
            )
        } else {
            ("404 Not Found", "not found")
        };
        let answer = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
        if let Some(url) = parsed.filter(|_| matches) {
            return Ok(url.query_pairs().into_owned().collect());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::next_poll;

    #[test]
    fn rfc8628_3_5_polling_steps() {
        let cases = [
            (
                "rfc8628_3_5_authorization_pending_keeps_the_interval",
                5,
                "authorization_pending",
                Some(5),
            ),
            (
                "rfc8628_3_5_slow_down_adds_5_seconds",
                5,
                "slow_down",
                Some(10),
            ),
            ("rfc8628_3_5_slow_down_again", 10, "slow_down", Some(15)),
            ("rfc8628_3_5_access_denied_stops", 5, "access_denied", None),
            ("rfc8628_3_5_expired_token_stops", 5, "expired_token", None),
            ("rfc6749_5_2_other_errors_stop", 5, "invalid_grant", None),
        ];
        for (name, interval, error, expected) in cases {
            assert_eq!(next_poll(interval, error), expected, "{name}");
        }
    }
}
