//! Image signature verification against a real Barbican on the shared
//! Keystone: certificates stored in Barbican by the image's owner, data
//! signed with their keys, and Glint (Keystone auth) verifying uploads and
//! imports as Glance does through castellan and cursive.
//!
//! Barbican is started with `tests/barbican/barbican-up.sh` (idempotent; it
//! starts Keystone when needed and puts Barbican in its catalog, where Glint
//! finds it).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use glint_blackbox::keystone::{demo_token, keystone, project_scope, start_glint, token};
use glint_blackbox::{Glint, StatusCode, pattern};
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::dsa::Dsa;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::{Padding, Rsa};
use openssl::sign::{RsaPssSaltlen, Signer};
use openssl::x509::{X509, X509Builder, X509NameBuilder};
use serde_json::{Value, json};

/// The Barbican of this test binary: its versioned API URL. Started with
/// the script when nothing answers on BARBICAN_PORT (9311).
fn barbican() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let port = std::env::var("BARBICAN_PORT").unwrap_or_else(|_| "9311".into());
        let running = Command::new("curl")
            .args([
                "-s",
                "-m",
                "5",
                "-o",
                "/dev/null",
                &format!("http://127.0.0.1:{port}/"),
            ])
            .status()
            .is_ok_and(|s| s.success());
        if running {
            return format!("http://127.0.0.1:{port}/v1");
        }
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("barbican/barbican-up.sh");
        let out = Command::new("bash")
            .arg(&script)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "{} failed:\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("BARBICAN_URL="))
            .expect("barbican-up.sh prints BARBICAN_URL")
            .trim_end_matches('/')
            .to_owned()
    })
}

/// A signing key of one of the kinds Glance verifies, with its `img_signature_key_type`.
struct SigningKey {
    key_type: &'static str,
    key: PKey<Private>,
}

impl SigningKey {
    fn rsa() -> Self {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        Self {
            key_type: "RSA-PSS",
            key,
        }
    }

    fn dsa() -> Self {
        let key = PKey::from_dsa(Dsa::generate(2048).unwrap()).unwrap();
        Self {
            key_type: "DSA",
            key,
        }
    }

    fn ecc(curve: Nid, key_type: &'static str) -> Self {
        let group = EcGroup::from_curve_name(curve).unwrap();
        let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
        Self { key_type, key }
    }

    /// A self-signed certificate of this key, PEM-encoded (as castellan
    /// expects Barbican to hold certificates).
    fn certificate(&self) -> Vec<u8> {
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "glint image signing")
            .unwrap();
        let name = name.build();
        let mut b = X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        let serial = BigNum::from_u32(7).unwrap().to_asn1_integer().unwrap();
        b.set_serial_number(&serial).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&self.key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(30).unwrap())
            .unwrap();
        b.sign(&self.key, MessageDigest::sha256()).unwrap();
        let cert: X509 = b.build();
        cert.to_pem().unwrap()
    }

    /// `data` signed as the Glance documentation signs an image (RSA with
    /// PSS padding, MGF1 and the largest salt), base64-encoded.
    fn sign(&self, hash_method: &str, data: &[u8]) -> String {
        let md = match hash_method {
            "SHA-224" => MessageDigest::sha224(),
            "SHA-256" => MessageDigest::sha256(),
            "SHA-384" => MessageDigest::sha384(),
            "SHA-512" => MessageDigest::sha512(),
            other => panic!("no hash method {other}"),
        };
        let mut signer = Signer::new(md, &self.key).unwrap();
        if self.key_type == "RSA-PSS" {
            signer.set_rsa_padding(Padding::PKCS1_PSS).unwrap();
            signer
                .set_rsa_pss_saltlen(RsaPssSaltlen::MAXIMUM_LENGTH)
                .unwrap();
            signer.set_rsa_mgf1_md(md).unwrap();
        }
        let signature = signer.sign_oneshot_to_vec(data).unwrap();
        openssl::base64::encode_block(&signature)
    }
}

/// Store `pem` in Barbican as a certificate secret of the demo project;
/// returns its id.
async fn store_certificate(token: &str, pem: &[u8]) -> String {
    let r = reqwest::Client::new()
        .post(format!("{}/secrets", barbican()))
        .header("x-auth-token", token)
        .json(&json!({
            "name": "image signing certificate",
            "secret_type": "certificate",
            "payload": openssl::base64::encode_block(pem),
            "payload_content_type": "application/octet-stream",
            "payload_content_encoding": "base64",
        }))
        .send()
        .await
        .expect("barbican store");
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "store the certificate: {text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    let secret_ref = body["secret_ref"].as_str().unwrap();
    secret_ref.rsplit('/').next().unwrap().to_owned()
}

