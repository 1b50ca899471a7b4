//! `identity-emulator [--listen 127.0.0.1:PORT]`: serves until stopped; prints its URL on stdout.

use std::net::SocketAddr;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let listen = args.iter().position(|a| a == "--listen").and_then(|i| args.get(i + 1)).cloned();
    let addr: SocketAddr = listen.unwrap_or_else(|| "127.0.0.1:0".into()).parse()?;
    let emulator = identity_emulator::IdentityEmulator::start(addr).await?;
    println!("{}", emulator.url);
    tokio::signal::ctrl_c().await?;
    Ok(())
}
