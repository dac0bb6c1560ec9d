//! Who is asking, for the per-client limits: the connection's peer address,
//! or — with `--client-ip-header` set, behind a reverse proxy — the last
//! address in that header (the one the proxy itself appended; earlier ones
//! are the client's say-so). IPv6 clients count by their /64, which one
//! host usually holds whole. The result goes on the request as
//! `ClientAddress` for the dashboard's server functions and the REST limits.

use app::server_fns::context::ClientAddress;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// Where the client address comes from.
#[derive(Clone, Debug, Default)]
pub struct ClientAddressSource {
    /// A header set by a trusted reverse proxy (`X-Forwarded-For`, `X-Real-IP`).
    pub header: Option<HeaderName>,
}

pub async fn identify_client(State(source): State<ClientAddressSource>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
    let address = source.header.as_ref().and_then(|name| from_header(req.headers(), name)).or(peer);
    let key = address.map_or_else(|| "unknown".to_owned(), limit_key);
    req.extensions_mut().insert(ClientAddress(key));
    next.run(req).await
}

/// The last address in the header (a port after an IPv4 address, or a
/// bracketed IPv6 with one, is dropped).
fn from_header(headers: &HeaderMap, name: &HeaderName) -> Option<IpAddr> {
    // The very last value: an earlier one may be the client's own.
    let value = headers.get_all(name).iter().next_back()?.to_str().ok()?;
    let last = value.rsplit(',').next()?.trim();
    last.parse::<IpAddr>()
        .ok()
        .or_else(|| last.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| last.trim_start_matches('[').split(']').next()?.parse().ok())
}

/// The address as a limit key: IPv4 whole, IPv6 by its /64.
pub fn limit_key(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn ipv6_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(limit_key("203.0.113.7".parse().unwrap()), "203.0.113.7");
        assert_eq!(limit_key("2001:db8:1:2:3:4:5:6".parse().unwrap()), "2001:db8:1:2::/64");
        assert_eq!(limit_key("2001:db8:1:2:ffff::1".parse().unwrap()), "2001:db8:1:2::/64");
        assert_eq!(limit_key("::ffff:198.51.100.1".parse().unwrap()), "198.51.100.1");
    }

    #[test]
    fn the_proxy_appended_address_is_the_last_one() {
        let name = HeaderName::from_static("x-forwarded-for");
        let mut headers = HeaderMap::new();
        headers.insert(&name, HeaderValue::from_static("6.6.6.6, 203.0.113.9"));
        assert_eq!(from_header(&headers, &name), Some("203.0.113.9".parse().unwrap()));
        headers.insert(&name, HeaderValue::from_static("203.0.113.9:4711"));
        assert_eq!(from_header(&headers, &name), Some("203.0.113.9".parse().unwrap()));
        headers.insert(&name, HeaderValue::from_static("[2001:db8::1]:443"));
        assert_eq!(from_header(&headers, &name), Some("2001:db8::1".parse().unwrap()));
        headers.insert(&name, HeaderValue::from_static("not an address"));
        assert_eq!(from_header(&headers, &name), None);
    }
}
