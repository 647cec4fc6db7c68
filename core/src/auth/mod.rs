//! Who is calling: the authentication strategies of `[auth]`, turning a
//! request's headers into its `RequestContext`.
//!
//! With Keystone this is keystonemiddleware's auth_token followed by Glance's
//! context middleware: the user token (`X-Auth-Token`) must be valid, an
//! optional service token (`X-Service-Token`) adds its roles when valid.

mod cache;

pub mod keystone;

use poem::http::HeaderMap;

use crate::config::{AuthConfig, AuthStrategy};
use crate::context::RequestContext;

pub use self::keystone::Keystone;
pub use crate::context::identity::{CatalogEndpoint, Identity, UserToken};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No token, or one Keystone does not accept.
    #[error("the request carries no valid token")]
    Unauthenticated,
    /// Keystone could not be asked or gave an answer that cannot be used.
    #[error("the identity service is unavailable: {0}")]
    Unavailable(String),
}

/// Why the configured strategy cannot be set up; the server does not start.
#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    #[error("auth.strategy = \"keystone\" needs an [auth.keystone] table")]
    MissingKeystone,
    #[error("auth.keystone.auth_url '{url}': {reason}")]
    AuthUrl { url: String, reason: String },
    #[error("cannot build the HTTP client that asks Keystone")]
    HttpClient(#[source] reqwest::Error),
}

/// The configured strategy, ready to authenticate requests.
pub enum Authenticator {
    Noauth,
    Keystone(Box<Keystone>),
}

impl Authenticator {
    pub fn new(config: &AuthConfig) -> Result<Self, AuthSetupError> {
        Ok(match (config.strategy, &config.keystone) {
            (AuthStrategy::Noauth, _) => Self::Noauth,
            (AuthStrategy::Keystone, Some(keystone)) => {
                Self::Keystone(Box::new(Keystone::new(keystone)?))
            }
            (AuthStrategy::Keystone, None) => return Err(AuthSetupError::MissingKeystone),
        })
    }

    /// The caller of a request that needs authentication.
    pub async fn context(
        &self,
        request_id: String,
        headers: &HeaderMap,
    ) -> Result<RequestContext, AuthError> {
        let keystone = match self {
            Self::Noauth => return Ok(RequestContext::noauth(request_id)),
            Self::Keystone(keystone) => keystone,
        };
        let token = header(headers, "x-auth-token").ok_or(AuthError::Unauthenticated)?;
        let user = keystone.validate(token).await?;
        let service = match header(headers, "x-service-token") {
            Some(token) => keystone.validate_service_token(token).await?,
            None => None,
        };
        let mut ctx = RequestContext::from_identity(request_id, &user, service.as_deref());
        ctx.auth_token = Some(UserToken::new(token));
        Ok(ctx)
    }

    /// The service catalog of a caller's token (Keystone only).
    pub async fn catalog(&self, token: &UserToken) -> Result<Vec<CatalogEndpoint>, AuthError> {
        match self {
            Self::Noauth => Err(AuthError::Unauthenticated),
            Self::Keystone(keystone) => keystone.catalog(token).await,
        }
    }

    /// `WWW-Authenticate` for a 401 answer, when the strategy has one.
    pub fn challenge(&self) -> Option<String> {
        match self {
            Self::Noauth => None,
            Self::Keystone(keystone) => Some(format!(
                "Keystone uri=\"{}\"",
                keystone.www_authenticate_uri()
            )),
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_token_never_shows_in_debug_output() {
        let mut ctx = RequestContext::anonymous("req-1".into());
        ctx.auth_token = Some(UserToken::new("gAAAA-secret-token"));
        let shown = format!("{ctx:?} {:?}", ctx.auth_token);
        assert!(!shown.contains("secret"), "{shown}");
        assert_eq!(ctx.auth_token.unwrap().expose(), "gAAAA-secret-token");
    }
}
