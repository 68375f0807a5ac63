#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use portcullis_tokens::{TokenKind, mint};

use super::interaction_url;
use super::pages::consent_csp;
use super::session::{cookies, delivers_grant, handles, set_cookie};

#[test]
fn cookies_are_found_across_headers_and_pairs() {
    let mut headers = HeaderMap::new();
    headers.append("cookie", "a=1; portcullis_session=first".parse().unwrap());
    headers.append(
        "cookie",
        "portcullis_session=\"second\";b=2".parse().unwrap(),
    );
    headers.append("cookie", "portcullis_session_x=nope".parse().unwrap());
    let found: Vec<&str> = cookies(&headers, "portcullis_session").collect();
    assert_eq!(found, ["first", "second"]);
    assert_eq!(cookies(&headers, "missing").count(), 0);
}

#[test]
fn only_well_formed_session_handles_are_looked_up() {
    let session = mint(TokenKind::Session).unwrap();
    let access = mint(TokenKind::AccessToken).unwrap();
    let mut headers = HeaderMap::new();
    let cookie = format!(
        "portcullis_session=garbage; portcullis_session={}; portcullis_session={}",
        access.expose_secret(),
        session.expose_secret()
    );
    headers.insert("cookie", cookie.parse().unwrap());
    let found: Vec<_> = handles(&headers, "portcullis_session").collect();
    assert_eq!(found, [session.lookup_key()]);
}

#[test]
fn at_most_four_session_handles_are_looked_up() {
    let cookie = (0..10)
        .map(|_| {
            format!(
                "portcullis_session={}",
                mint(TokenKind::Session).unwrap().expose_secret()
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let mut headers = HeaderMap::new();
    headers.insert("cookie", cookie.parse().unwrap());
    assert_eq!(handles(&headers, "portcullis_session").count(), 4);
}

#[test]
fn set_cookie_attributes() {
    assert_eq!(
        set_cookie("portcullis_session", "v", Some(43_200), "Lax", true),
        "portcullis_session=v; Path=/; Max-Age=43200; HttpOnly; SameSite=Lax; Secure"
    );
    assert_eq!(
        set_cookie("portcullis_csrf", "t", None, "Strict", false),
        "portcullis_csrf=t; Path=/; HttpOnly; SameSite=Strict"
    );
}

#[cfg(feature = "ui")]
#[test]
fn random_bytes_differ() {
    use super::pages::random_bytes;
    assert_ne!(random_bytes().unwrap(), random_bytes().unwrap());
}

#[test]
fn interaction_urls_encode_the_id() {
    assert_eq!(
        interaction_url("/oauth/login", "pc_pa_abc-_"),
        "/oauth/login?interaction=pc_pa_abc-_"
    );
    assert_eq!(
        interaction_url("/sign-in?theme=dark", "a&b"),
        "/sign-in?theme=dark&interaction=a%26b"
    );
}

fn redirect(location: &str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::SEE_OTHER;
    response
        .headers_mut()
        .insert("location", location.parse().unwrap());
    response
}

fn page(status: StatusCode, body: &str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(body.to_owned()));
    *response.status_mut() = status;
    response
}

#[test]
fn only_answers_that_hand_out_a_grant_count() {
    let cases: [(&str, Response<Bytes>, bool); 10] = [
        (
            "code in the query",
            redirect("https://app.example/cb?code=pc_ac_x&state=s&iss=https%3A%2F%2Fid.example"),
            true,
        ),
        (
            "token in the fragment",
            redirect("https://app.example/cb#access_token=pc_at_x&token_type=Bearer"),
            true,
        ),
        (
            "id_token in the fragment",
            redirect("https://app.example/cb#id_token=e30.e30.sig"),
            true,
        ),
        (
            "error in the query",
            redirect("https://app.example/cb?error=access_denied&state=s"),
            false,
        ),
        (
            "error in the fragment",
            redirect("https://app.example/cb#error=login_required"),
            false,
        ),
        (
            "a login page",
            redirect("/oauth/login?interaction=pc_pa_x"),
            false,
        ),
        (
            "form post with a code",
            page(
                StatusCode::OK,
                "<input type=\"hidden\" name=\"code\" value=\"pc_ac_x\">",
            ),
            true,
        ),
        (
            "form post with an error",
            page(
                StatusCode::OK,
                "<input type=\"hidden\" name=\"error\" value=\"access_denied\">",
            ),
            false,
        ),
        (
            "an error page",
            page(StatusCode::BAD_REQUEST, "name=\"code\""),
            false,
        ),
        ("an empty 200", page(StatusCode::OK, ""), false),
    ];
    for (case, response, expected) in cases {
        assert_eq!(delivers_grant(&response), expected, "{case}");
    }
}

#[cfg(feature = "ui")]
#[test]
fn constant_time_eq_compares_exactly() {
    use super::pages::constant_time_eq;
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"ab"));
    assert!(constant_time_eq(b"", b""));
}

/// Browsers apply the consent page's `form-action` to the `303` that follows the decision
/// (found by the Chromium tests of local-server): the redirect URI's origin must be allowed.
#[test]
fn the_consent_page_may_lead_to_the_redirect_uri() {
    let csp = consent_csp("http://127.0.0.1:8400/callback?x=1");
    assert!(
        csp.contains("form-action 'self' http://127.0.0.1:8400;")
            || csp.ends_with("form-action 'self' http://127.0.0.1:8400"),
        "{csp}"
    );
    let native = consent_csp("com.example.app:/oauth2redirect");
    assert!(
        native.contains("form-action 'self' com.example.app:"),
        "{native}"
    );
    assert!(consent_csp("not a uri").contains("form-action 'self' 'none'"));
}