/// The demo user's view of a Glint with Keystone auth.
struct Demo {
    glint: Glint,
    token: String,
}

impl Demo {
    async fn start() -> Self {
        Self::start_with(&[]).await
    }

    async fn start_with(env: &[(&str, &str)]) -> Self {
        barbican();
        // Keystone shares the machine with everything else the tests start.
        let mut env = env.to_vec();
        env.push(("GLINT_AUTH__KEYSTONE__TIMEOUT_SECS", "60"));
        let glint = start_glint(&env).await;
        Self {
            glint,
            token: demo_token().await,
        }
    }

    /// As the administrator of project admin (copy-image is theirs by default).
    async fn admin(env: &[(&str, &str)]) -> Self {
        let mut demo = Self::start_with(env).await;
        demo.token = token("admin", &keystone().admin_password, project_scope("admin")).await;
        demo
    }

    /// A raw/bare image carrying `properties`.
    async fn create(&self, properties: Value) -> String {
        let mut body = json!({"disk_format": "raw", "container_format": "bare"});
        body.as_object_mut()
            .unwrap()
            .extend(properties.as_object().unwrap().clone());
        let r = self
            .glint
            .post("/v2/images")
            .header("x-auth-token", &self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{text}");
        serde_json::from_str::<Value>(&text).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn upload(&self, id: &str, data: &[u8]) -> (StatusCode, String) {
        let r = self
            .glint
            .put(&format!("/v2/images/{id}/file"))
            .header("x-auth-token", &self.token)
            .header("content-type", "application/octet-stream")
            .body(data.to_vec())
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn show(&self, id: &str) -> Value {
        self.glint
            .get(&format!("/v2/images/{id}"))
            .header("x-auth-token", &self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn stage_and_import(&self, id: &str, data: &[u8]) -> StatusCode {
        let r = self
            .glint
            .put(&format!("/v2/images/{id}/stage"))
            .header("x-auth-token", &self.token)
            .header("content-type", "application/octet-stream")
            .body(data.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "stage");
        self.glint
            .post(&format!("/v2/images/{id}/import"))
            .header("x-auth-token", &self.token)
            .json(&json!({"method": {"name": "glance-direct"}}))
            .send()
            .await
            .unwrap()
            .status()
    }

    async fn replace_signature(&self, id: &str, signature: &str) {
        let r = self
            .glint
            .patch(
                &format!("/v2/images/{id}"),
                json!([{"op": "replace", "path": "/img_signature", "value": signature}]),
            )
            .header("x-auth-token", &self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }

    async fn copy_to(&self, id: &str, store: &str) -> StatusCode {
        self.glint
            .post(&format!("/v2/images/{id}/import"))
            .header("x-auth-token", &self.token)
            .json(&json!({"method": {"name": "copy-image"}, "stores": [store]}))
            .send()
            .await
            .unwrap()
            .status()
    }

    /// The image once its import is over.
    async fn settled(&self, id: &str) -> Value {
        for _ in 0..400 {
            let img = self.show(id).await;
            let importing = img["os_glance_importing_to_stores"].as_str().unwrap_or("");
            if img.get("os_glance_import_task").is_none() && importing.is_empty() {
                return img;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the import of {id} did not finish");
    }
}

fn signed(key: &SigningKey, cert: &str, hash_method: &str, signature: &str) -> Value {
    json!({
        "img_signature": signature,
        "img_signature_hash_method": hash_method,
        "img_signature_key_type": key.key_type,
        "img_signature_certificate_uuid": cert,
    })
}

/// Glance's 400 message for a failed verification of image `id`.
fn failure(id: &str, cursive: &str) -> String {
    format!("Signature verification failed for image {id}: {cursive}")
}

#[tokio::test]
async fn signed_uploads_verify_for_every_hash_method_and_key_type() {
    let demo = Demo::start().await;
    let data = pattern(3 << 20, 11);
    let keys = [
        SigningKey::rsa(),
        SigningKey::dsa(),
        SigningKey::ecc(Nid::SECP384R1, "ECC_SECP384R1"),
        SigningKey::ecc(Nid::SECP521R1, "ECC_SECP521R1"),
    ];
    for key in &keys {
        let cert = store_certificate(&demo.token, &key.certificate()).await;
        for hash_method in ["SHA-224", "SHA-256", "SHA-384", "SHA-512"] {
            let props = signed(key, &cert, hash_method, &key.sign(hash_method, &data));
            let id = demo.create(props).await;
            let (status, body) = demo.upload(&id, &data).await;
            assert_eq!(
                status,
                StatusCode::NO_CONTENT,
                "{} {hash_method}: {body}",
                key.key_type
            );
            let img = demo.show(&id).await;
            assert_eq!(img["status"], "active", "{} {hash_method}", key.key_type);
            assert_eq!(img["size"], data.len());
        }
    }
    assert!(demo.glint.log().contains("Successfully verified signature"));
}

#[tokio::test]
async fn a_bad_signature_fails_the_upload_and_leaves_no_data() {
    let demo = Demo::start().await;
    let key = SigningKey::rsa();
    let cert = store_certificate(&demo.token, &key.certificate()).await;
    let data = pattern(2 << 20, 5);
    // Signed other data: the stream fails at its end, before the store commits.
    let props = signed(&key, &cert, "SHA-256", &key.sign("SHA-256", b"other data"));
    let id = demo.create(props).await;
    let (status, body) = demo.upload(&id, &data).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body.contains(&failure(&id, "Signature verification failed")),
        "{body}"
    );
    let img = demo.show(&id).await;
    assert_eq!(img["status"], "queued");
    assert_eq!(img["size"], Value::Null);
    assert_eq!(img["checksum"], Value::Null);
    assert!(
        demo.glint.stored_files().is_empty(),
        "{:?}",
        demo.glint.stored_files()
    );

    // The same image takes the data it was signed for (a retry after a fix).
    demo.replace_signature(&id, &key.sign("SHA-256", &data))
        .await;
    assert_eq!(demo.upload(&id, &data).await.0, StatusCode::NO_CONTENT);
    assert_eq!(demo.show(&id).await["status"], "active");
}

#[tokio::test]
async fn a_missing_certificate_or_bad_properties_fail_before_any_data_is_read() {
    let demo = Demo::start().await;
    let key = SigningKey::rsa();
    let cert = store_certificate(&demo.token, &key.certificate()).await;
    let data = pattern(4096, 2);
    let signature = key.sign("SHA-256", &data);
    let missing = uuid::Uuid::new_v4().to_string();
    let cases = [
        (
            signed(&key, &missing, "SHA-256", &signature),
            format!(
                "Signature verification for the image failed: Certificate not found with ID: {missing}."
            ),
        ),
        (
            signed(&key, &cert, "MD5", &signature),
            "Signature verification for the image failed: Invalid signature hash method: MD5."
                .to_owned(),
        ),
        (
            json!({
                "img_signature": signature,
                "img_signature_hash_method": "SHA-256",
                "img_signature_key_type": "DSA",
                "img_signature_certificate_uuid": cert,
            }),
            "Signature verification for the image failed: Invalid public key type for signature key type: DSA."
                .to_owned(),
        ),
        (
            signed(&key, &cert, "SHA-256", "not base64!"),
            "Signature verification for the image failed: The signature data was not properly encoded using base64."
                .to_owned(),
        ),
    ];
    for (props, cursive) in cases {
        let id = demo.create(props).await;
        let (status, body) = demo.upload(&id, &data).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.contains(&failure(&id, &cursive)), "{body}");
        assert_eq!(demo.show(&id).await["status"], "queued");
    }
    assert!(demo.glint.stored_files().is_empty());
}

#[tokio::test]
async fn an_image_with_only_some_signature_properties_is_not_verified() {
    let demo = Demo::start().await;
    // As Glance: verification needs all four properties.
    let id = demo
        .create(json!({
            "img_signature": "c2lnbmF0dXJl",
            "img_signature_hash_method": "SHA-256",
            "img_signature_key_type": "RSA-PSS",
        }))
        .await;
    assert_eq!(
        demo.upload(&id, b"unsigned").await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(demo.show(&id).await["status"], "active");
}

#[tokio::test]
async fn glance_direct_imports_are_verified() {
    let demo = Demo::start().await;
    let key = SigningKey::ecc(Nid::SECP521R1, "ECC_SECP521R1");
    let cert = store_certificate(&demo.token, &key.certificate()).await;
    let data = pattern(1 << 20, 9);

    let good = demo
        .create(signed(&key, &cert, "SHA-384", &key.sign("SHA-384", &data)))
        .await;
    assert_eq!(
        demo.stage_and_import(&good, &data).await,
        StatusCode::ACCEPTED
    );
    let img = demo.settled(&good).await;
    assert_eq!(img["status"], "active", "{img}");

    let bad = demo
        .create(signed(
            &key,
            &cert,
            "SHA-384",
            &key.sign("SHA-384", b"else"),
        ))
        .await;
    assert_eq!(
        demo.stage_and_import(&bad, &data).await,
        StatusCode::ACCEPTED
    );
    let img = demo.settled(&bad).await;
    assert_eq!(img["status"], "queued", "{img}");
    assert_eq!(img["os_glance_failed_import"], "file", "{img}");
    assert_eq!(img["checksum"], Value::Null);
    // Only the good image's data is stored.
    assert_eq!(
        demo.glint.stored_files().len(),
        1,
        "{:?}",
        demo.glint.stored_files()
    );
    assert!(
        demo.glint
            .log()
            .contains(&failure(&bad, "Signature verification failed")),
        "the task's failure is logged"
    );
}

#[tokio::test]
async fn an_explicit_barbican_endpoint_is_used_instead_of_the_catalog() {
    // An endpoint nobody listens on: the certificate cannot be read.
    let port = glint_blackbox::free_port().to_string();
    let endpoint = format!("http://127.0.0.1:{port}");
    let demo = Demo::start_with(&[("GLINT_BARBICAN__BARBICAN_ENDPOINT", &endpoint)]).await;
    let key = SigningKey::rsa();
    let cert = store_certificate(&demo.token, &key.certificate()).await;
    let data = pattern(4096, 3);
    let id = demo
        .create(signed(&key, &cert, "SHA-256", &key.sign("SHA-256", &data)))
        .await;
    let (status, body) = demo.upload(&id, &data).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let cursive = format!(
        "Signature verification for the image failed: Unable to retrieve certificate with ID: {cert}."
    );
    assert!(body.contains(&failure(&id, &cursive)), "{body}");
    assert!(
        !demo.glint.log().contains(&demo.token),
        "tokens never reach the log"
    );

    // The versioned URL is taken as it is.
    let demo = Demo::start_with(&[("GLINT_BARBICAN__BARBICAN_ENDPOINT", barbican())]).await;
    let id = demo
        .create(signed(&key, &cert, "SHA-256", &key.sign("SHA-256", &data)))
        .await;
    assert_eq!(demo.upload(&id, &data).await.0, StatusCode::NO_CONTENT);
    assert_eq!(demo.show(&id).await["status"], "active");
}

#[tokio::test]
async fn copy_image_verifies_the_copied_data() {
    let fast = tempfile::tempdir().unwrap();
    let slow = tempfile::tempdir().unwrap();
    let config = fast.path().join("glint.toml");
    std::fs::write(
        &config,
        format!(
            "default_store = \"fast\"\n\
             [stores.fast]\ndriver = \"file\"\noptions = {{ datadir = {:?} }}\n\
             [stores.slow]\ndriver = \"file\"\noptions = {{ datadir = {:?} }}\n",
            fast.path().join("images").to_str().unwrap(),
            slow.path().to_str().unwrap(),
        ),
    )
    .unwrap();
    // The image, its certificate and the copy all belong to the administrator's project.
    let demo = Demo::admin(&[("GLINT_CONFIG", config.to_str().unwrap())]).await;
    let key = SigningKey::ecc(Nid::SECP384R1, "ECC_SECP384R1");
    let cert = store_certificate(&demo.token, &key.certificate()).await;
    let data = pattern(1 << 20, 4);
    let id = demo
        .create(signed(&key, &cert, "SHA-512", &key.sign("SHA-512", &data)))
        .await;
    assert_eq!(demo.upload(&id, &data).await.0, StatusCode::NO_CONTENT);

    // The signature no longer matches the data: copy-image writes through
    // the same verification, so the copy fails and the image keeps its one copy.
    demo.replace_signature(&id, &key.sign("SHA-512", b"not the image"))
        .await;
    assert_eq!(demo.copy_to(&id, "slow").await, StatusCode::ACCEPTED);
    let img = demo.settled(&id).await;
    assert_eq!(img["status"], "active", "{img}");
    assert_eq!(img["stores"], "fast", "{img}");
    assert_eq!(img["os_glance_failed_import"], "slow", "{img}");
    let copied = std::fs::read_dir(slow.path()).unwrap().count();
    assert_eq!(copied, 0, "no data left in the store the copy failed in");

    // With the signature of the data, the copy is made.
    demo.replace_signature(&id, &key.sign("SHA-512", &data))
        .await;
    assert_eq!(demo.copy_to(&id, "slow").await, StatusCode::ACCEPTED);
    let img = demo.settled(&id).await;
    assert_eq!(img["stores"], "fast,slow", "{img}");
}
