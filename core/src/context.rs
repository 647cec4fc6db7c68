//! Who is making a request, as the API and the services see it.

/// The caller of one request.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// `req-<uuid>`, echoed in `x-openstack-request-id`.
    pub request_id: String,
    pub is_admin: bool,
    pub project_id: Option<String>,
    pub user_id: Option<String>,
    /// Role names, lower-cased.
    pub roles: Vec<String>,
}

impl RequestContext {
    /// Glance's unauthenticated context: an administrator with no user or project.
    pub fn noauth(request_id: String) -> Self {
        Self {
            request_id,
            is_admin: true,
            project_id: None,
            user_id: None,
            roles: Vec::new(),
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
            .field("roles", &self.roles)
            .finish()
    }
}
