//! Who is making a request, as the API and the services see it.

pub mod identity;

use identity::{Identity, UserToken};

/// The caller of one request.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// `req-<uuid>`, echoed in `x-openstack-request-id`.
    pub request_id: String,
    pub is_admin: bool,
    pub project_id: Option<String>,
    pub user_id: Option<String>,
    pub user_domain_id: Option<String>,
    pub project_domain_id: Option<String>,
    /// The domain of a domain-scoped token.
    pub domain_id: Option<String>,
    /// `all` for a system-scoped token.
    pub system_scope: Option<String>,
    /// Role names, lower-cased.
    pub roles: Vec<String>,
    /// Roles of a valid `X-Service-Token`, lower-cased.
    pub service_roles: Vec<String>,
    /// The caller's own token, for calls made on its behalf; redacted in `Debug`.
    pub auth_token: Option<UserToken>,
}

impl RequestContext {
    /// Glance's unauthenticated context: an administrator with no user or project.
    pub fn noauth(request_id: String) -> Self {
        Self {
            is_admin: true,
            ..Self::anonymous(request_id)
        }
    }

    /// A caller without credentials, for what needs none (version discovery).
    pub fn anonymous(request_id: String) -> Self {
        Self {
            request_id,
            is_admin: false,
            project_id: None,
            user_id: None,
            user_domain_id: None,
            project_domain_id: None,
            domain_id: None,
            system_scope: None,
            roles: Vec::new(),
            service_roles: Vec::new(),
            auth_token: None,
        }
    }

    /// The bearer of a validated token, with the roles of a validated
    /// service token if one came along. Administrators have the admin role.
    pub fn from_identity(request_id: String, user: &Identity, service: Option<&Identity>) -> Self {
        Self {
            request_id,
            is_admin: user.roles.iter().any(|r| r == "admin"),
            project_id: user.project_id.clone(),
            user_id: Some(user.user_id.clone()),
            user_domain_id: user.user_domain_id.clone(),
            project_domain_id: user.project_domain_id.clone(),
            domain_id: user.domain_id.clone(),
            system_scope: user.system_scope.clone(),
            roles: user.roles.clone(),
            service_roles: service.map(|s| s.roles.clone()).unwrap_or_default(),
            auth_token: None,
        }
    }

    /// The listing scope of this caller.
    pub fn scope(&self) -> crate::domain::Scope {
        crate::domain::Scope {
            is_admin: self.is_admin,
            project_id: self.project_id.clone(),
        }
    }
}

// Hand-written so that credentials added later can never reach a log line.
impl std::fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestContext")
            .field("request_id", &self.request_id)
            .field("is_admin", &self.is_admin)
            .field("project_id", &self.project_id)
            .field("user_id", &self.user_id)
            .field("user_domain_id", &self.user_domain_id)
            .field("project_domain_id", &self.project_domain_id)
            .field("domain_id", &self.domain_id)
            .field("system_scope", &self.system_scope)
            .field("roles", &self.roles)
            .field("service_roles", &self.service_roles)
            .field("auth_token", &self.auth_token)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(roles: &[&str]) -> Identity {
        Identity {
            user_id: "u".into(),
            user_domain_id: Some("default".into()),
            project_id: Some("p".into()),
            project_domain_id: Some("default".into()),
            domain_id: None,
            system_scope: None,
            roles: roles.iter().map(|r| r.to_string()).collect(),
            expires_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn the_admin_role_makes_an_administrator() {
        let member =
            RequestContext::from_identity("req-1".into(), &identity(&["member", "reader"]), None);
        assert!(!member.is_admin);
        assert_eq!(member.project_id.as_deref(), Some("p"));
        assert_eq!(member.user_id.as_deref(), Some("u"));
        let admin =
            RequestContext::from_identity("req-2".into(), &identity(&["admin", "member"]), None);
        assert!(admin.is_admin);
    }

    #[test]
    fn service_roles_come_from_the_service_token_only() {
        let service = identity(&["service", "admin"]);
        let ctx =
            RequestContext::from_identity("req".into(), &identity(&["member"]), Some(&service));
        assert_eq!(ctx.service_roles, ["service", "admin"]);
        assert!(
            !ctx.is_admin,
            "a service token's roles do not make the user an administrator"
        );
    }
}
