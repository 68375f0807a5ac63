//! The HTTP suite shared by both adapters: every case starts a real server on a loopback
//! port for the adapter under test and talks to it with real HTTP clients (`reqwest`, and
//! the `oauth2` crate for interop). `suite!(Adapter)` instantiates every case as a test.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

pub mod cases;
pub mod client_jwt;
pub mod device;
pub mod dpop;
pub mod extension_grants;
pub mod fixture;
pub mod interop;
pub mod oidc;
pub mod pairwise;
pub mod par;
pub mod rate_limit;
pub mod registration;
pub mod resource_indicators;

use std::future::Future;
use std::net::TcpListener;

use portcullis_endpoints::Provider;
use portcullis_resource::Resource;

/// A running server; dropping it stops the server.
pub struct Server {
    /// `http://127.0.0.1:<port>`, also the provider's issuer.
    pub base: String,
    /// Stops the server when dropped.
    pub stop: Box<dyn Send + Sync>,
}

/// How to serve a provider (and a protected API) with one web framework.
///
/// The app it serves must mount `portcullis`'s endpoints at their default paths and these
/// protected routes, answering JSON `{"sub", "client_id", "scope"}` of the caller:
/// - `GET /api/me`, guarded by the scope `view:users`;
/// - `GET /api/audit`, guarded by the role `auditor` in division `emea`.
pub trait Adapter: Send + Sync + 'static {
    /// The framework's name, for messages.
    const NAME: &'static str;

    /// Serves `provider` and `resource` on `listener` (already bound to 127.0.0.1:0).
    fn serve(
        listener: TcpListener,
        provider: Provider,
        resource: Resource,
    ) -> impl Future<Output = Server> + Send;
}

/// One `#[tokio::test]` per case for `$adapter`.
#[macro_export]
macro_rules! suite {
    ($adapter:ty) => {
        $crate::suite!(@cases $adapter;
            token_client_credentials_basic,
            token_response_headers,
            token_invalid_client_wrong_secret_basic,
            token_invalid_client_unknown_post,
            token_no_client_authentication,
            token_auth_method_mismatch,
            token_both_auth_methods,
            token_get_not_allowed,
            token_non_form_body,
            token_body_too_large,
            token_duplicate_parameter,
            token_unsupported_grant_type,
            token_unauthorized_client,
            token_invalid_scope,
            token_revoked_client,
            revoke_access_token,
            revoke_unknown_token_is_ok,
            revoke_requires_client_authentication,
            revoke_unsupported_token_type_hint,
            introspect_active_token,
            introspect_unknown_token,
            introspect_requires_client_authentication,
            introspect_other_clients_token_is_inactive,
            authorize_unknown_client_no_redirect,
            authorize_mismatched_redirect_no_redirect,
            authorize_missing_response_type_redirects_error,
            authorize_public_client_needs_pkce,
            authorize_redirects_to_login,
            login_page_is_a_protected_form,
            login_wrong_password,
            login_without_csrf_is_refused,
            code_flow_through_the_forms,
            consent_deny,
            session_skips_login,
            prompt_none_without_session,
            authorize_by_post,
            api_without_token,
            api_malformed_authorization,
            api_unknown_token,
            api_expired_token,
            api_revoked_token,
            api_insufficient_scope,
            api_good_token,
            api_role_guard,
            api_token_in_query_is_ignored,
            api_refresh_token_is_not_an_access_token,
            interop_oauth2_client_credentials,
            interop_oauth2_code_pkce_refresh_revoke,
            oidc_rp_journey_es256,
            oidc_rp_journey_eddsa,
            oidc_rp_journey_rs256,
            oidc_key_rotation,
            oidc_id_token_negative_cases,
            oidc_userinfo_token_in_query_refused,
            oidc_logout_unregistered_redirect_refused,
            oidc_discovery_documents,
            device_flow_approve,
            device_flow_deny,
            device_flow_expired,
            device_flow_negative_table,
            device_flow_user_code_rate_limit,
            device_flow_discovery_only_when_enabled,
            dpop_bound_token_on_protected_route,
            dpop_negative_table,
            dpop_discovery_only_when_enabled,
            jwt_bearer_assertion_for_a_token,
            jwt_bearer_replay_refused,
            jwt_bearer_fetched_jwks,
            jwt_bearer_negative_table,
            discovery_lists_extension_grants_only_when_registered,
            token_exchange_delegation,
            token_exchange_negative_table,
            resource_indicators_client_credentials,
            resource_indicators_code_flow,
            resource_indicators_negative_table,
            pairwise_subjects_per_sector,
            pairwise_negative_table,
            pairwise_registration_negative_table,
            pairwise_discovery_only_with_salt,
            par_code_flow,
            par_negative_table,
            par_required,
            interop_openidconnect_private_key_jwt,
            client_jwt_negative_table,
            client_secret_jwt_token,
            registration_open_and_use,
            registration_management,
            registration_negative_table,
            registration_discovery_only_when_enabled,
            rate_limit_token_per_client,
            rate_limit_token_per_ip,
            rate_limit_login_lockout,
        );
    };
    (@cases $adapter:ty; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::http::cases::$case::<$adapter>().await;
            }
        )+
    };
}
