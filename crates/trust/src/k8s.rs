//! Kubernetes facts the whole product leans on: the DNS-1123 name grammars (namespaces,
//! ServiceAccounts, volumes, annotation prefixes) and the bounds Kubernetes puts on projected
//! token lifetimes. Ground floor: it imports nothing, so the trust engine, the settings and
//! the Pod mutation can all use one definition.

/// Kubernetes refuses projected token lifetimes below ten minutes.
pub const MIN_TOKEN_EXPIRATION: i64 = 600;
/// Kubernetes refuses projected token lifetimes above 2^32 seconds.
pub const MAX_TOKEN_EXPIRATION: i64 = 1 << 32;

/// A Kubernetes DNS-1123 label: namespaces, volume names.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A Kubernetes DNS-1123 subdomain: ServiceAccount names, annotation prefixes.
pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}
