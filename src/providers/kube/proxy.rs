//! The proxy for a cluster's API server from the environment, as kubectl (Go's
//! `httpproxy.FromEnvironment`) picks it: `HTTPS_PROXY` for `https` servers (`HTTP_PROXY` for
//! `http`), either case, unless `NO_PROXY` names the server or the server is on this machine.
//! A kubeconfig's own `proxy-url` wins over the environment. ARM and Key Vault calls already
//! honour the same variables through azure_core's HTTP client.

use std::net::IpAddr;

use crate::providers::Environment;

/// Why an environment proxy cannot be used. Names the variable only: a proxy URL may carry a
/// user and password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{variable}` is not a proxy URL vaultwire can use")]
pub struct ProxyVariableError {
    pub variable: &'static str,
}

/// The proxy `env` sets for `server`, if any.
pub fn from_environment(
    env: &Environment,
    server: &http::Uri,
) -> Result<Option<http::Uri>, ProxyVariableError> {
    let host = server.host().unwrap_or_default();
    if is_this_machine(host) || bypassed(env, host, server.port_u16()) {
        return Ok(None);
    }
    let names: &[&'static str] = match server.scheme_str() {
        Some("http") => &["HTTP_PROXY", "http_proxy"],
        _ => &["HTTPS_PROXY", "https_proxy"],
    };
    let Some((variable, value)) = names
        .iter()
        .find_map(|name| Some((*name, env.get(name)?.trim())).filter(|(_, v)| !v.is_empty()))
    else {
        return Ok(None);
    };
    // Go takes `host:port` without a scheme as an HTTP proxy; so does kubectl.
    let url = if value.contains("://") {
        value.to_owned()
    } else {
        format!("http://{value}")
    };
    url.parse::<http::Uri>()
        .ok()
        .filter(|uri| uri.host().is_some())
        .map(Some)
        .ok_or(ProxyVariableError { variable })
}

/// `localhost` and loopback addresses are never proxied.
fn is_this_machine(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether `NO_PROXY` (or `no_proxy`) names `host`: `*`; the host or a parent domain
/// (`example.com` covers itself and `api.example.com`, `.example.com` only the latter); an
/// address or a CIDR block; each optionally with `:port`, which must then match too.
fn bypassed(env: &Environment, host: &str, port: Option<u16>) -> bool {
    let Some(list) = env.get("NO_PROXY").or_else(|| env.get("no_proxy")) else {
        return false;
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let address = host.parse::<IpAddr>().ok();
    list.split(',')
        .map(|entry| entry.trim().to_ascii_lowercase())
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let (name, wanted_port) = split_port(&entry);
            if wanted_port.is_some() && wanted_port != port {
                return false;
            }
            match (address, name.parse::<IpAddr>(), in_block(address, name)) {
                (Some(address), Ok(listed), _) => address == listed,
                (_, _, Some(inside)) => inside,
                // `.example.com` covers subdomains only, as in Go.
                _ if name.starts_with('.') => host.ends_with(name),
                _ => host == name || host.ends_with(&format!(".{name}")),
            }
        })
}

/// `entry` without a trailing `:port`, and the port (not for bare IPv6 addresses).
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((address, tail)) => (address, tail.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (entry, None),
        };
    }
    match entry.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => match port.parse() {
            Ok(port) => (name, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

/// Whether `address` is in the CIDR block `entry`; `None` when `entry` is not a block.
fn in_block(address: Option<IpAddr>, entry: &str) -> Option<bool> {
    let (network, bits) = entry.split_once('/')?;
    let network: IpAddr = network.parse().ok()?;
    let bits: u32 = bits.parse().ok()?;
    let Some(address) = address else {
        return Some(false);
    };
    let (address, network, width) = match (address, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u128::from(a.to_bits()), u128::from(n.to_bits()), 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (a.to_bits(), n.to_bits(), 128),
        _ => return Some(false),
    };
    if bits > width {
        return None;
    }
    let ignored = width - bits;
    Some(address.checked_shr(ignored).unwrap_or(0) == network.checked_shr(ignored).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy_for(vars: &[(&str, &str)], server: &str) -> Option<String> {
        let env = Environment::from_pairs(vars.iter().copied());
        from_environment(&env, &server.parse().unwrap())
            .unwrap()
            .map(|uri| uri.to_string())
    }

    const AKS: &str = "https://aks-demo-dns-4f1c.hcp.westeurope.azmk8s.io:443";

    #[test]
    fn https_servers_use_https_proxy_in_either_case_and_http_servers_http_proxy() {
        let https = [("HTTPS_PROXY", "http://proxy.corp:3128")];
        assert_eq!(
            proxy_for(&https, AKS).as_deref(),
            Some("http://proxy.corp:3128/")
        );
        let lower = [("https_proxy", "proxy.corp:3128")];
        assert_eq!(
            proxy_for(&lower, AKS).as_deref(),
            Some("http://proxy.corp:3128/")
        );
        assert_eq!(proxy_for(&https, "http://api.internal:8080"), None);
        let http = [("HTTP_PROXY", "http://plain.corp:80")];
        assert_eq!(
            proxy_for(&http, "http://api.internal:8080").as_deref(),
            Some("http://plain.corp:80/")
        );
        assert_eq!(proxy_for(&[], AKS), None);
    }

    #[test]
    fn no_proxy_and_this_machine_go_direct() {
        let with = |no_proxy: &str| {
            proxy_for(
                &[
                    ("HTTPS_PROXY", "http://proxy.corp:3128"),
                    ("NO_PROXY", no_proxy),
                ],
                AKS,
            )
            .is_none()
        };
        assert!(with("*"));
        assert!(with(".azmk8s.io"));
        assert!(
            !with(".aks-demo-dns-4f1c.hcp.westeurope.azmk8s.io"),
            "subdomains only"
        );
        assert!(with("example.com, azmk8s.io"));
        assert!(with("aks-demo-dns-4f1c.hcp.westeurope.azmk8s.io:443"));
        assert!(!with("aks-demo-dns-4f1c.hcp.westeurope.azmk8s.io:6443"));
        assert!(!with("s.io"), "a suffix must be a whole domain");
        assert!(!with(""));

        let proxied = |server: &str, no_proxy: &str| {
            proxy_for(
                &[
                    ("HTTPS_PROXY", "http://proxy.corp:3128"),
                    ("no_proxy", no_proxy),
                ],
                server,
            )
            .is_some()
        };
        assert!(!proxied("https://10.1.2.3:443", "10.0.0.0/8"));
        assert!(proxied("https://11.1.2.3:443", "10.0.0.0/8"));
        assert!(!proxied("https://10.1.2.3:443", "10.1.2.3"));
        assert!(!proxied("https://[fd00::5]:443", "fd00::/8"));
        assert!(!proxied("https://127.0.0.1:8443", ""));
        assert!(!proxied("https://localhost:8443", ""));
        assert!(!proxied("https://[::1]:8443", ""));
    }

    #[test]
    fn an_unusable_proxy_variable_is_named_without_its_value() {
        let env = Environment::from_pairs([("HTTPS_PROXY", "http://user:s3cret@/")]);
        let error = from_environment(&env, &AKS.parse().unwrap()).unwrap_err();
        assert_eq!(error.variable, "HTTPS_PROXY");
        assert!(!error.to_string().contains("s3cret"));
    }
}
