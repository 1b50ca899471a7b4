//! The local DynamoDB under a day of use: moto's resident memory and transaction latency after many
//! transactions on a table of 10,000 items, with the project's launcher (only the items a
//! transaction writes are copied for its rollback) beside moto's own behaviour (the whole table
//! copied for every transaction, `MOTO_FULL_TABLE_COPY=1`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, Put, ScalarAttributeType, TransactWriteItem,
};
use integration_tests::calls::bulk_load;
use shared::store::dynamodb::items::{s, Item};

use crate::stats::{median, ms, p99};

struct Moto {
    child: Child,
    client: aws_sdk_dynamodb::Client,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    async fn start(full_copy: bool) -> Moto {
        let root = integration_tests::repo_root();
        let mut child = Command::new(root.join(".venv/bin/python"))
            .arg(root.join("scripts/moto_server.py"))
            .arg("0")
            .env("MOTO_FULL_TABLE_COPY", if full_copy { "1" } else { "0" })
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("moto: {e}"));
        let mut url = String::new();
        if let Some(out) = child.stdout.take() {
            BufReader::new(out).read_line(&mut url).unwrap_or_else(|e| panic!("moto: {e}"));
        }
        // moto's own path can take seconds per transaction on a big table: no attempt is cut short
        // (a re-sent transaction would find its own writes and fail).
        let timeouts = aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
            .operation_timeout(Duration::from_secs(120))
            .operation_attempt_timeout(Duration::from_secs(120))
            .build();
        let config = integration_tests::stack::moto_client()
            .config()
            .to_builder()
            .endpoint_url(url.trim())
            .timeout_config(timeouts)
            .build();
        Moto { child, client: aws_sdk_dynamodb::Client::from_conf(config) }
    }

    /// Resident memory, MiB (Linux `/proc`).
    fn resident_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        kib / 1024.0
    }

    async fn table_of(&self, items: usize) {
        let key = |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
        let attr = |name: &str| {
            AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build()
        };
        self.client
            .create_table()
            .table_name("t")
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("PK", KeyType::Hash).unwrap_or_else(|e| panic!("{e}")))
            .key_schema(key("SK", KeyType::Range).unwrap_or_else(|e| panic!("{e}")))
            .attribute_definitions(attr("PK").unwrap_or_else(|e| panic!("{e}")))
            .attribute_definitions(attr("SK").unwrap_or_else(|e| panic!("{e}")))
            .send()
            .await
            .unwrap_or_else(|e| panic!("create table: {e}"));
        let rows: Vec<Item> = (0..items).map(|i| row(&format!("seed-{i}"), i)).collect();
        bulk_load(&self.client, "t", &rows).await;
    }

    /// One transaction as a create writes it: a record and its name claim, each conditional.
    async fn transaction(&self, n: usize) -> Duration {
        let put = |item: Item| {
            let put = Put::builder()
                .table_name("t")
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(PK)")
                .build()
                .unwrap_or_else(|e| panic!("{e}"));
            TransactWriteItem::builder().put(put).build()
        };
        let started = Instant::now();
        self.client
            .transact_write_items()
            .transact_items(put(row(&format!("tx-{n}"), n)))
            .transact_items(put(row(&format!("claim-{n}"), n)))
            .send()
            .await
            .unwrap_or_else(|e| panic!("transaction {n}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)));
        started.elapsed()
    }
}

fn row(pk: &str, i: usize) -> Item {
    Item::from([
        ("PK".to_owned(), s(pk)),
        ("SK".to_owned(), s("SERVER")),
        ("doc".to_owned(), s(format!("{{\"name\": \"server-{i}\", \"padding\": \"{}\"}}", "x".repeat(400)))),
    ])
}

/// `transactions` transactions on a fresh moto holding `items` items: the latency of the first and
/// last thousand, and the resident memory before and after.
async fn measure(full_copy: bool, items: usize, transactions: usize) -> String {
    let moto = Moto::start(full_copy).await;
    moto.table_of(items).await;
    let before = moto.resident_mib();
    let mut times = Vec::with_capacity(transactions);
    for n in 0..transactions {
        times.push(moto.transaction(n).await);
    }
    let window = 1000.min(transactions);
    let (first, last) = (&times[..window], &times[transactions - window..]);
    format!(
        "| {} | {transactions} | {:.2} | {:.2} | {:.2} | {:.2} | {before:.0} | {:.0} |\n",
        if full_copy { "moto's own (whole table copied)" } else { "project launcher (items copied)" },
        ms(median(first)),
        ms(p99(first)),
        ms(median(last)),
        ms(p99(last)),
        moto.resident_mib()
    )
}

pub async fn section(sizes: &crate::sizes::Sizes) -> String {
    let (items, transactions, full_copy_transactions) =
        (sizes.moto_items, sizes.moto_transactions, sizes.moto_full_copy);
    let mut out = format!(
        "## Local DynamoDB (moto) under load: {items} items, then conditional two-item transactions\n\n\
         | moto | transactions | first 1,000 (or all) median ms | p99 ms | last 1,000 (or all) median ms | p99 ms | RSS before MiB | RSS after MiB |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    );
    out += &measure(false, items, transactions).await;
    out += &measure(true, items, full_copy_transactions).await;
    out + "\n"
}
