//! SSRF guard: deliveries may only reach public addresses. Host names are
//! resolved by our own resolver, which drops every special-purpose address,
//! and the HTTP client connects only to what it returns (no DNS-rebinding
//! gap). IP literals skip DNS, so they are checked before sending. The
//! client never uses a proxy from the environment (`build_client`), which
//! would resolve the name itself and bypass all of this.
//!
//! The ranges are the IANA IPv4 and IPv6 Special-Purpose Address
//! Registries' entries that are not globally reachable, plus multicast and
//! the deprecated ranges (site-local, IPv4-compatible, the 6to4 relay).
//! IPv6 forms that carry an IPv4 address (IPv4-mapped, NAT64 64:ff9b::/96,
//! 6to4 2002::/16) are judged by that IPv4 address; Teredo is refused.
//!
//! Tenants see only "destination address not allowed" in their attempt log
//! (no addresses: their DNS must not become a view of the operator's
//! network); the operator's log names the host and the addresses.

use ipnet::{Ipv4Net, Ipv6Net};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::LazyLock;

/// (range, what it is), IPv4: RFC 6890 and the IANA registry.
const V4: &[(&str, &str)] = &[
    ("0.0.0.0/8", "\"this network\""),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared (carrier-grade NAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4 relay anycast (deprecated)"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("255.255.255.255/32", "broadcast"),
];

/// (range, what it is), IPv6, after the IPv4-carrying forms are unwrapped.
const V6: &[(&str, &str)] = &[
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "IPv4-compatible (deprecated)"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("2001::/32", "Teredo"),
    ("2001:2::/48", "benchmarking"),
    ("2001:10::/28", "ORCHID (deprecated)"),
    ("2001:20::/28", "ORCHIDv2"),
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing (SRv6) SIDs"),
    ("fc00::/7", "unique local (private)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local (deprecated)"),
    ("ff00::/8", "multicast"),
];

static V4_NETS: LazyLock<Vec<(Ipv4Net, &'static str)>> = LazyLock::new(|| parse(V4));
static V6_NETS: LazyLock<Vec<(Ipv6Net, &'static str)>> = LazyLock::new(|| parse(V6));

fn parse<N: std::str::FromStr>(table: &[(&str, &'static str)]) -> Vec<(N, &'static str)>
where
    N::Err: std::fmt::Debug,
{
    // The tables are constants and a unit test checks every entry parses;
    // one that did not would simply match nothing.
    table.iter().filter_map(|(net, what)| Some((net.parse().ok()?, *what))).collect()
}

/// What kind of special-purpose address `ip` is, or `None` if it is public.
pub fn refusal(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refusal_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => refusal_v4(v4),
            None => V6_NETS.iter().find(|(net, _)| net.contains(&v6)).map(|(_, what)| *what),
        },
    }
}

fn refusal_v4(ip: Ipv4Addr) -> Option<&'static str> {
    V4_NETS.iter().find(|(net, _)| net.contains(&ip)).map(|(_, what)| *what)
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped
/// (`::ffff:a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:AABB:CCDD::/48`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let v4_of = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    let low = v4_of(s[6], s[7]);
    if let Some(v4) = ip.to_ipv4_mapped() {
        Some(v4)
    } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        Some(low)
    } else if s[0] == 0x2002 {
        Some(v4_of(s[1], s[2]))
    } else {
        None
    }
}

/// A delivery refused by the guard. Its text (the tenant's attempt log)
/// names no address; `refused` logs them for the operator.
#[derive(Debug, thiserror::Error)]
#[error("destination address not allowed")]
pub struct Blocked;

/// Logs a refusal for the operator (host and addresses) and returns the
/// tenant-facing error.
fn refused(host: &str, addresses: &[String]) -> Blocked {
    tracing::warn!(
        host,
        addresses = addresses.join(", "),
        "SSRF guard refused a delivery: the destination resolves only to special-purpose addresses \
         (--allow-private-targets allows them)"
    );
    Blocked
}

/// The resolver the delivery client uses when the guard is on.
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut reasons = Vec::new();
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| match refusal(addr.ip()) {
                    Some(what) => {
                        reasons.push(format!("{} ({what})", addr.ip()));
                        false
                    }
                    None => true,
                })
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(refused(&host, &reasons)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Checks a URL whose host is an IP literal (those never reach the resolver).
pub fn check_literal(url: &reqwest::Url) -> Result<(), Blocked> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        _ => return Ok(()),
    };
    match refusal(ip) {
        Some(what) => Err(refused(&ip.to_string(), &[format!("{ip} ({what})")])),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every special-purpose range, at its edges and inside, in every form
    /// that carries an IPv4 address.
    const REFUSED: [&str; 55] = [
        "0.0.0.0",
        "0.255.255.255",
        "10.0.0.1",
        "10.255.255.255",
        "100.64.0.1",
        "100.127.255.254",
        "127.0.0.1",
        "127.255.255.254",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.0.0.8",
        "192.0.0.170",
        "192.0.2.1",
        "192.88.99.1",
        "192.168.0.1",
        "192.168.255.255",
        "198.18.0.1",
        "198.19.255.255",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::127.0.0.1",
        "::10.0.0.1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::7f00:1",
        "64:ff9b::a00:1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::1",
        "100::1",
        "2001::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "2001:2::1",
        "2001:10::1",
        "2001:20::1",
        "2001:db8::1",
        "3fff::1",
        "5f00::1",
        "2002:7f00:1::1",
        "2002:a00:1::1",
        "2002:c0a8:101::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "febf::1",
        "fec0::1",
        "ff02::1",
        "ff0e::1",
    ];

    /// Public addresses next to those ranges, and public IPv4 inside NAT64,
    /// 6to4 and mapped forms.
    const ALLOWED: [&str; 18] = [
        "1.1.1.1",
        "8.8.8.8",
        "93.184.216.34",
        "100.63.255.255",
        "100.128.0.1",
        "172.15.255.255",
        "172.32.0.1",
        "192.0.1.1",
        "192.169.0.1",
        "198.17.255.255",
        "198.20.0.1",
        "223.255.255.255",
        "2606:4700::1111",
        "2a00:1450:4001:80b::200e",
        "64:ff9b::808:808",
        "2002:808:808::1",
        "::ffff:8.8.8.8",
        "2001:4860:4860::8888",
    ];

    #[test]
    fn every_range_of_the_tables_parses() {
        assert_eq!(V4_NETS.len(), V4.len());
        assert_eq!(V6_NETS.len(), V6.len());
    }

    #[test]
    fn refuses_every_special_purpose_address_and_allows_public_ones() {
        for address in REFUSED {
            let ip: IpAddr = address.parse().expect("ip");
            assert!(refusal(ip).is_some(), "{address} allowed");
        }
        for address in ALLOWED {
            let ip: IpAddr = address.parse().expect("ip");
            assert_eq!(refusal(ip), None, "{address} refused");
        }
    }

    #[test]
    fn the_tenant_facing_text_names_no_address() {
        let url = reqwest::Url::parse("http://10.1.2.3:8080/hook").expect("url");
        let text = check_literal(&url).expect_err("refused").to_string();
        assert_eq!(text, "destination address not allowed");
    }
}
