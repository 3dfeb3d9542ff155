//! Whole answers to public queries, kept per registry version.
//!
//! The registry changes a few times a day and a national portal reads all of
//! it on every page view, so most queries are answered many times with the
//! same bytes. An anonymous query's answer depends only on the request, the
//! day (the default `asOf`), the build and the registry version, and its
//! ETag is a hash of exactly those: the ETag is the key. A write moves the
//! version and with it every key, so a kept answer is never served for a
//! newer version; old ones age out. Answers to a token are not kept: they may
//! differ per caller and must not be shared.
//!
//! A hit is served as prepared bytes, without entering the GraphQL executor,
//! and compressed at most once.
//!
//! The ETag and `Cache-Control` rules live here too, so that the downloads
//! (`export.rs`) are revalidated and cached the way query answers are.

use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};

/// Default memory for kept answers. The whole registry's portal answer is
/// 33–80 KB (more for dates with more municipalities), so this holds a few
/// hundred distinct answers: a portal's few queries, every municipality's
/// own, and the change-feed pages of pollers at the head. It is small so that
/// the whole service stays under 100 MB with 300 pollers (bench `feed`).
pub const DEFAULT_RESPONSE_CACHE_BYTES: u64 = 16 * 1024 * 1024;
/// Answers not asked for in this long are dropped, so answers for old
/// versions do not hold memory until the cache is full.
const IDLE_LIFETIME: Duration = Duration::from_secs(600);
/// Smaller bodies are not worth compressing: neither a kept answer nor any
/// other response (the compression layer goes by it too).
pub const COMPRESS_FROM: usize = 1024;

/// One kept answer: the JSON body, and its gzip form made on first demand.
pub struct Answer {
    pub body: Bytes,
    gzip: OnceLock<Bytes>,
    /// The name of the operation that made it, for the request log of a hit.
    pub operation_name: Option<Arc<str>>,
}

impl Answer {
    pub fn new(body: Bytes) -> Self {
        Answer { body, gzip: OnceLock::new(), operation_name: None }
    }

    /// The answer of the operation named `name`.
    pub fn named(mut self, name: Option<Arc<str>>) -> Self {
        self.operation_name = name;
        self
    }

    /// The body gzip-compressed, when that is worth it.
    pub fn gzip(&self) -> Option<&Bytes> {
        if self.body.len() < COMPRESS_FROM {
            return None;
        }
        Some(self.gzip.get_or_init(|| {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            // Writing to a Vec cannot fail.
            let _ = encoder.write_all(&self.body);
            Bytes::from(encoder.finish().unwrap_or_default())
        }))
    }
}

/// The kept answers of this instance, bounded by their size in bytes.
#[derive(Clone)]
pub struct ResponseCache {
    answers: Option<moka::sync::Cache<String, Arc<Answer>>>,
}

impl ResponseCache {
    /// A cache of at most `max_bytes` of answers; 0 keeps nothing.
    pub fn new(max_bytes: u64) -> Self {
        let answers = (max_bytes > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                // Room for the compressed form too (at most the body's size).
                .weigher(|key: &String, answer: &Arc<Answer>| {
                    u32::try_from(key.len() + 2 * answer.body.len()).unwrap_or(u32::MAX)
                })
                .time_to_idle(IDLE_LIFETIME)
                .build()
        });
        ResponseCache { answers }
    }

    pub fn get(&self, etag: &str) -> Option<Arc<Answer>> {
        self.answers.as_ref()?.get(etag)
    }

    /// Keeps `answer` as the answer for `etag` and returns it.
    pub fn keep(&self, etag: String, answer: Answer) -> Arc<Answer> {
        let answer = Arc::new(answer);
        if let Some(answers) = &self.answers {
            answers.insert(etag, answer.clone());
        }
        answer
    }
}

/// A weak ETag hashing `parts`, each ended by a NUL so that no two lists of parts run together.
pub fn weak_etag(parts: impl IntoIterator<Item = impl AsRef<[u8]>>) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_ref());
        hash.update([0]);
    }
    // The first half of the hash in hex, written in place (16 bytes always
    // fit 32 digits, and digits are ASCII).
    let mut hex = [0u8; 32];
    let _ = hex::encode_to_slice(&hash.finalize()[..16], &mut hex);
    format!("W/\"{}\"", String::from_utf8_lossy(&hex))
}

/// `Cache-Control` of an answer that is the same for every caller.
pub fn public_cache_control(max_age: Duration) -> String {
    format!("public, max-age={}", max_age.as_secs())
}

/// True when `If-None-Match` names `etag` (weak comparison, RFC 9110).
pub fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        // `*` is not honoured: it would answer 304 before knowing what the request is.
        .any(|candidate| candidate.trim_start_matches("W/") == etag.trim_start_matches("W/"))
}

/// True when the request's `Accept-Encoding` takes gzip (RFC 9110: a coding
/// listed without `q=0`, or `*`).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused =
                parts.any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()).is_some_and(|q| q == 0.0));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(accept_encoding: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, accept_encoding.parse().unwrap());
        headers
    }

    #[test]
    fn gzip_is_taken_only_when_accepted() {
        assert!(accepts_gzip(&with("gzip, deflate, br")));
        assert!(accepts_gzip(&with("br;q=1.0, GZIP;q=0.5")));
        assert!(accepts_gzip(&with("*")));
        assert!(!accepts_gzip(&with("gzip;q=0, br")));
        assert!(!accepts_gzip(&with("identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn a_compressed_answer_unpacks_to_its_body() {
        use std::io::Read;
        let body = Bytes::from("{\"data\":{}}".repeat(500));
        let answer = Answer::new(body.clone());
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(&answer.gzip().unwrap()[..]).read_to_end(&mut unpacked).unwrap();
        assert_eq!(unpacked, body);
        assert!(Answer::new(Bytes::from_static(b"{}")).gzip().is_none(), "too small to be worth it");
    }
}
