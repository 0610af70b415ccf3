//! What contacts the outside world, and only when asked: each network technology's
//! `is_running()` for the Running column (clan's `clan_lib/network/*`), and the TCP
//! reachability check of a connection candidate (`kith network resolve --check`, as
//! clan's ping: a TCP connect with a timeout, through Tor's SOCKS5 proxy for Tor).

use super::network::{Network, Running};
use super::resolve::{Candidate, VarState, IROH_MODULE};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Tor's SOCKS5 port (clan's `NetworkTechnology.proxy`).
pub const TOR_SOCKS_PORT: u16 = 9050;
/// ZeroTier's local API port.
pub const ZEROTIER_PORT: u16 = 9993;

/// A TCP connection to the first address of `host:port` that answers within `timeout`.
fn connect(host: &str, port: u16, timeout: Duration) -> std::io::Result<TcpStream> {
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                s.set_read_timeout(Some(timeout))?;
                s.set_write_timeout(Some(timeout))?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// clan's `tor_online_test`: a SOCKS5 greeting (no authentication) to
/// `127.0.0.1:port`, answered by `05 00`, within 2 s.
pub fn tor_running(port: u16) -> bool {
    let Ok(mut s) = connect("127.0.0.1", port, Duration::from_secs(2)) else {
        return false;
    };
    if s.write_all(&[5, 1, 0]).is_err() {
        return false;
    }
    let mut buf = [0u8; 2];
    matches!(s.read(&mut buf), Ok(2) if buf == [5, 0])
}

/// clan's `check_zerotier_running`: `GET http://localhost:9993/health` answers 2xx
/// (`Yes`) with JSON (else `Error`); no answer or another status is `No`.
pub fn zerotier_running(port: u16) -> Running {
    let Ok(mut s) = connect("localhost", port, Duration::from_secs(2)) else {
        return Running::No;
    };
    let req = format!("GET /health HTTP/1.0\r\nHost: localhost:{port}\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return Running::No;
    }
    let mut resp = Vec::new();
    if s.read_to_end(&mut resp).is_err() && resp.is_empty() {
        return Running::No;
    }
    let text = String::from_utf8_lossy(&resp);
    let status = text.split_whitespace().nth(1).unwrap_or("");
    if !status.starts_with('2') || status.len() != 3 {
        return Running::No;
    }
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(_) => Running::Yes,
        Err(_) => Running::Error,
    }
}

/// The Running column of a network on this machine: direct and p2p-ssh-iroh are always
/// running, Tor when its SOCKS5 proxy answers, ZeroTier when its local API does. A module
/// kith does not know is `Error` (clan cannot import it either).
pub fn local_running(network: &Network) -> Running {
    match network.module.as_str() {
        "clan_lib.network.direct" | IROH_MODULE => Running::Yes,
        "clan_lib.network.tor" => {
            if tor_running(TOR_SOCKS_PORT) {
                Running::Yes
            } else {
                Running::No
            }
        }
        "clan_lib.network.zerotier" => zerotier_running(ZEROTIER_PORT),
        _ => Running::Error,
    }
}

/// [`local_running`] asked once per module within one command.
pub fn memo_running() -> impl FnMut(&Network) -> Running {
    let mut seen: Vec<(String, Running)> = Vec::new();
    move |n: &Network| {
        if let Some((_, r)) = seen.iter().find(|(m, _)| *m == n.module) {
            return *r;
        }
        let r = local_running(n);
        seen.push((n.module.clone(), r));
        r
    }
}

/// What a reachability check of one candidate found.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// A TCP connection was made, in this time.
    Reachable(Duration),
    /// It could not be made: why.
    Unreachable(String),
    /// The candidate was not tried: why (a secret or missing var host, Tor not running).
    Skipped(String),
}

/// A SOCKS5 `CONNECT host:port` through the proxy at `127.0.0.1:proxy`.
fn socks5_connect(proxy: u16, host: &str, port: u16, timeout: Duration) -> Result<(), String> {
    let mut s = connect("127.0.0.1", proxy, timeout).map_err(|e| e.to_string())?;
    s.write_all(&[5, 1, 0]).map_err(|e| e.to_string())?;
    let mut buf = [0u8; 2];
    s.read_exact(&mut buf).map_err(|e| e.to_string())?;
    if buf != [5, 0] {
        return Err("the SOCKS5 proxy refused the greeting".into());
    }
    let name = host.as_bytes();
    let len = u8::try_from(name.len()).map_err(|_| "host name too long for SOCKS5".to_string())?;
    let mut req = vec![5, 1, 0, 3, len];
    req.extend_from_slice(name);
    req.extend_from_slice(&port.to_be_bytes());
    s.write_all(&req).map_err(|e| e.to_string())?;
    let mut reply = [0u8; 4];
    s.read_exact(&mut reply).map_err(|e| e.to_string())?;
    match reply[1] {
        0 => Ok(()),
        code => Err(format!("SOCKS5 proxy: connection failed (code {code})")),
    }
}

