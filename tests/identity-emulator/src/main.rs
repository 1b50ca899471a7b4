//! `identity-emulator [--listen 127.0.0.1:PORT] [--tls-cert PEM --tls-key PEM --client-ca PEM]`:
//! serves until stopped (HTTPS requiring client certificates with the TLS flags); prints its URL.

use std::net::SocketAddr;

use identity_emulator::{IdentityEmulator, TlsFiles};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let addr: SocketAddr = flag("--listen").unwrap_or_else(|| "127.0.0.1:0".into()).parse()?;
    let emulator = match (flag("--tls-cert"), flag("--tls-key"), flag("--client-ca")) {
        (Some(cert), Some(key), Some(ca)) => {
            let files = TlsFiles {
                cert_pem: std::fs::read_to_string(cert)?,
                key_pem: std::fs::read_to_string(key)?,
                client_ca_pem: std::fs::read_to_string(ca)?,
            };
            IdentityEmulator::start_tls(addr, &files).await?
        }
        (None, None, None) => IdentityEmulator::start(addr).await?,
        _ => return Err("--tls-cert, --tls-key and --client-ca go together".into()),
    };
    println!("{}", emulator.url);
    tokio::signal::ctrl_c().await?;
    Ok(())
}
