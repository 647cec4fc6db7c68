//! The generated Rust client through a full flow against the real `glint serve`.

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use glint_blackbox::{Glint, md5_hex, pattern};
use glint_client::types::{
    ContainerFormat, DiskFormat, ImageImportMethod, ImagePatchOp, ImageSortKey, ImageStatus,
    ImageVisibility, ImportMethodName, MemberStatus, NamespaceVisibility, PatchOp,
};
use glint_client::{Client, Error};
use serde_json::json;
use uuid::Uuid;

async fn bytes(stream: glint_client::ResponseValue<glint_client::ByteStream>) -> Vec<u8> {
    let chunks: Vec<bytes::Bytes> = stream
        .into_inner()
        .into_inner()
        .try_collect()
        .await
        .unwrap();
    chunks.concat()
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_client_full_flow() {
    let g = Glint::start().await;
    let glint = Client::with_token(&g.url, "any").unwrap();
    let data = pattern(3 * 1024 * 1024 + 17, 9);

    // Create, upload (streamed from chunks), download with the bytes compared, a range.
    let image = glint
        .create_image()
        .body_map(|b| {
            b.extra(std::collections::HashMap::<String, String>::new())
                .name(Some("rust-flow".to_owned()))
                .disk_format(Some(DiskFormat::Raw))
                .container_format(Some(ContainerFormat::Bare))
                .visibility(Some(ImageVisibility::Shared))
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(image.status, ImageStatus::Queued);
    assert_eq!((image.size, image.checksum.as_deref()), (None, None));
    let id = image.id.to_string();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        data.chunks(1 << 20).map(|c| Ok(c.to_vec())).collect();
    glint
        .upload_image_data()
        .image_id(&id)
        .x_openstack_image_size(data.len().to_string())
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    let shown = glint.show_image().image_id(&id).send().await.unwrap();
    assert_eq!(shown.status, ImageStatus::Active);
    assert_eq!(shown.size, Some(data.len() as i64));
    assert_eq!(shown.checksum.as_deref(), Some(md5_hex(&data).as_str()));
    let whole = glint
        .download_image_data()
        .image_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(bytes(whole).await, data);
    let ranged = glint.download_range(&id, 10, 99).await.unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.bytes().await.unwrap(), &data[10..100]);

    // JSON-patch, sent as Glance's v2.1 media type.
    let patched = glint
        .update_image()
        .image_id(&id)
        .body(vec![
            ImagePatchOp {
                op: PatchOp::Replace,
                path: "/name".into(),
                value: Some(json!("rust-flow-renamed")),
            },
            ImagePatchOp {
                op: PatchOp::Add,
                path: "/purpose".into(),
                value: Some(json!("testing")),
            },
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(patched.name.as_deref(), Some("rust-flow-renamed"));
    assert_eq!(patched.extra["purpose"], "testing");

    // Tags, and a list filtered by one.
    let tag = format!("rust-{}", Uuid::new_v4().simple());
    glint
        .add_image_tag()
        .image_id(&id)
        .tag(&tag)
        .send()
        .await
        .unwrap();
    let tagged = glint
        .list_images()
        .tag(vec![tag.clone()])
        .send()
        .await
        .unwrap();
    assert_eq!(
        tagged.images.iter().map(|i| i.id).collect::<Vec<_>>(),
        [image.id]
    );

    // Members.
    let member = glint
        .create_image_member()
        .image_id(&id)
        .body_map(|b| b.member("project-b".to_owned()))
        .send()
        .await
        .unwrap();
    assert_eq!(member.status, MemberStatus::Pending);
    let members = glint
        .list_image_members()
        .image_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(members.members.len(), 1);

    // A filtered list, paged by the marker.
    let prefix = format!("page-{}", Uuid::new_v4().simple());
    let mut made = Vec::new();
    for _ in 0..5 {
        let created = glint
            .create_image()
            .body_map(|b| {
                b.extra(std::collections::HashMap::<String, String>::new())
                    .name(Some(prefix.clone()))
            })
            .send()
            .await
            .unwrap();
        made.push(created.id);
    }
    let (mut seen, mut marker) = (Vec::new(), None::<Uuid>);
    loop {
        let mut request = glint
            .list_images()
            .name(&prefix)
            .limit(2u32)
            .sort_key(vec![ImageSortKey::Name, ImageSortKey::Id]);
        if let Some(m) = marker {
            request = request.marker(m);
        }
        let page = request.send().await.unwrap().into_inner();
        assert!(page.images.len() <= 2);
        seen.extend(page.images.iter().map(|i| i.id));
        if page.next.is_none() {
            break;
        }
        marker = page.images.last().map(|i| i.id);
    }
    seen.sort();
    made.sort();
    assert_eq!(seen, made);

    // A glance-direct import: stage, then import.
    let staged = glint
        .create_image()
        .body_map(|b| {
            b.extra(std::collections::HashMap::<String, String>::new())
                .name(Some("rust-import".to_owned()))
                .disk_format(Some(DiskFormat::Raw))
                .container_format(Some(ContainerFormat::Bare))
        })
        .send()
        .await
        .unwrap();
    let sid = staged.id.to_string();
    glint
        .stage_image_data()
        .image_id(&sid)
        .body(data[..4096].to_vec())
        .send()
        .await
        .unwrap();
    let accepted = glint
        .import_image()
        .image_id(&sid)
        .body_map(|b| {
            b.method(ImageImportMethod {
                name: ImportMethodName::GlanceDirect,
                uri: None,
                glance_image_id: None,
                glance_region: None,
                glance_service_interface: None,
            })
        })
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = glint.show_image().image_id(&sid).send().await.unwrap();
        if s.status == ImageStatus::Active {
            break;
        }
        assert!(Instant::now() < deadline, "import stuck in {:?}", s.status);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let imported = glint
        .download_image_data()
        .image_id(&sid)
        .send()
        .await
        .unwrap();
    assert_eq!(bytes(imported).await, &data[..4096]);

    // A metadef namespace round trip.
    let ns = format!("RustFlow::{}", Uuid::new_v4().simple());
    let created = glint
        .create_metadef_namespace()
        .body_map(|b| {
            b.namespace(ns.clone())
                .display_name(Some("Rust flow".to_owned()))
                .visibility(Some(NamespaceVisibility::Public))
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.namespace, ns);
    glint
        .create_metadef_object()
        .namespace(&ns)
        .body_map(|b| b.name("obj".to_owned()))
        .send()
        .await
        .unwrap();
    glint
        .create_metadef_tag()
        .namespace(&ns)
        .tag_name("flow-tag")
        .send()
        .await
        .unwrap();
    let full = glint
        .show_metadef_namespace()
        .namespace(&ns)
        .send()
        .await
        .unwrap();
    assert_eq!(full.objects.len(), 1);
    assert_eq!(full.tags[0].name.to_string(), "flow-tag");
    glint
        .delete_metadef_namespace()
        .namespace(&ns)
        .send()
        .await
        .unwrap();

    // A 404, parsed into the typed error.
    match glint
        .show_image()
        .image_id(Uuid::new_v4().to_string())
        .send()
        .await
    {
        Err(Error::ErrorResponse(e)) => {
            assert_eq!(e.status(), 404);
            assert_eq!(e.code, "404 Not Found");
        }
        other => panic!("expected a typed 404, got {other:?}"),
    }
    glint.delete_image().image_id(&id).send().await.unwrap();
}
