//! An in-memory store plugin that acts for the caller (ABI 1.1): it stores each image in its
//! caller's project, and lets other projects read it only as its ACL says, as a multi-tenant
//! object store would. The kit's tests use it to check what reaches a driver as the caller.
//!
//! - `put` needs a token and a project: the location is `ctx://<project>/<image id>`.
//! - `get`, `size` and `delete` are allowed to the owning project; `get` and `size` also to
//!   projects the ACL names, or to everyone when it is public. Others get `PermissionDenied`.
//! - `set_acls` is allowed to the owning project.
//! - Without a caller, every operation fails with `PermissionDenied`: this store needs one.
//! - An image id `echo-context` stores the context it was given, with the token masked but its
//!   length kept, so a test can see what crossed.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::{Bytes, BytesMut};
use futures::{StreamExt, stream};
use glint_sdk::{
    Acl, Capabilities, ContextCapabilities, DataStream, ErrorKind, GetOutcome, OpenContext,
    PutOutcome, ReadRange, RequestContext, StoreDriver, StoreError,
};

struct Object {
    owner: String,
    data: Bytes,
    acl: Acl,
}

#[derive(Default)]
struct ContextStore {
    objects: Mutex<HashMap<String, Object>>,
}

fn denied(message: String) -> StoreError {
    StoreError::new(ErrorKind::PermissionDenied, message)
}

fn project(ctx: &RequestContext) -> Result<&str, StoreError> {
    match ctx.project_id.as_deref() {
        Some(project) if !ctx.auth_token.is_empty() => Ok(project),
        _ => Err(denied(
            "this store needs a caller's token and project".into(),
        )),
    }
}

impl ContextStore {
    /// Runs `f` on the object at `location` when `ctx` may touch it (`read`: also as a reader).
    fn with<T>(
        &self,
        ctx: &RequestContext,
        location: &str,
        read: bool,
        f: impl FnOnce(&mut Object) -> T,
    ) -> Result<T, StoreError> {
        let caller = project(ctx)?;
        let mut objects = self.objects.lock().unwrap();
        let object = objects
            .get_mut(location)
            .ok_or_else(|| StoreError::new(ErrorKind::NotFound, format!("{location} not found")))?;
        let reader = object.acl.public || object.acl.read_projects.iter().any(|p| p == caller);
        if object.owner != caller && !(read && reader) {
            return Err(denied(format!(
                "project {caller} may not access {location}"
            )));
        }
        Ok(f(object))
    }
}

impl StoreDriver for ContextStore {
    const DRIVER: &'static str = "context";

    fn open(_: OpenContext, _: serde_json::Value) -> Result<Self, StoreError> {
        Ok(ContextStore::default())
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            read: true,
            write: true,
            delete: true,
            size: true,
            ..Capabilities::default()
        }
    }

    fn context_capabilities(&self) -> ContextCapabilities {
        ContextCapabilities {
            per_request_context: true,
            acls: true,
        }
    }

    async fn put(
        &self,
        caller: Option<&RequestContext>,
        image_id: &str,
        _size_hint: Option<u64>,
        mut data: DataStream,
    ) -> Result<PutOutcome, StoreError> {
        let ctx = needs(caller)?;
        let owner = project(ctx)?.to_owned();
        let mut buffer = BytesMut::new();
        while let Some(chunk) = data.next().await {
            buffer.extend_from_slice(&chunk?);
        }
        if image_id == "echo-context" {
            let seen = format!(
                "token:{} project:{} catalog:{}",
                ctx.auth_token.len(),
                owner,
                ctx.service_catalog_json.as_deref().unwrap_or("-")
            );
            buffer = BytesMut::from(seen.as_bytes());
        }
        let location = format!("ctx://{owner}/{image_id}");
        let size = buffer.len() as u64;
        let object = Object {
            owner,
            data: buffer.freeze(),
            acl: Acl::default(),
        };
        let mut objects = self.objects.lock().unwrap();
        if objects.contains_key(&location) {
            return Err(StoreError::new(ErrorKind::AlreadyExists, location));
        }
        objects.insert(location.clone(), object);
        Ok(PutOutcome {
            location,
            size,
            metadata: serde_json::Map::new(),
        })
    }

    async fn get(
        &self,
        caller: Option<&RequestContext>,
        location: &str,
        _range: Option<ReadRange>,
    ) -> Result<GetOutcome, StoreError> {
        let data = self.with(needs(caller)?, location, true, |object| object.data.clone())?;
        Ok(GetOutcome {
            total_size: data.len() as u64,
            data: stream::iter([Ok(data)]).boxed(),
        })
    }

    async fn size(
        &self,
        caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<u64, StoreError> {
        self.with(needs(caller)?, location, true, |object| {
            object.data.len() as u64
        })
    }

    async fn delete(
        &self,
        caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<(), StoreError> {
        self.with(needs(caller)?, location, false, |_| ())?;
        self.objects.lock().unwrap().remove(location);
        Ok(())
    }

    async fn set_acls(
        &self,
        ctx: &RequestContext,
        location: &str,
        acl: &Acl,
    ) -> Result<(), StoreError> {
        self.with(ctx, location, false, |object| object.acl = acl.clone())
    }
}

/// The caller every operation of this store needs.
fn needs(caller: Option<&RequestContext>) -> Result<&RequestContext, StoreError> {
    caller.ok_or_else(|| denied("this store needs a caller".into()))
}

glint_sdk::export_store_plugin!(ContextStore);
