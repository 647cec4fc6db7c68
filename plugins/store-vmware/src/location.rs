//! Where an image lives: its datastore path, its file-service URL and its location, in Glance's
//! `vsphere://<host>/folder/<dir>/<id>?dcPath=<datacenter>&dsName=<datastore>` form.

use glint_sdk::names::is_safe_name;
use glint_sdk::{ErrorKind, StoreError};
use reqwest::Url;

use crate::config::{DatastoreSpec, VmwareConfig};

/// The scheme of this store's locations, as Glance writes them.
const SCHEME: &str = "vsphere";

/// A file of this store: a name in the image directory of one of its datastores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// Index into [`Layout::datastores`].
    pub datastore: usize,
    pub name: String,
}

/// The server, datastores and directory of one store.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `host[:port]` of the server.
    authority: String,
    image_dir: Vec<String>,
    pub datastores: Vec<DatastoreSpec>,
}

impl Layout {
    pub fn new(config: &VmwareConfig) -> Self {
        Layout {
            authority: config.authority(),
            image_dir: config.image_dir.clone(),
            datastores: config.datastores.clone(),
        }
    }

    /// `[datastore] dir/name`, the file's datastore path; also how messages name it.
    pub fn datastore_path(&self, object: &Object) -> String {
        format!(
            "[{}] {}/{}",
            self.datastores[object.datastore].name,
            self.image_dir.join("/"),
            object.name
        )
    }

    /// `[datastore] dir`, the image directory of a datastore.
    pub fn directory_path(&self, datastore: usize) -> String {
        format!(
            "[{}] {}",
            self.datastores[datastore].name,
            self.image_dir.join("/")
        )
    }

    /// The file's address on the datastore file service.
    pub fn url(&self, object: &Object) -> Url {
        self.folder_url("https", object)
    }

    /// The location recorded for an image, without credentials.
    pub fn location(&self, object: &Object) -> String {
        self.folder_url(SCHEME, object).into()
    }

    /// `<scheme>://<authority>/folder/<dir>/<name>?dcPath=<dc>&dsName=<ds>`.
    fn folder_url(&self, scheme: &str, object: &Object) -> Url {
        let datastore = &self.datastores[object.datastore];
        let mut url = Url::parse(&format!("{scheme}://{}/folder", self.authority))
            .expect("the configuration checked the host");
        url.path_segments_mut()
            .expect("a URL with a host has path segments")
            .extend(&self.image_dir)
            .push(&object.name);
        url.query_pairs_mut()
            .append_pair("dcPath", &datastore.datacenter)
            .append_pair("dsName", &datastore.name);
        url
    }

