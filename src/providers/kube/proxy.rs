//! The proxy for a cluster's API server from the environment, as kubectl (Go's
//! `httpproxy.FromEnvironment`) picks it: `HTTPS_PROXY` for `https` servers (`HTTP_PROXY` for
//! `http`), either case, unless `NO_PROXY` names the server or the server is on this machine.
//! A kubeconfig's own `proxy-url` wins over the environment. ARM and Key Vault calls already
//! honour the same variables through azure_core's HTTP client.
//!
//! `NO_PROXY` is matched by hyper-util's proxy matcher, fed from our [`Environment`] (never the
//! process's). The matcher follows curl's rules; the few places Go's differ are translated
//! for the one server asked about (`for_matcher`).

use std::net::IpAddr;

use hyper_util::client::proxy::matcher::Matcher;

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
    // The sandbox listens on 127.0.0.1: a proxy could not reach it, NO_PROXY or not.
    if is_this_machine(host) {
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
    // Go takes `host:port` without a scheme as an HTTP proxy; so does kubectl. The URL is
    // handed on whole: kube reads the proxy's user and password from it, where the matcher
    // would have moved them into a header.
    let url = if value.contains("://") {
        value.to_owned()
    } else {
        format!("http://{value}")
    };
    let url = url
        .parse::<http::Uri>()
        .ok()
        .filter(|uri| uri.host().is_some())
        .ok_or(ProxyVariableError { variable })?;
    let no_proxy = env.get("NO_PROXY").or_else(|| env.get("no_proxy"));
    let proxied = |no_proxy: &str| {
        Matcher::builder()
            .all(url.to_string())
            .no(no_proxy)
            .build()
            .intercept(server)
            .is_some()
    };
    // The matcher drops a proxy it cannot use (an `ftp://` one) without a word; name it instead.
    if !proxied("") {
        return Err(ProxyVariableError { variable });
    }
    let no_proxy = for_matcher(no_proxy.unwrap_or_default(), host, server.port_u16());
    Ok(proxied(&no_proxy).then_some(url))
}

/// `localhost` and loopback addresses are never proxied.
fn is_this_machine(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `NO_PROXY` as Go reads it, rewritten into curl's rules (the matcher's) for the server `host`
/// and `port`. Where they differ: Go allows `:port` on an entry, so an entry for another port
/// is left out and the rest lose theirs; Go's `.example.com` covers subdomains only, so one
/// naming `host` itself is left out; Go's `*` covers addresses too.
fn for_matcher(list: &str, host: &str, port: Option<u16>) -> String {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let mut kept = Vec::new();
    for entry in list
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
    {
        if entry == "*" {
            return "*, 0.0.0.0/0, ::/0".to_owned();
        }
        let (name, wanted_port) = split_port(entry);
        if wanted_port.is_some() && wanted_port != port {
            continue;
        }
        if name
            .strip_prefix('.')
            .is_some_and(|domain| domain.eq_ignore_ascii_case(host))
        {
            continue;
        }
        kept.push(name);
    }
    kept.join(",")
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

    #[test]
    fn what_the_matcher_would_change_stays_as_kubectl_has_it() {
        let star = [("HTTPS_PROXY", "http://proxy.corp:3128"), ("NO_PROXY", "*")];
        assert_eq!(
            proxy_for(&star, "https://10.1.2.3:443"),
            None,
            "`*` covers addresses"
        );
        let bracketed = [
            ("HTTPS_PROXY", "http://proxy.corp:3128"),
            ("NO_PROXY", "[fd00::5]:443"),
        ];
        assert_eq!(proxy_for(&bracketed, "https://[fd00::5]:443"), None);
        let with_login = [("HTTPS_PROXY", "http://user:pa%40ss@proxy.corp:3128")];
        assert_eq!(
            proxy_for(&with_login, AKS).as_deref(),
            Some("http://user:pa%40ss@proxy.corp:3128/"),
            "kube reads the proxy's login from the URL"
        );
        let ftp = Environment::from_pairs([("https_proxy", "ftp://proxy.corp:21")]);
        let error = from_environment(&ftp, &AKS.parse().unwrap()).unwrap_err();
        assert_eq!(error.variable, "https_proxy", "named, not silently skipped");
    }
}
