//! The rate limit of public contributions: one token bucket per client, kept in the store so
//! that every instance of the service counts against the same allowance.
//!
//! IPv6 clients are keyed by their /64 network, which one subscriber usually holds whole.

use std::net::{IpAddr, Ipv6Addr};

/// The bucket key of a client address: the address itself for IPv4 (and IPv4-mapped IPv6),
/// its /64 network for IPv6.
#[must_use]
pub fn client_key(client: IpAddr) -> String {
    match client {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("contrib:{v4}"),
            None => {
                let s = v6.segments();
                let net = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("contrib:{net}/64")
            }
        },
        IpAddr::V4(v4) => format!("contrib:{v4}"),
    }
}

#[cfg(test)]
mod tests {
    use super::client_key;
    use std::net::IpAddr;

    fn key(s: &str) -> String {
        client_key(s.parse::<IpAddr>().expect("ip"))
    }

    #[test]
    fn ipv6_clients_share_their_64_network() {
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2::ffff"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("2001:db8:1:2::1"), "contrib:2001:db8:1:2::/64");
    }

    #[test]
    fn ipv4_clients_are_keyed_by_address_even_when_mapped() {
        assert_eq!(key("192.0.2.1"), "contrib:192.0.2.1");
        assert_eq!(key("::ffff:192.0.2.1"), "contrib:192.0.2.1");
        assert_ne!(key("192.0.2.1"), key("192.0.2.2"));
    }
}
