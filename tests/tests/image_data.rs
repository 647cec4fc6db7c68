//! Image data: upload, download, ranges, hashes, failures.

use glint_blackbox::{Glint, StatusCode, md5_hex, pattern, sha512_hex};
use serde_json::json;

#[tokio::test]
async fn upload_then_download_with_hashes() {
    let g = Glint::start().await;
    let data = pattern(5 * 1024 * 1024 + 7, 1);
    let img = g.create_with_data("blob", &data).await;
    assert_eq!(img["status"], "active");
    assert_eq!(img["size"], data.len());
    assert_eq!(img["checksum"], md5_hex(&data));
    assert_eq!(img["os_hash_algo"], "sha512");
    assert_eq!(img["os_hash_value"], sha512_hex(&data));
    assert_eq!(img["stores"], "file");

    let r = g
        .get(&format!("/v2/images/{}/file", img["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    assert_eq!(r.headers()["content-md5"], md5_hex(&data).as_str());
    assert_eq!(
        r.headers()["content-length"],
        data.len().to_string().as_str()
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), data.as_slice());
}

#[tokio::test]
async fn chunked_upload_is_accepted() {
    let g = Glint::start().await;
    let img = g
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    let id = img["id"].as_str().unwrap();
    let data = pattern(3 * 1024 * 1024, 2);
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = data
        .chunks(100_000)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let r = g
        .put(&format!("/v2/images/{id}/file"))
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let img = g.show(id).await;
    assert_eq!(img["checksum"], md5_hex(&data));
}

#[tokio::test]
async fn ranges() {
    let g = Glint::start().await;
    let data = pattern(1000, 3);
    let img = g.create_with_data("r", &data).await;
    let path = format!("/v2/images/{}/file", img["id"].as_str().unwrap());
    for (range, first, last) in [
        ("bytes=0-9", 0, 9),
        ("bytes=990-", 990, 999),
        ("bytes=-5", 995, 999),
        ("bytes=500-5000", 500, 999),
    ] {
        let r = g.get(&path).header("range", range).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            r.headers()["content-range"],
            format!("bytes {first}-{last}/1000").as_str()
        );
        assert_eq!(
            r.bytes().await.unwrap().as_ref(),
            &data[first..=last],
            "{range}"
        );
    }
    let r = g
        .get(&path)
        .header("content-range", "bytes 10-19/1000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().await.unwrap().as_ref(), &data[10..20]);
    for range in [
        "bytes=1000-",
        "bytes=5-2",
        "bytes=x-y",
        "pages=1-2",
        "bytes=-0",
    ] {
        let r = g.get(&path).header("range", range).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
    }
    let r = g
        .get(&path)
        .header("range", "bytes=0-1,5-6")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn download_without_data_is_204() {
    let g = Glint::start().await;
    let img = g.create(json!({})).await;
    let r = g
        .get(&format!("/v2/images/{}/file", img["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn upload_needs_octet_stream_formats_and_a_queued_image() {
    let g = Glint::start().await;
    let img = g
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    let path = format!("/v2/images/{}/file", img["id"].as_str().unwrap());
    let r = g
        .put(&path)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let bare = g.create(json!({})).await;
    let r = g
        .put(&format!("/v2/images/{}/file", bare["id"].as_str().unwrap()))
        .header("content-type", "application/octet-stream")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        g.show(bare["id"].as_str().unwrap()).await["status"],
        "queued"
    );

    let r = g
        .put(&path)
        .header("content-type", "application/octet-stream")
        .body("abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = g
        .put(&path)
        .header("content-type", "application/octet-stream")
        .body("again")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = g
        .put(&path)
        .header("content-type", "application/octet-stream")
        .header("x-image-meta-store", "nowhere")
        .body("x")
        .send()
        .await
        .unwrap();
    assert!(r.status() == StatusCode::BAD_REQUEST || r.status() == StatusCode::CONFLICT);
}

#[tokio::test]
async fn unknown_store_is_400() {
    let g = Glint::start().await;
    let img = g
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    let id = img["id"].as_str().unwrap();
    let r = g
        .put(&format!("/v2/images/{id}/file"))
        .header("content-type", "application/octet-stream")
        .header("x-image-meta-store", "nowhere")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(g.show(id).await["status"], "queued");
}

#[tokio::test]
async fn size_mismatch_fails_leaves_queued_and_no_bytes_then_retry_succeeds() {
    let g = Glint::start().await;
    let img = g
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    let id = img["id"].as_str().unwrap();
    let path = format!("/v2/images/{id}/file");
    let r = g
        .put(&path)
        .header("content-type", "application/octet-stream")
        .header("x-openstack-image-size", "10")
        .body(vec![1u8; 20])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let now = g.show(id).await;
    assert_eq!(now["status"], "queued");
    assert_eq!(now["size"], serde_json::Value::Null);
    assert!(g.stored_files().is_empty(), "{:?}", g.stored_files());

    let r = g
        .put(&path)
        .header("content-type", "application/octet-stream")
        .header("x-openstack-image-size", "abc")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let data = pattern(4096, 9);
    let r = g
        .put(&path)
        .header("content-type", "application/octet-stream")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(g.stored_files(), vec![id.to_owned()]);
}

#[tokio::test]
async fn an_interrupted_upload_leaves_the_image_queued_and_no_bytes() {
    let g = Glint::start().await;
    let img = g
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    let id = img["id"].as_str().unwrap().to_owned();
    // The client declares 8 MiB, sends 3 MiB and hangs up.
    let mut stream = tokio::net::TcpStream::connect(g.url.trim_start_matches("http://"))
        .await
        .unwrap();
    use tokio::io::AsyncWriteExt;
    let head = format!(
        "PUT /v2/images/{id}/file HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        8 << 20
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&pattern(3 << 20, 4)).await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(stream);
    // The server notices, restores the image and removes the partial file.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let now = g.show(&id).await;
        if now["status"] == "queued" && g.stored_files().is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "status {} files {:?}",
            now["status"],
            g.stored_files()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn deleting_an_image_removes_its_data() {
    let g = Glint::start().await;
    let img = g.create_with_data("d", b"some bytes").await;
    let id = img["id"].as_str().unwrap();
    assert_eq!(g.stored_files(), vec![id.to_owned()]);
    assert_eq!(
        g.delete(&format!("/v2/images/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert!(g.stored_files().is_empty());
}

#[tokio::test]
async fn image_size_cap_is_413() {
    let g = Glint::start_with(&[("GLINT_API__IMAGE_SIZE_CAP", "1000")]).await;
    let img = g
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    let id = img["id"].as_str().unwrap();
    let r = g
        .put(&format!("/v2/images/{id}/file"))
        .header("content-type", "application/octet-stream")
        .body(vec![0u8; 1001])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(g.show(id).await["status"], "queued");
    assert!(g.stored_files().is_empty());
}

#[tokio::test]
async fn concurrent_creates_and_uploads_all_succeed_on_sqlite() {
    let g = Glint::start().await;
    let creates = (0..64).map(|i| {
        let g = &g;
        async move {
            let r = g.post("/v2/images").json(&json!({"name": format!("c{i}"), "disk_format": "raw", "container_format": "bare"})).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            r.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
        }
    });
    let ids = futures::future::join_all(creates).await;
    let uploads = ids.iter().enumerate().map(|(i, id)| {
        let g = &g;
        async move {
            let r = g
                .put(&format!("/v2/images/{id}/file"))
                .header("content-type", "application/octet-stream")
                .body(pattern(10_000, i as u64))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::NO_CONTENT);
        }
    });
    futures::future::join_all(uploads).await;
    let v: serde_json::Value = g
        .get("/v2/images?limit=100&status=active")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["images"].as_array().unwrap().len(), 64);
}
