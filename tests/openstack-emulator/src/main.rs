//! `openstack-emulator [--listen 127.0.0.1:PORT] [--empty]`: serves the emulator, seeded with the
//! demo region unless `--empty`, and prints its URL on the first line of stdout.

use std::net::SocketAddr;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut listen: SocketAddr = "127.0.0.1:0".parse()?;
    let mut seed = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().ok_or("--listen needs an address")?.parse()?,
            "--empty" => seed = false,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let emulator = openstack_emulator::Emulator::start(listen).await?;
    if seed {
        emulator.seed_demo();
    }
    println!("{}", emulator.url);
    tokio::signal::ctrl_c().await?;
    Ok(())
}
