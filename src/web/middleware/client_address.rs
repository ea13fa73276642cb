//! The client's network address: for sign-in throttling and for the evidence kept with a
//! recipient's opt-out.

use actix_web::HttpRequest;
use ipnet::IpNet;
use std::net::IpAddr;

use crate::config::Config;

/// The client's address: the socket's peer, unless the peer is one of the trusted proxies;
/// then the right-most `X-Forwarded-For` entry that is not a trusted proxy. Each proxy appends
/// the address it received from, so entries left of that one are whatever the client wrote
/// (rotating them must not rotate the address). `Forwarded` is not read: a proxy that sets
/// only `X-Forwarded-For` would pass a client's own `Forwarded` through untouched.
pub fn of(req: &HttpRequest, config: &Config) -> String {
    let Some(peer) = req.peer_addr().map(|addr| addr.ip()) else {
        return "unknown".to_owned();
    };
    forwarded_for(peer, forwarded_entries(req), &config.trusted_proxies).to_string()
}

/// Every `X-Forwarded-For` entry, in order, over all such headers.
fn forwarded_entries(req: &HttpRequest) -> Vec<String> {
    req.headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|entry| entry.trim().to_owned())
        .collect()
}

/// The rule of [`of`], on its inputs.
fn forwarded_for(peer: IpAddr, entries: Vec<String>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for entry in entries.iter().rev() {
        // A damaged entry is not an address anyone can be held to: stop at the last good one.
        let Ok(ip) = entry.parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// The User-Agent header, cut to a sane length for storage.
pub fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(300).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn entries(list: &[&str]) -> Vec<String> {
        list.iter().map(|e| (*e).to_owned()).collect()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let forged = entries(&["198.51.100.1"]);
        assert_eq!(
            forwarded_for(ip("203.0.113.9"), forged, &[]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_right_most_untrusted_entry_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // The client forged the left-most entry; the proxy appended what it saw.
        let header = entries(&["198.51.100.1", "203.0.113.9", "10.1.2.3"]);
        assert_eq!(
            forwarded_for(ip("10.0.0.2"), header, &trusted),
            ip("203.0.113.9")
        );
        // From an untrusted peer, the header is the client's own words.
        let header = entries(&["198.51.100.1"]);
        assert_eq!(
            forwarded_for(ip("203.0.113.9"), header, &trusted),
            ip("203.0.113.9")
        );
        // A damaged entry ends the walk at the last good one.
        let header = entries(&["not-an-ip", "10.1.2.3"]);
        assert_eq!(
            forwarded_for(ip("10.0.0.2"), header, &trusted),
            ip("10.1.2.3")
        );
        // No header: the proxy itself.
        assert_eq!(
            forwarded_for(ip("10.0.0.2"), Vec::new(), &trusted),
            ip("10.0.0.2")
        );
    }
}
