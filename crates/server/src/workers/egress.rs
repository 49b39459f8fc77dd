//! Where deliveries may go: webhook addresses are typed by people, so unless the server allows
//! private webhooks, a delivery never reaches a loopback, private, link-local or otherwise
//! internal address — neither by an IP in the URL nor by a name that resolves to one (checked
//! at connection time, so a name cannot be pointed inward after it was saved).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => {
                let first = v6.segments()[0];
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80
                    || v6 == Ipv6Addr::UNSPECIFIED)
            }
        },
    }
}

fn is_public_v4(v4: Ipv4Addr) -> bool {
    let [a, b, ..] = v4.octets();
    !(v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_documentation()
        || v4.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (18..20).contains(&b)))
}

/// Refuses a URL whose host is a literal internal address (names are checked on connection).
pub fn check_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    let internal = match parsed.host_str() {
        Some(host) => {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            match bare.parse::<IpAddr>() {
                Ok(ip) => !is_public(ip),
                Err(_) => {
                    let lower = bare.to_ascii_lowercase();
                    lower == "localhost" || lower.ends_with(".localhost")
                }
            }
        }
        None => true,
    };
    if internal {
        return Err(format!(
            "{url} is an internal address; start the server with --allow-private-webhooks to send there"
        ));
    }
    Ok(())
}

/// A resolver that answers only public addresses.
#[derive(Debug, Default)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused() {
        for url in [
            "http://127.0.0.1:8080/x",
            "http://10.1.2.3/x",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/x",
            "http://[fd00::1]/x",
            "http://localhost:9000/x",
            "http://100.64.0.1/x",
        ] {
            assert!(check_url(url).is_err(), "{url}");
        }
        assert!(check_url("https://hooks.slack.com/services/x").is_ok());
        assert!(check_url("http://93.184.216.34/x").is_ok());
    }
}