/// Tries a TCP connection to `candidate` within `timeout` (port 22 when it has none;
/// through Tor's SOCKS5 proxy for a Tor network). Hosts kith cannot know (secret or
/// missing vars) and p2p-ssh-iroh (reached through `dumbpipe`) are skipped.
pub fn check(candidate: &Candidate, timeout: Duration) -> Check {
    let Some(host) = &candidate.host else {
        let why = match candidate.var_state {
            Some(VarState::Secret) => "secret var: kith never decrypts it",
            Some(VarState::Binary) => "the var's value is not text",
            _ => "var not generated",
        };
        return Check::Skipped(why.into());
    };
    if candidate.module.as_deref() == Some(IROH_MODULE) {
        return Check::Skipped("p2p-ssh-iroh is reached through dumbpipe: not checked".into());
    }
    let port = match &candidate.port {
        serde_json::Value::Null => 22,
        p => match p.as_u64().and_then(|p| u16::try_from(p).ok()) {
            Some(p) => p,
            None => return Check::Skipped(format!("port {p} is not a TCP port")),
        },
    };
    let start = Instant::now();
    if candidate.module.as_deref() == Some("clan_lib.network.tor") {
        if !tor_running(TOR_SOCKS_PORT) {
            return Check::Skipped(format!(
                "Tor is not running (no SOCKS5 proxy on localhost:{TOR_SOCKS_PORT})"
            ));
        }
        return match socks5_connect(TOR_SOCKS_PORT, host, port, timeout) {
            Ok(()) => Check::Reachable(start.elapsed()),
            Err(e) => Check::Unreachable(e),
        };
    }
    match connect(host, port, timeout) {
        Ok(_) => Check::Reachable(start.elapsed()),
        Err(e) => Check::Unreachable(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::net::TcpListener;

    fn cand(host: Option<&str>, port: Value, module: &str) -> Candidate {
        Candidate {
            network: Some("n".into()),
            priority: Some(1),
            module: Some(module.into()),
            host: host.map(str::to_string),
            var: None,
            var_state: if host.is_none() {
                Some(VarState::Secret)
            } else {
                None
            },
            port,
            user: "root".into(),
            ssh_options: vec![],
        }
    }

    #[test]
    fn tcp_checks() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let c = cand(
            Some("127.0.0.1"),
            Value::from(port),
            "clan_lib.network.direct",
        );
        assert!(matches!(
            check(&c, Duration::from_secs(2)),
            Check::Reachable(_)
        ));
        drop(l);
        assert!(matches!(
            check(&c, Duration::from_secs(2)),
            Check::Unreachable(_)
        ));
        let secret = cand(None, Value::from(22), "clan_lib.network.tor");
        assert_eq!(
            check(&secret, Duration::from_secs(1)),
            Check::Skipped("secret var: kith never decrypts it".into())
        );
    }

    #[test]
    fn socks5_greeting() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut b = [0u8; 3];
            s.read_exact(&mut b).unwrap();
            assert_eq!(b, [5, 1, 0]);
            s.write_all(&[5, 0]).unwrap();
        });
        assert!(tor_running(port));
        t.join().unwrap();
        // Nothing listens there any more.
        assert!(!tor_running(port));
    }

    #[test]
    fn zerotier_health() {
        let serve = |reply: &'static str| {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = l.local_addr().unwrap().port();
            let t = std::thread::spawn(move || {
                let (mut s, _) = l.accept().unwrap();
                let mut b = [0u8; 256];
                let _ = s.read(&mut b);
                s.write_all(reply.as_bytes()).unwrap();
            });
            (port, t)
        };
        let (p, t) = serve("HTTP/1.0 200 OK\r\n\r\n{\"online\":true}");
        assert_eq!(zerotier_running(p), Running::Yes);
        t.join().unwrap();
        let (p, t) = serve("HTTP/1.0 401 Unauthorized\r\n\r\n");
        assert_eq!(zerotier_running(p), Running::No);
        t.join().unwrap();
    }
}
