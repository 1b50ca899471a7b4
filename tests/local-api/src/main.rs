//! `local-api serve [--listen 127.0.0.1:PORT] [--ingress-certificates]`: the whole API on loopback.
//! Reads the same environment as the functions (TABLE_NAME, DYNAMODB_ENDPOINT, REGIONS[_FILE],
//! SECRETS_ENDPOINT) and the authorizer (IDENTITY_URL, IDENTITY_*). With
//! `--ingress-certificates` it takes verified client certificates from `Ssl-Client-Cert` /
//! `Ssl-Client-Verify`, as Unikorn's ingress passes them. Prints its URL on stdout.
//!
//! `local-api token --acl FILE [--sub NAME]`: registers a token with the identity emulator at
//! IDENTITY_URL and prints it.
//!
//! `local-api events --endpoint URL --bus NAME --queue NAME`: creates the event bus in moto, an SQS
//! queue and a rule sending every server event to it; prints the queue's URL.
//!
//! `local-api secret --endpoint URL --name NAME`: stores stdin as the Secrets Manager secret NAME
//! (moto's, at URL): a region's credential, as a deployer stores it, without putting it on a
//! command line.
//!
//! `local-api queue --endpoint URL --name NAME`: creates the worker's queue in moto; prints its URL.
//!
//! `local-api cleanup`: runs one pass of the cleanup function against the same environment (what
//! the schedule does every minute in AWS) and prints its report as JSON.

use std::net::SocketAddr;
use std::sync::Arc;

type Fallible<T> = Result<T, Box<dyn std::error::Error>>;

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

#[tokio::main]
async fn main() -> Fallible<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(&args).await,
        Some("cleanup") => {
            shared::telemetry::init();
            // The scheduled function's own wiring and pass, with a minute's budget as deployed.
            let deps = cleanup::deps().await?;
            let report = cleanup::run(&deps, std::time::Duration::from_secs(60), chrono::Utc::now()).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Some("events") => {
            // The bus, a rule sending every event of ours to an SQS queue; prints the queue's URL.
            let endpoint = flag(&args, "--endpoint").ok_or("--endpoint URL is required")?;
            let bus = flag(&args, "--bus").ok_or("--bus NAME is required")?;
            let queue = flag(&args, "--queue").ok_or("--queue NAME is required")?;
            let sdk = shared::aws::Sdk::from_env()?;
            let url = local_api::events::ensure_bus_to_queue(&sdk, &endpoint, &bus, &queue).await.map_err(|e| e.to_string())?;
            println!("{url}");
            Ok(())
        }
        Some("queue") => {
            let endpoint = flag(&args, "--endpoint").ok_or("--endpoint URL is required")?;
            let name = flag(&args, "--name").ok_or("--name NAME is required")?;
            // The work queue's URL, then its dead-letter queue's.
            let queues = local_api::work::ensure_queue(&endpoint, &name).await?;
            println!("{}\n{}", queues.work, queues.dead_letters);
            Ok(())
        }
        Some("secret") => {
            let endpoint = flag(&args, "--endpoint").ok_or("--endpoint URL is required")?;
            let name = flag(&args, "--name").ok_or("--name NAME is required")?;
            let mut value = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut value)?;
            let client = shared::aws::Sdk::from_env()?.secrets_manager(Some(&endpoint));
            local_api::secrets::put(&client, &name, value.trim()).await?;
            Ok(())
        }
        Some("token") => {
            let path = flag(&args, "--acl").ok_or("--acl FILE is required")?;
            let acl: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
            let sub = flag(&args, "--sub").filter(|s| !s.is_empty()).unwrap_or_else(|| "local-user".into());
            let identity = std::env::var("IDENTITY_URL").map_err(|_| "IDENTITY_URL is not set")?;
            println!("{}", local_api::token::register(&identity, &sub, &acl).await?);
            Ok(())
        }
        _ => {
            Err("usage: local-api serve [--listen ADDR] | local-api cleanup | local-api secret --endpoint URL --name NAME | local-api events --endpoint URL --bus NAME --queue NAME | local-api token --acl FILE [--sub NAME]"
                .into())
        }
    }
}

async fn serve(args: &[String]) -> Fallible<()> {
    shared::telemetry::init();
    let listen: SocketAddr = flag(args, "--listen").unwrap_or_else(|| "127.0.0.1:0".into()).parse()?;
    let deps = shared::context::cloud_deps(shared::context::Needs {
        keys: shared::context::Keys::Sealing,
        warm_provider: false,
        kubeconfigs: true,
    })
    .await?;
    let table = std::env::var("TABLE_NAME")?;
    let client = shared::aws::Sdk::from_env()?.dynamodb(std::env::var("DYNAMODB_ENDPOINT").ok().as_deref());
    local_api::ensure_table(&client, &table).await?;
    let authenticator = shared::context::authenticator_from_env(&shared::aws::Sdk::from_env()?).await?;
    let gateway = local_api::Gateway {
        authenticator: Arc::new(authenticator),
        ingress_certificates: args.iter().any(|a| a == "--ingress-certificates"),
    };
    // The worker's queue in moto (WORK_QUEUE_URL, SQS_ENDPOINT), worked in this process as the
    // worker Lambda's event source does in AWS.
    if let (Ok(work), Ok(endpoint)) = (std::env::var("WORK_QUEUE_URL"), std::env::var("SQS_ENDPOINT")) {
        let dead_letters = std::env::var("WORK_DEAD_LETTER_QUEUE_URL").unwrap_or_default();
        local_api::work::start(deps.clone(), &endpoint, local_api::work::Queues { work, dead_letters });
    }
    let api = local_api::start(deps, gateway, listen).await?;
    println!("{}", api.url);
    tokio::signal::ctrl_c().await?;
    Ok(())
}
