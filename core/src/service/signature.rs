//! Image signature verification, as Glance does it through castellan and
//! cursive.
//!
//! An image whose properties hold all four of `img_signature`,
//! `img_signature_hash_method`, `img_signature_key_type` and
//! `img_signature_certificate_uuid` has its data checked whenever data is
//! written for it (upload, every import method, copy-image):
//!
//! 1. before any byte is read, the properties are checked in cursive's order
//!    (signature encoding, hash method, key type), the certificate (PEM, as
//!    castellan reads Barbican's certificates) is read from the key manager
//!    with the caller's token, and its public key must be of the key type's
//!    kind; any failure refuses the write;
//! 2. the data's digest under the hash method is computed in the same pass
//!    as the image's own digests ([`super::hashing`]);
//! 3. when the last byte has passed, and before the store commits it, the
//!    signature is verified against that digest; a mismatch fails the
//!    stream, so the store keeps nothing.
//!
//! With fewer than four properties set, nothing is verified (as Glance).
//! The wording of every failure is cursive's.

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use futures::stream;
use glint_sdk::{DataStream, ErrorKind, StoreError};
use openssl::hash::MessageDigest;
use openssl::md::{Md, MdRef};
use openssl::pkey::{Id, PKey, Public};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;
use openssl::sign::RsaPssSaltlen;
use openssl::x509::X509;

use super::hashing::Digester;
use super::{ServiceError, ServiceResult};
use crate::app::App;
use crate::context::RequestContext;
use crate::domain::Image;
use crate::keymgr::KeyManagerError;
use uuid::Uuid;

pub const SIGNATURE: &str = "img_signature";
pub const HASH_METHOD: &str = "img_signature_hash_method";
pub const KEY_TYPE: &str = "img_signature_key_type";
pub const CERT_UUID: &str = "img_signature_certificate_uuid";

/// Why a signature check failed, in cursive's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The data does not match the signature.
    #[error("Signature verification failed")]
    Mismatch,
    /// The check could not be made (cursive's `SignatureVerificationError`).
    #[error("Signature verification for the image failed: {0}.")]
    Refused(String),
}

/// The hash methods cursive accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HashMethod {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl HashMethod {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "SHA-224" => Self::Sha224,
            "SHA-256" => Self::Sha256,
            "SHA-384" => Self::Sha384,
            "SHA-512" => Self::Sha512,
            _ => return None,
        })
    }

    fn digest(self) -> MessageDigest {
        match self {
            Self::Sha224 => MessageDigest::sha224(),
            Self::Sha256 => MessageDigest::sha256(),
            Self::Sha384 => MessageDigest::sha384(),
            Self::Sha512 => MessageDigest::sha512(),
        }
    }

    fn md(self) -> &'static MdRef {
        match self {
            Self::Sha224 => Md::sha224(),
            Self::Sha256 => Md::sha256(),
            Self::Sha384 => Md::sha384(),
            Self::Sha512 => Md::sha512(),
        }
    }

    fn size(self) -> usize {
        self.digest().size()
    }
}

/// The key types cursive registers. Its elliptic curves are those the
/// `cryptography` library Glance 33 runs with supports: the binary (SECT)
/// curves are gone from it, leaving SECP384R1 and SECP521R1. As cursive, an
/// ECC type checks that the key is an elliptic-curve key, not its curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyType {
    RsaPss,
    Dsa,
    Ecc,
}

impl KeyType {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "RSA-PSS" => Self::RsaPss,
            "DSA" => Self::Dsa,
            "ECC_SECP384R1" | "ECC_SECP521R1" => Self::Ecc,
            _ => return None,
        })
    }

    fn key_id(self) -> Id {
        match self {
            Self::RsaPss => Id::RSA,
            Self::Dsa => Id::DSA,
            Self::Ecc => Id::EC,
        }
    }
}

/// A verifier ready for the data: what [`for_image`] found.
pub struct SignatureCheck {
    hash: HashMethod,
    key_type: KeyType,
    signature: Vec<u8>,
    key: PKey<Public>,
}

impl std::fmt::Debug for SignatureCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureCheck")
            .field("hash", &self.hash)
            .field("key_type", &self.key_type)
            .finish_non_exhaustive()
    }
}

