//! Keystone's verdicts on tokens, kept until Keystone must be asked again: the identity of a
//! valid token, and the fact that a token was refused.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::Identity;

/// A token's SHA-256: the cache never holds tokens themselves, and logs
/// name a token by a short prefix of it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    pub fn of(token: &str) -> Self {
        Self(openssl::sha::sha256(token.as_bytes()))
    }

    /// Eight hex digits, enough to tell tokens apart in a log.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..4])
    }
}

/// When a token validated at `now` (`now_utc` on the wall clock) must be
/// checked again: after `ttl`, and never after the token expires.
pub fn cache_until(
    now: Instant,
    now_utc: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    ttl: Duration,
) -> Instant {
    let left = (expires_at - now_utc).to_std().unwrap_or(Duration::ZERO);
    now + left.min(ttl)
}

/// A bounded map of tokens to what is known of them (`V`) and the instant each stops counting.
pub struct TokenCache<V = Arc<Identity>> {
    entries: HashMap<TokenKey, (V, Instant)>,
    capacity: usize,
}

impl<V: Clone> TokenCache<V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            capacity,
        }
    }

    pub fn get(&mut self, key: &TokenKey, now: Instant) -> Option<V> {
        match self.entries.get(key) {
            Some((value, until)) if now < *until => Some(value.clone()),
            Some(_) => {
                self.entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Keep `value` until `until`. When full, expired entries go first,
    /// then the one that would expire soonest.
    pub fn insert(&mut self, key: TokenKey, value: V, until: Instant, now: Instant) {
        if until <= now {
            return;
        }
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            self.entries.retain(|_, (_, until)| now < *until);
            if self.entries.len() >= self.capacity {
                let soonest = self
                    .entries
                    .iter()
                    .min_by_key(|(_, (_, until))| *until)
                    .map(|(k, _)| *k);
                if let Some(soonest) = soonest {
                    self.entries.remove(&soonest);
                }
            }
        }
        self.entries.insert(key, (value, until));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(user: &str) -> Arc<Identity> {
        Arc::new(Identity {
            user_id: user.into(),
            user_domain_id: None,
            project_id: None,
            project_domain_id: None,
            domain_id: None,
            system_scope: None,
            roles: Vec::new(),
            expires_at: Utc::now(),
        })
    }

    #[test]
    fn a_token_is_cached_for_the_ttl_or_until_it_expires_whichever_is_sooner() {
        let now = Instant::now();
        let utc = Utc::now();
        let ttl = Duration::from_secs(300);
        let later = utc + chrono::Duration::hours(4);
        assert_eq!(cache_until(now, utc, later, ttl), now + ttl);
        let soon = utc + chrono::Duration::seconds(20);
        assert_eq!(
            cache_until(now, utc, soon, ttl),
            now + Duration::from_secs(20)
        );
        let past = utc - chrono::Duration::seconds(20);
        assert_eq!(cache_until(now, utc, past, ttl), now);
    }

    #[test]
    fn entries_stop_counting_at_their_instant() {
        let now = Instant::now();
        let mut cache = TokenCache::new(10);
        let key = TokenKey::of("tok");
        cache.insert(key, identity("u"), now + Duration::from_secs(5), now);
        assert_eq!(
            cache
                .get(&key, now + Duration::from_secs(4))
                .unwrap()
                .user_id,
            "u"
        );
        assert!(cache.get(&key, now + Duration::from_secs(5)).is_none());
        assert!(cache.entries.is_empty());
        assert!(cache.get(&TokenKey::of("other"), now).is_none());
        cache.insert(key, identity("u"), now, now);
        assert!(
            cache.entries.is_empty(),
            "an already expired entry is not kept"
        );
    }

    #[test]
    fn a_full_cache_drops_expired_entries_then_the_soonest_to_expire() {
        let now = Instant::now();
        let secs = |n| now + Duration::from_secs(n);
        let mut cache = TokenCache::new(2);
        let (a, b, c, d) = (
            TokenKey::of("a"),
            TokenKey::of("b"),
            TokenKey::of("c"),
            TokenKey::of("d"),
        );
        cache.insert(a, identity("a"), secs(1), now);
        cache.insert(b, identity("b"), secs(100), now);
        cache.insert(c, identity("c"), secs(50), secs(2));
        assert!(cache.get(&a, now).is_none(), "the expired entry made room");
        cache.insert(d, identity("d"), secs(200), secs(2));
        assert_eq!(cache.entries.len(), 2);
        assert!(
            cache.get(&c, secs(2)).is_none(),
            "the soonest to expire went"
        );
        assert!(cache.get(&b, secs(2)).is_some());
        assert!(cache.get(&d, secs(2)).is_some());
    }

    #[test]
    fn keys_are_hashes_and_their_short_form_is_eight_hex_digits() {
        let key = TokenKey::of("secret-token");
        assert_eq!(key.short().len(), 8);
        assert!(!key.short().contains("secret"));
        assert!(key == TokenKey::of("secret-token") && key != TokenKey::of("other"));
    }
}