    /// The object at a location of this store. A location on another server, datastore or
    /// directory, or not naming a plain file, is refused with `PermissionDenied`.
    pub fn resolve(&self, location: &str) -> Result<Object, StoreError> {
        let outside = |reason: &str| {
            StoreError::new(
                ErrorKind::PermissionDenied,
                format!("location {location:?} is not in this store: {reason}"),
            )
        };
        let url = Url::parse(location).map_err(|err| outside(&err.to_string()))?;
        if url.scheme() != SCHEME {
            return Err(outside("not a vsphere:// location"));
        }
        let mut dc_path = None;
        let mut ds_name = None;
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "dcPath" => dc_path = Some(value.trim_matches('/').to_owned()),
                "dsName" => ds_name = Some(value.into_owned()),
                _ => {}
            }
        }
        let ds_name = ds_name.ok_or_else(|| outside("no dsName"))?;
        // Glance leaves dcPath out when it has none; then the datastore name decides.
        let datastore = self
            .datastores
            .iter()
            .position(|ds| {
                ds.name == ds_name && dc_path.as_ref().is_none_or(|path| *path == ds.datacenter)
            })
            .ok_or_else(|| outside("not on a configured datastore"))?;
        let name = url
            .path_segments()
            .and_then(|mut segments| segments.next_back())
            .filter(|name| is_safe_name(name))
            .ok_or_else(|| outside("not a plain file name"))?
            .to_owned();
        let object = Object { datastore, name };
        let canonical = self.folder_url(SCHEME, &object);
        let same_host = match (url.host_str(), canonical.host_str()) {
            (Some(theirs), Some(ours)) => theirs.eq_ignore_ascii_case(ours),
            _ => false,
        };
        if !same_host || url.port().unwrap_or(443) != canonical.port().unwrap_or(443) {
            return Err(outside("another server"));
        }
        if url.path() != canonical.path() {
            return Err(outside("not in the image directory"));
        }
        Ok(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn layout(host: &str, port: u16) -> Layout {
        Layout::new(
            &VmwareConfig::parse(json!({
                "host": host,
                "port": port,
                "username": "u",
                "password": "p",
                "datastores": ["DC0:LocalDS_0", "folder/dc 1:shared ds:5"],
                "store_image_dir": "/openstack_glance/",
            }))
            .unwrap(),
        )
    }

    fn object(datastore: usize, name: &str) -> Object {
        Object {
            datastore,
            name: name.to_owned(),
        }
    }

    #[test]
    fn locations_urls_and_paths() {
        let layout = layout("127.0.0.1", 8989);
        let id = "6f2b5a6e-0001-4000-8000-000000000001";
        assert_eq!(
            layout.location(&object(0, id)),
            format!(
                "vsphere://127.0.0.1:8989/folder/openstack_glance/{id}?dcPath=DC0&dsName=LocalDS_0"
            )
        );
        assert_eq!(
            layout.url(&object(1, id)).as_str(),
            format!(
                "https://127.0.0.1:8989/folder/openstack_glance/{id}?dcPath=folder%2Fdc+1&dsName=shared+ds"
            )
        );
        assert_eq!(
            layout.datastore_path(&object(1, id)),
            format!("[shared ds] openstack_glance/{id}")
        );
        for index in 0..2 {
            let location = layout.location(&object(index, id));
            assert_eq!(layout.resolve(&location).unwrap(), object(index, id));
        }
        // Glance's query order, and a default port written out, resolve too.
        let default_port = self::layout("vc.example", 443);
        assert_eq!(
            default_port
                .resolve("vsphere://VC.example:443/folder/openstack_glance/abc?dsName=LocalDS_0&dcPath=DC0")
                .unwrap(),
            object(0, "abc")
        );
        assert_eq!(
            default_port.location(&object(0, "abc")),
            "vsphere://vc.example/folder/openstack_glance/abc?dcPath=DC0&dsName=LocalDS_0"
        );
    }

    #[test]
    fn foreign_locations_are_refused() {
        let layout = layout("127.0.0.1", 8989);
        let base = "vsphere://127.0.0.1:8989/folder/openstack_glance";
        for bad in [
            "https://127.0.0.1:8989/folder/openstack_glance/a?dcPath=DC0&dsName=LocalDS_0"
                .to_owned(),
            "vsphere://10.0.0.1:8989/folder/openstack_glance/a?dcPath=DC0&dsName=LocalDS_0"
                .to_owned(),
            "vsphere://127.0.0.1/folder/openstack_glance/a?dcPath=DC0&dsName=LocalDS_0".to_owned(),
            format!("{base}/a?dcPath=DC0&dsName=OtherDS"),
            format!("{base}/a?dcPath=DC9&dsName=LocalDS_0"),
            format!("{base}/a?dcPath=DC0"),
            format!("{base}/.a.upload-1?dcPath=DC0&dsName=LocalDS_0"),
            format!("{base}/..?dcPath=DC0&dsName=LocalDS_0"),
            format!("{base}/sub/a?dcPath=DC0&dsName=LocalDS_0"),
            "vsphere://127.0.0.1:8989/folder/other/a?dcPath=DC0&dsName=LocalDS_0".to_owned(),
            "unsupported://location".to_owned(),
            String::new(),
        ] {
            let err = layout.resolve(&bad).unwrap_err();
            assert_eq!(err.kind, ErrorKind::PermissionDenied, "{bad}: {err}");
        }
    }
}
