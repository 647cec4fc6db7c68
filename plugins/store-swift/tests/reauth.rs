//! A token Swift no longer accepts is replaced once, transparently. Its own test binary: it
//! empties the token cache of the tests' tempauth Swift, which would disturb concurrent cases.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;

use glint_sdk_testkit::{collect, odd_chunks, random_bytes};
use support::{open, options, runtime, swift};

/// Forgets every tempauth token: tempauth keeps them in memcached only.
fn flush_tokens() {
    let mut memcached = TcpStream::connect(("127.0.0.1", support::TEMPAUTH_MEMCACHE_PORT))
        .expect("the tests' Swift memcached");
    memcached.write_all(b"flush_all\r\n").unwrap();
    let mut reply = [0u8; 4];
    memcached.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"OK\r\n");
}

#[test]
fn a_refused_token_is_renewed_once() {
    swift();
    let store = open(&options(&std::env::temp_dir().join("reauth")));
    runtime().block_on(async {
        let data = random_bytes(100_000, 61);
        let outcome = store
            .put(
                "7a5e0b1c-0101-4000-8000-000000000001",
                Some(100_000),
                odd_chunks(&data),
            )
            .await
            .unwrap();
        flush_tokens();
        let got = collect(store.get(&outcome.location, None).await.unwrap().data).await;
        assert!(got == data);
        flush_tokens();
        // A put starts with a HEAD, which renews the token before any data is streamed.
        let second = store
            .put(
                "7a5e0b1c-0101-4000-8000-000000000002",
                None,
                odd_chunks(&data),
            )
            .await
            .unwrap();
        flush_tokens();
        store.delete(&second.location).await.unwrap();
        flush_tokens();
        assert_eq!(store.size(&outcome.location).await.unwrap(), 100_000);
    });
}