/// The four properties, when all are set.
struct Properties<'a> {
    signature: &'a str,
    hash_method: &'a str,
    key_type: &'a str,
    certificate: &'a str,
}

impl<'a> Properties<'a> {
    fn of(image: &'a Image) -> Option<Self> {
        let p = |name: &str| image.properties.get(name).map(String::as_str);
        Some(Self {
            signature: p(SIGNATURE)?,
            hash_method: p(HASH_METHOD)?,
            key_type: p(KEY_TYPE)?,
            certificate: p(CERT_UUID)?,
        })
    }
}

/// Step 1: the check `image`'s properties ask for, with its certificate read
/// as `ctx`'s caller; `None` when the image is not signed.
pub async fn for_image(
    app: &App,
    ctx: &RequestContext,
    image: &Image,
) -> ServiceResult<Option<SignatureCheck>> {
    let Some(props) = Properties::of(image) else {
        return Ok(None);
    };
    let refused = |error| ServiceError::Signature {
        image: image.id,
        error,
    };
    let (signature, hash, key_type) = parse(&props).map_err(refused)?;
    let certificate = certificate(app, ctx, props.certificate)
        .await
        .map_err(refused)?;
    let check = SignatureCheck::new(hash, (key_type, props.key_type), signature, &certificate)
        .map_err(refused)?;
    Ok(Some(check))
}

/// The properties that need no key manager, in cursive's order.
fn parse(props: &Properties) -> Result<(Vec<u8>, HashMethod, KeyType), SignatureError> {
    let refused = |why: String| SignatureError::Refused(why);
    let signature = decode_base64(props.signature).ok_or_else(|| {
        refused("The signature data was not properly encoded using base64".into())
    })?;
    let hash = HashMethod::parse(props.hash_method).ok_or_else(|| {
        refused(format!(
            "Invalid signature hash method: {}",
            props.hash_method
        ))
    })?;
    let key_type = KeyType::parse(props.key_type)
        .ok_or_else(|| refused(format!("Invalid signature key type: {}", props.key_type)))?;
    Ok((signature, hash, key_type))
}

/// Base64 as Python's `b64decode` reads it: characters outside the alphabet
/// are skipped, and the padding must come out right.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let kept: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        .collect();
    if kept.is_empty() {
        return Some(Vec::new());
    }
    if kept.len() % 4 != 0 {
        return None;
    }
    openssl::base64::decode_block(&kept).ok()
}

/// The certificate `id`, read from the key manager as `ctx`'s caller.
async fn certificate(app: &App, ctx: &RequestContext, id: &str) -> Result<X509, SignatureError> {
    let not_found = || SignatureError::Refused(format!("Certificate not found with ID: {id}"));
    let unavailable = |why: &str| {
        tracing::error!(certificate = %id, error = %why, "Unable to retrieve certificate");
        SignatureError::Refused(format!("Unable to retrieve certificate with ID: {id}"))
    };
    let Some(token) = ctx.auth_token.as_ref() else {
        return Err(unavailable(
            "the request carried no token for the key manager",
        ));
    };
    let endpoint = endpoint(app, token).await.map_err(|e| unavailable(&e))?;
    let object = match app.key_manager.get(&endpoint, token.expose(), id).await {
        Ok(object) => object,
        Err(KeyManagerError::NotFound(_)) => return Err(not_found()),
        Err(KeyManagerError::Failed(why)) => return Err(unavailable(&why)),
    };
    if object.format != "X.509" {
        return Err(SignatureError::Refused(format!(
            "Invalid certificate format: {}",
            object.format
        )));
    }
    // castellan reads a Barbican certificate as PEM (and hands cursive DER).
    X509::from_pem(&object.data).map_err(|_| {
        SignatureError::Refused(format!(
            "Invalid certificate format: certificate {id} is not PEM-encoded"
        ))
    })
}

/// Barbican's endpoint: the configured one, else the `key-manager` entry of
/// the caller's catalog (castellan's discovery).
async fn endpoint(app: &App, token: &crate::auth::UserToken) -> Result<String, String> {
    let config = &app.config.barbican;
    if !config.barbican_endpoint.is_empty() {
        return Ok(config.barbican_endpoint.clone());
    }
    let catalog = app
        .auth
        .catalog(token)
        .await
        .map_err(|e| format!("could not read the service catalog: {e}"))?;
    catalog
        .into_iter()
        .find(|e| {
            e.service_type == "key-manager"
                && e.interface == config.barbican_endpoint_type
                && (config.barbican_region_name.is_empty()
                    || e.region.as_deref() == Some(config.barbican_region_name.as_str()))
        })
        .map(|e| e.url)
        .ok_or_else(|| {
            format!(
                "no {} key-manager endpoint in the catalog",
                config.barbican_endpoint_type
            )
        })
}

impl SignatureCheck {
    /// `key_type` with the name the image gave it.
    fn new(
        hash: HashMethod,
        (key_type, name): (KeyType, &str),
        signature: Vec<u8>,
        certificate: &X509,
    ) -> Result<Self, SignatureError> {
        let key = certificate.public_key().map_err(|_| {
            SignatureError::Refused("Error occurred while creating the verifier".into())
        })?;
        if key.id() != key_type.key_id() {
            return Err(SignatureError::Refused(format!(
                "Invalid public key type for signature key type: {name}"
            )));
        }
        if signature.is_empty() {
            return Err(SignatureError::Refused(
                "Error occurred while creating the verifier".into(),
            ));
        }
        Ok(Self {
            hash,
            key_type,
            signature,
            key,
        })
    }

    /// The digest step 2 computes.
    pub fn digest(&self) -> MessageDigest {
        self.hash.digest()
    }

    /// Step 3: does the signature sign the data whose digest is `digest`?
    pub fn verify(&self, digest: &[u8]) -> Result<(), SignatureError> {
        match self.verify_prehashed(digest) {
            Ok(true) => Ok(()),
            // A malformed signature is a mismatch too, as in `cryptography`.
            Ok(false) | Err(_) => Err(SignatureError::Mismatch),
        }
    }

    fn verify_prehashed(&self, digest: &[u8]) -> Result<bool, openssl::error::ErrorStack> {
        let mut ctx = PkeyCtx::new(&self.key)?;
        ctx.verify_init()?;
        ctx.set_signature_md(self.hash.md())?;
        if self.key_type == KeyType::RsaPss {
            ctx.set_rsa_padding(Padding::PKCS1_PSS)?;
            ctx.set_rsa_mgf1_md(self.hash.md())?;
            // cursive signs and verifies with the largest salt the key allows.
            // The encoded message has ceil((bits - 1) / 8) bytes (RFC 8017, 9.1).
            let em_len = (self.key.bits() as usize + 6) / 8;
            let salt = em_len.saturating_sub(self.hash.size() + 2);
            ctx.set_rsa_pss_saltlen(RsaPssSaltlen::custom(salt as i32))?;
        }
        ctx.verify(digest, &self.signature)
    }
}

/// `data` of image `image`, with steps 2 and 3 done on the way, for a write
/// that computes no other digest (a copy between stores). A mismatch ends
/// the stream with an error, so the store keeps nothing, and is left in
/// `failure` for the caller.
pub fn verified(
    image: Uuid,
    data: DataStream,
    check: SignatureCheck,
    failure: Arc<Mutex<Option<ServiceError>>>,
) -> DataStream {
    let digester = Digester::start(check.digest());
    let state = (data, Some((digester, check)), failure);
    stream::unfold(state, move |(mut data, mut pending, failure)| async move {
        let (digester, _) = pending.as_ref()?;
        match data.next().await {
            Some(Ok(chunk)) => {
                digester.update(&chunk).await;
                Some((Ok(chunk), (data, pending, failure)))
            }
            Some(Err(e)) => Some((Err(e), (data, None, failure))),
            None => {
                let (digester, check) = pending.take()?;
                let digest = digester.finish().await;
                match check.verify(&digest) {
                    Ok(()) => {
                        tracing::info!(image = %image, "Successfully verified signature for image");
                        None
                    }
                    Err(error) => {
                        let e = ServiceError::Signature { image, error };
                        let refusal = StoreError::new(ErrorKind::Unexpected, e.to_string());
                        *failure.lock().expect("no panics while held") = Some(e);
                        Some((Err(refusal), (data, None, failure)))
                    }
                }
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::dsa::Dsa;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::hash;
    use openssl::nid::Nid;
    use openssl::pkey::Private;
    use openssl::rsa::Rsa;
    use openssl::sign::Signer;
    use openssl::x509::X509Builder;

    use super::*;

    fn certificate(key: &PKey<Private>) -> X509 {
        let mut b = X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&BigNum::from_u32(1).unwrap().to_asn1_integer().unwrap())
            .unwrap();
        b.set_pubkey(key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        b.sign(key, MessageDigest::sha256()).unwrap();
        b.build()
    }

    fn sign(key: &PKey<Private>, hash: HashMethod, pss: bool, data: &[u8]) -> Vec<u8> {
        let mut s = Signer::new(hash.digest(), key).unwrap();
        if pss {
            s.set_rsa_padding(Padding::PKCS1_PSS).unwrap();
            s.set_rsa_pss_saltlen(RsaPssSaltlen::MAXIMUM_LENGTH)
                .unwrap();
            s.set_rsa_mgf1_md(hash.digest()).unwrap();
        }
        s.sign_oneshot_to_vec(data).unwrap()
    }

    fn check(key: &PKey<Private>, hash: HashMethod, kind: KeyType, sig: Vec<u8>) -> SignatureCheck {
        SignatureCheck::new(hash, (kind, "test"), sig, &certificate(key)).unwrap()
    }

    #[test]
    fn every_hash_method_and_key_type_verifies_and_catches_a_change() {
        let data = b"the image data".repeat(100);
        let keys = [
            (
                KeyType::RsaPss,
                PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap(),
            ),
            (
                KeyType::Dsa,
                PKey::from_dsa(Dsa::generate(2048).unwrap()).unwrap(),
            ),
            (
                KeyType::Ecc,
                PKey::from_ec_key(
                    EcKey::generate(&EcGroup::from_curve_name(Nid::SECP384R1).unwrap()).unwrap(),
                )
                .unwrap(),
            ),
        ];
        for (kind, key) in &keys {
            for hash_method in [
                HashMethod::Sha224,
                HashMethod::Sha256,
                HashMethod::Sha384,
                HashMethod::Sha512,
            ] {
                let sig = sign(key, hash_method, *kind == KeyType::RsaPss, &data);
                let c = check(key, hash_method, *kind, sig);
                let good = openssl::hash::hash(hash_method.digest(), &data).unwrap();
                assert_eq!(c.verify(&good), Ok(()), "{kind:?} {hash_method:?}");
                let bad = hash(hash_method.digest(), b"other data").unwrap();
                assert_eq!(c.verify(&bad), Err(SignatureError::Mismatch));
            }
        }
    }

    #[test]
    fn a_key_of_another_kind_is_refused() {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let e = SignatureCheck::new(
            HashMethod::Sha256,
            (KeyType::Dsa, "DSA"),
            vec![1],
            &certificate(&key),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Signature verification for the image failed: Invalid public key type for signature key type: DSA."
        );
    }

    #[test]
    fn properties_are_checked_in_cursives_order_and_words() {
        let props = |sig, hash, kind| Properties {
            signature: sig,
            hash_method: hash,
            key_type: kind,
            certificate: "c",
        };
        let e = parse(&props("!!!a", "MD5", "RSA")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Signature verification for the image failed: The signature data was not properly encoded using base64."
        );
        let e = parse(&props("c2ln", "MD5", "RSA")).unwrap_err();
        assert_eq!(
            e,
            SignatureError::Refused("Invalid signature hash method: MD5".into())
        );
        let e = parse(&props("c2ln", "SHA-256", "ECC_SECT571K1")).unwrap_err();
        assert_eq!(
            e,
            SignatureError::Refused("Invalid signature key type: ECC_SECT571K1".into())
        );
        let (sig, hash, kind) = parse(&props("c2ln\n", "SHA-384", "ECC_SECP521R1")).unwrap();
        assert_eq!(
            (sig.as_slice(), hash, kind),
            (&b"sig"[..], HashMethod::Sha384, KeyType::Ecc)
        );
    }

    #[test]
    fn a_mismatch_is_worded_as_glance_words_it() {
        assert_eq!(
            SignatureError::Mismatch.to_string(),
            "Signature verification failed"
        );
    }
}
